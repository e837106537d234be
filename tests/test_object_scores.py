"""vgen.evaluators.object_scores on a hand-built clip: a 4x4 square on a flat background."""

import math

import numpy as np

from vgen.evaluators import object_scores

R, GREY, WHITE = 32, 0.2, 1.0


def square_clip(rows, cols):
    """truth [1, T, R, R, 3], mask [1, T, R, R, 1], background [1, T, R, R, 3]: a 4x4 white
    square with top-left corner (rows[t], cols[t]) in frame t."""
    T = len(rows)
    background = np.full((1, T, R, R, 3), GREY, np.float32)
    mask = np.zeros((1, T, R, R, 1), np.float32)
    for t, (r, c) in enumerate(zip(rows, cols, strict=True)):
        mask[0, t, r : r + 4, c : c + 4] = 1.0
    truth = mask * WHITE + (1 - mask) * background
    return truth, mask, background


def test_scores_by_hand():
    truth, mask, background = square_clip(rows=[10, 10], cols=[10, 14])
    shifted, _, _ = square_clip(rows=[12, 10], cols=[10, 14])  # frame 0 two pixels low
    predictions = np.stack([truth, background, shifted])  # [3, 1, T, R, R, 3]
    out = object_scores.scores(predictions, mask, background, truth, dilation=2, threshold=0.15)
    out = {k: np.asarray(v)[:, 0] for k, v in out.items()}  # [3 predictions, T]

    # The truth itself: perfect inside the region, found at the right place.
    np.testing.assert_allclose(out["object_psnr"][0], 100.0)
    np.testing.assert_allclose(out["object_ssim"][0], 1.0, atol=1e-6)
    np.testing.assert_allclose(out["position_error"][0], 0.0, atol=1e-5)
    np.testing.assert_array_equal(out["object_found"][0], 1.0)

    # The background: wrong by 0.8 on the 16 object pixels of the 8x8 = 64-pixel region
    # (dilated by 2); the object is not found, which scores the frame diagonal.
    sixteen_pixels_wrong = 10 * np.log10(64 / (16 * 0.8**2))
    np.testing.assert_allclose(out["object_psnr"][1], sixteen_pixels_wrong, rtol=1e-5)
    np.testing.assert_allclose(out["position_error"][1], math.hypot(R, R))
    np.testing.assert_array_equal(out["object_found"][1], 0.0)
    assert (out["object_ssim"][1] < 0.5).all()

    # Two pixels low in frame 0: half the square misses (8 + 8 pixels wrong, all inside the
    # 64-pixel region), the position is off by exactly 2; frame 1 is exact.
    np.testing.assert_allclose(
        out["object_psnr"][2, 0], 10 * np.log10(64 / (16 * 0.8**2)), rtol=1e-5
    )
    np.testing.assert_allclose(out["position_error"][2], [2.0, 0.0], atol=1e-5)


def test_region_is_dilated_binary_coverage():
    mask = np.zeros((1, 8, 8, 1), np.float32)
    mask[0, 3, 3] = 0.3  # partial coverage (anti-aliased edge) counts
    region = np.asarray(object_scores.region(mask, 1))[0, ..., 0]
    expected = np.zeros((8, 8))
    expected[2:5, 2:5] = 1.0
    np.testing.assert_array_equal(region, expected)


def test_true_positions_are_the_coverage_centroid():
    _, mask, _ = square_clip(rows=[10], cols=[3])
    np.testing.assert_allclose(object_scores.true_positions(mask)[0, 0], [11.5, 4.5], atol=1e-6)
