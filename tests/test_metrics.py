"""Tests for vgen.metrics: PSNR and SSIM against NumPy / scikit-image references."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vgen.metrics import dilate, masked_psnr, masked_ssim, object_centroid, psnr, ssim

ATOL = 1e-4


def _sk_ssim(a: np.ndarray, b: np.ndarray) -> float:
    return structural_similarity(
        a,
        b,
        data_range=1.0,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )


def _random_pair(rng, shape):
    a = rng.random(shape).astype(np.float32)
    b = np.clip(a + 0.2 * rng.standard_normal(shape), 0, 1).astype(np.float32)
    return a, b


def _structured_pair(rng, shape):
    """Smooth gradients / blobs plus noise: non-trivial local statistics."""
    *lead, h, w, c = shape
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    base = np.empty(shape, np.float32)
    flat = base.reshape(-1, h, w, c)
    for i in range(flat.shape[0]):
        for ch in range(c):
            fx, fy, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6)
            flat[i, :, :, ch] = 0.5 + 0.3 * np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)
            flat[i, :, :, ch] += 0.2 * (xx - yy)
    a = np.clip(base + 0.02 * rng.standard_normal(shape), 0, 1).astype(np.float32)
    b = np.clip(base + 0.08 * rng.standard_normal(shape), 0, 1).astype(np.float32)
    return a, b


# --------------------------------------------------------------------------------- PSNR


def test_psnr_matches_numpy_and_skimage():
    rng = np.random.default_rng(0)
    a, b = _random_pair(rng, (2, 3, 16, 20, 3))
    got = np.asarray(psnr(a, b))
    chex.assert_shape(got, (2, 3))
    mse = np.mean((a.astype(np.float64) - b) ** 2, axis=(-3, -2, -1))
    np.testing.assert_allclose(got, 10 * np.log10(1.0 / mse), atol=1e-3)
    for i in range(2):
        for t in range(3):
            ref = peak_signal_noise_ratio(a[i, t], b[i, t], data_range=1.0)
            np.testing.assert_allclose(got[i, t], ref, atol=1e-3)


def test_psnr_max_value():
    rng = np.random.default_rng(1)
    a, b = _random_pair(rng, (8, 8, 1))
    np.testing.assert_allclose(
        float(psnr(255 * a, 255 * b, max_value=255.0)), float(psnr(a, b)), atol=1e-3
    )


def test_psnr_identical_is_finite_and_large():
    a = np.random.default_rng(2).random((4, 12, 12, 3)).astype(np.float32)
    got = np.asarray(psnr(a, a))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, 100.0, atol=1e-3)


def test_psnr_symmetric_jit_vmap():
    rng = np.random.default_rng(3)
    a, b = _random_pair(rng, (5, 10, 10, 3))
    chex.assert_trees_all_close(psnr(a, b), psnr(b, a))
    chex.assert_trees_all_close(jax.jit(psnr)(a, b), psnr(a, b), atol=1e-5)
    chex.assert_trees_all_close(jax.vmap(psnr)(a, b), psnr(a, b), atol=1e-5)


def test_psnr_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shapes"):
        psnr(jnp.zeros((4, 4, 3)), jnp.zeros((4, 5, 3)))
    with pytest.raises(ValueError, match="broadcast"):
        psnr(jnp.zeros((2, 4, 4, 3)), jnp.zeros((3, 4, 4, 3)))


def test_leading_axes_broadcast():
    rng = np.random.default_rng(0)
    samples = jnp.asarray(rng.uniform(size=(3, 2, 16, 16, 1)), jnp.float32)
    truth = jnp.asarray(rng.uniform(size=(2, 16, 16, 1)), jnp.float32)
    for metric in (psnr, ssim):
        got = metric(samples, truth[None])
        want = jnp.stack([metric(s, truth) for s in samples])
        chex.assert_trees_all_close(got, want, atol=1e-6)


# --------------------------------------------------------------------------------- SSIM


@pytest.mark.parametrize("make_pair", [_random_pair, _structured_pair], ids=["random", "struct"])
@pytest.mark.parametrize("hw", [(32, 32), (33, 40), (64, 64), (11, 11)])
@pytest.mark.parametrize("c", [1, 3])
def test_ssim_matches_skimage(make_pair, hw, c):
    rng = np.random.default_rng(hash((hw, c)) % 2**32)
    a, b = make_pair(rng, (2, *hw, c))
    got = np.asarray(ssim(a, b))
    chex.assert_shape(got, (2,))
    ref = np.array([_sk_ssim(a[i], b[i]) for i in range(2)])
    np.testing.assert_allclose(got, ref, atol=ATOL, rtol=0)


def test_ssim_leading_dims_per_frame():
    rng = np.random.default_rng(4)
    a, b = _structured_pair(rng, (2, 3, 24, 28, 3))
    got = np.asarray(ssim(a, b))
    chex.assert_shape(got, (2, 3))
    ref = np.array([[_sk_ssim(a[i, t], b[i, t]) for t in range(3)] for i in range(2)])
    np.testing.assert_allclose(got, ref, atol=ATOL, rtol=0)
    # A single frame gives a scalar.
    chex.assert_shape(ssim(a[0, 0], b[0, 0]), ())


def test_ssim_identical_is_one():
    a = np.random.default_rng(5).random((3, 20, 20, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(ssim(a, a)), 1.0, atol=1e-6)


def test_ssim_symmetric():
    rng = np.random.default_rng(6)
    a, b = _structured_pair(rng, (4, 16, 16, 3))
    chex.assert_trees_all_close(ssim(a, b), ssim(b, a), atol=1e-6)


def test_ssim_jit_and_vmap():
    rng = np.random.default_rng(7)
    a, b = _random_pair(rng, (2, 3, 16, 16, 3))
    eager = ssim(a, b)
    chex.assert_trees_all_close(jax.jit(ssim)(a, b), eager, atol=1e-6)
    chex.assert_trees_all_close(jax.vmap(ssim)(a, b), eager, atol=1e-6)
    chex.assert_trees_all_close(jax.vmap(jax.vmap(ssim))(a, b), eager, atol=1e-6)
    assert jax.jit(ssim)(jnp.asarray(a), jnp.asarray(b)).dtype == jnp.float32


def test_ssim_max_value():
    rng = np.random.default_rng(8)
    a, b = _random_pair(rng, (16, 16, 3))
    np.testing.assert_allclose(
        float(ssim(255 * a, 255 * b, max_value=255.0)), float(ssim(a, b)), atol=1e-4
    )


@pytest.mark.parametrize("shape", [(10, 32, 3), (32, 10, 1), (5, 5, 3)])
def test_ssim_too_small_raises(shape):
    x = jnp.zeros(shape)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(x, x)
    with pytest.raises(ValueError, match="at least 11x11"):
        jax.jit(ssim)(x, x)


def test_ssim_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shapes"):
        ssim(jnp.zeros((16, 16, 3)), jnp.zeros((16, 16, 1)))


# ----------------------------------------------------------------------------- region scores


def test_masked_psnr_by_hand():
    a = np.zeros((2, 4, 4, 3), np.float32)
    b = a.copy()
    b[0, 0, 0] = 0.5  # one pixel off by 0.5 in every channel, inside the region
    b[0, 3, 3] = 1.0  # outside the region: ignored
    mask = np.zeros((2, 4, 4, 1), np.float32)
    mask[:, :2, :2] = 1.0  # 4 pixels
    out = np.asarray(masked_psnr(b, a, mask))
    np.testing.assert_allclose(out[0], 10 * np.log10(1 / (0.25 / 4)), rtol=1e-6)
    np.testing.assert_allclose(out[1], 100.0)  # identical inside the region
    # Weights: the whole frame with weight 1 is the plain PSNR.
    np.testing.assert_allclose(masked_psnr(b, a, np.ones_like(mask)), psnr(b, a), rtol=1e-6)


def test_masked_ssim_is_the_mean_of_skimages_full_map():
    rng = np.random.default_rng(0)
    a, b = _structured_pair(rng, (16, 20, 3))
    mask = (rng.random((16, 20, 1)) < 0.3).astype(np.float32)
    mask[0, 0] = mask[15, 19] = 1.0  # corners: the padded border of the map counts too
    _, full = structural_similarity(
        a,
        b,
        data_range=1.0,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    expected = (full.mean(-1) * mask[..., 0]).sum() / mask.sum()
    np.testing.assert_allclose(masked_ssim(a, b, mask), expected, atol=ATOL)
    np.testing.assert_allclose(masked_ssim(a, a, mask), 1.0, atol=1e-5)


def test_region_scores_reject_a_mask_without_a_channel_axis():
    a = np.zeros((16, 16, 3), np.float32)
    with pytest.raises(ValueError, match=r"\[\.\.\., H, W, 1\]"):
        masked_psnr(a, a, np.ones((16, 16)))
    with pytest.raises(ValueError, match=r"\[\.\.\., H, W, 1\]"):
        masked_ssim(a, a, np.ones((16, 16, 3)))


def test_dilate_grows_by_the_radius():
    mask = np.zeros((1, 9, 9, 1), np.float32)
    mask[0, 4, 4] = 1.0
    grown = np.asarray(dilate(mask, 2))[0, ..., 0]
    expected = np.zeros((9, 9))
    expected[2:7, 2:7] = 1.0  # Chebyshev distance <= 2
    np.testing.assert_array_equal(grown, expected)
    np.testing.assert_array_equal(dilate(mask, 0), mask)
    with pytest.raises(ValueError, match="radius"):
        dilate(mask, -1)


def test_object_centroid_by_hand():
    background = np.full((2, 8, 8, 3), 0.2, np.float32)
    frames = background.copy()
    frames[0, 2:4, 5:7] = 0.9  # a 2x2 object: centre (2.5, 5.5)
    frames[0, 7, 0] = 0.25  # a small difference under the threshold: ignored
    position, found = object_centroid(frames, background, 0.1)
    np.testing.assert_allclose(position[0], [2.5, 5.5], atol=1e-6)
    assert bool(found[0]) and not bool(found[1])  # frame 1 is the background: nothing found
    # The mass weights the centroid: a brighter right column pulls it right.
    frames[0, 2:4, 6] = 1.0
    position, _ = object_centroid(frames, background, 0.1)
    np.testing.assert_allclose(position[0, 1], 5 + 0.8 / (0.7 + 0.8), atol=1e-6)


def test_psnr_per_channel_by_hand():
    """Constant errors 0.1, 0.2, 0.3 in R, G, B: SRVP's PSNR averages 20, 13.98 and 10.46 dB;
    the pooled PSNR takes the mean squared error 0.14 / 3 first."""
    a = np.zeros((2, 4, 4, 3), np.float32)
    b = a + np.array([0.1, 0.2, 0.3], np.float32)
    per_channel = np.mean([10 * np.log10(1 / e**2) for e in (0.1, 0.2, 0.3)])
    pooled = 10 * np.log10(1 / (0.14 / 3))
    np.testing.assert_allclose(psnr(a, b, per_channel=True), [per_channel] * 2, rtol=1e-5)
    np.testing.assert_allclose(psnr(a, b), [pooled] * 2, rtol=1e-5)
    gray = b[..., :1]
    np.testing.assert_allclose(psnr(a[..., :1], gray, per_channel=True), [20.0] * 2)
