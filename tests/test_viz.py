"""Tests for vgen.viz: grid / filmstrip layouts and atomic GIF / PNG / plot writers."""

import os

import chex
import numpy as np
import pytest
from PIL import Image

from vgen import viz


def _clips(n, t, h, w, c, seed=0):
    return np.random.default_rng(seed).random((n, t, h, w, c)).astype(np.float32)


# ----------------------------------------------------------------------------- video_grid


@pytest.mark.parametrize("c", [1, 3])
def test_video_grid_shape_dtype(c):
    gt, sm = _clips(4, 5, 8, 10, c), _clips(4, 5, 8, 10, c, seed=1)
    grid = viz.video_grid([gt, sm], pad=2)
    chex.assert_shape(grid, (5, 2 * 8 + 3 * 2, 4 * 10 + 5 * 2, 3))
    assert grid.dtype == np.uint8


def test_video_grid_layout_and_padding():
    n, t, h, w, pad = 3, 2, 4, 5, 2
    gt = np.zeros((n, t, h, w, 3), np.float32)
    sm = np.zeros((n, t, h, w, 1), np.float32)  # gray row
    sm[2, 1, 3, 4, 0] = 1.0  # known pixel: row 1, clip 2, frame 1, (y=3, x=4)
    gt[1, 0, 0, 0] = [1.0, 0.0, 0.5]  # row 0, clip 1, frame 0, (0, 0)
    grid = viz.video_grid([gt, sm], pad=pad, pad_value=0.5)
    y, x = pad + 1 * (h + pad) + 3, pad + 2 * (w + pad) + 4
    np.testing.assert_array_equal(grid[1, y, x], [255, 255, 255])  # gray -> RGB
    np.testing.assert_array_equal(grid[0, y, x], [0, 0, 0])
    np.testing.assert_array_equal(grid[0, pad, pad + 1 * (w + pad)], [255, 0, 128])
    # Pad pixels: border and gaps carry the pad value (0.5 -> 128).
    mask = np.ones(grid.shape[1:3], bool)
    for r in range(2):
        for c in range(n):
            y0, x0 = pad + r * (h + pad), pad + c * (w + pad)
            mask[y0 : y0 + h, x0 : x0 + w] = False
    assert np.all(grid[:, mask] == 128)
    assert mask.sum() == grid.shape[1] * grid.shape[2] - 2 * n * h * w


def test_video_grid_single_clip_rows_clip_values_and_missing_cells():
    clip = np.full((3, 6, 6, 3), 2.0, np.float32)  # [T, H, W, C], out of range
    batch = np.full((2, 3, 6, 6, 3), -1.0, np.float32)
    grid = viz.video_grid([clip, batch], pad=1, pad_value=1.0)
    chex.assert_shape(grid, (3, 2 * 6 + 3, 2 * 6 + 3, 3))
    assert np.all(grid[:, 1:7, 1:7] == 255)  # clipped to 1
    assert np.all(grid[:, 8:14, 1:7] == 0)  # clipped to 0
    assert np.all(grid[:, 1:7, 8:14] == 255)  # missing cell -> pad value


def test_video_grid_zero_pad():
    gt = _clips(2, 3, 4, 4, 3)
    grid = viz.video_grid([gt], pad=0)
    chex.assert_shape(grid, (3, 4, 8, 3))
    np.testing.assert_array_equal(grid[:, :, 4:], viz.to_uint8(gt[1]))


@pytest.mark.parametrize(
    "rows",
    [
        [np.zeros((2, 5, 8, 8, 3)), np.zeros((2, 4, 8, 8, 3))],  # T differs
        [np.zeros((2, 5, 8, 8, 3)), np.zeros((2, 5, 8, 9, 3))],  # W differs
        [np.zeros((2, 5, 8, 8, 2))],  # bad channel count
        [np.zeros((8, 8, 3))],  # bad rank
        [],
    ],
)
def test_layouts_bad_rows_raise(rows):
    with pytest.raises(ValueError):
        viz.video_grid(rows)
    with pytest.raises(ValueError):
        viz.filmstrip(rows)


def test_mismatched_t_message_has_shapes():
    with pytest.raises(ValueError, match=r"\(2, 5, 8, 8, 3\).*\(2, 4, 8, 8, 3\)"):
        viz.video_grid([np.zeros((2, 5, 8, 8, 3)), np.zeros((2, 4, 8, 8, 3))])


# ------------------------------------------------------------------------------ filmstrip


@pytest.mark.parametrize("c", [1, 3])
def test_filmstrip_shape_dtype(c):
    n, t, h, w, pad, gpad = 3, 6, 8, 10, 1, 4
    img = viz.filmstrip([_clips(n, t, h, w, c), _clips(n, t, h, w, c, 1)], pad=pad, group_pad=gpad)
    chex.assert_shape(img, (n * (2 * (h + pad) + gpad) - gpad + pad, t * w + (t + 1) * pad, 3))
    assert img.dtype == np.uint8


def test_filmstrip_layout_padding_and_stride():
    n, t, h, w, pad, gpad, r_count = 2, 5, 4, 3, 1, 3, 2
    gt = np.zeros((n, t, h, w, 3), np.float32)
    sm = np.zeros((n, t, h, w, 3), np.float32)
    sm[1, 2, 1, 2] = [1.0, 0.0, 0.0]  # sample row, clip 1, frame 2, (y=1, x=2)
    gt[0, 4, 0, 0] = [0.0, 1.0, 0.0]  # gt row, clip 0, frame 4, (0, 0)
    img = viz.filmstrip([gt, sm], pad=pad, pad_value=1.0, group_pad=gpad)
    group_h = r_count * (h + pad) + gpad
    y, x = pad + 1 * group_h + 1 * (h + pad) + 1, pad + 2 * (w + pad) + 2
    np.testing.assert_array_equal(img[y, x], [255, 0, 0])
    np.testing.assert_array_equal(img[pad, pad + 4 * (w + pad)], [0, 255, 0])
    mask = np.ones(img.shape[:2], bool)
    for c in range(n):
        for r in range(r_count):
            for k in range(t):
                y0, x0 = pad + c * group_h + r * (h + pad), pad + k * (w + pad)
                mask[y0 : y0 + h, x0 : x0 + w] = False
    assert np.all(img[mask] == 255)
    assert np.count_nonzero(img[~mask].any(axis=-1)) == 2  # only the two marked pixels

    # stride=2 keeps frames 0, 2, 4: frame 4 of gt lands in column 2.
    img2 = viz.filmstrip([gt, sm], pad=pad, group_pad=gpad, stride=2)
    chex.assert_shape(img2, (img.shape[0], 3 * w + 4 * pad, 3))
    np.testing.assert_array_equal(img2[pad, pad + 2 * (w + pad)], [0, 255, 0])


def test_filmstrip_bad_args_raise():
    rows = [_clips(1, 2, 4, 4, 3)]
    for kwargs in [dict(pad=-1), dict(group_pad=-1), dict(stride=0)]:
        with pytest.raises(ValueError):
            viz.filmstrip(rows, **kwargs)


# -------------------------------------------------------------------------------- writers


def test_pairs_figure_is_an_image_grid_for_frames_and_a_filmstrip_for_clips():
    targets, recons = _clips(3, 1, 8, 10, 1), _clips(3, 1, 8, 10, 1, seed=1)
    np.testing.assert_array_equal(
        viz.pairs_figure([targets, recons]), viz.image_grid([targets[:, 0], recons[:, 0]])
    )
    targets, recons = _clips(3, 4, 8, 10, 3), _clips(3, 4, 8, 10, 3, seed=1)
    np.testing.assert_array_equal(
        viz.pairs_figure([targets, recons]), viz.filmstrip([targets, recons])
    )


def test_write_gif_roundtrip(tmp_path):
    t, h, w = 6, 12, 16
    video = (np.random.default_rng(0).random((t, h, w, 3)) * 255).astype(np.uint8)
    path = viz.write_gif(tmp_path / "sub" / "dir" / "v.gif", video, fps=10)
    assert path.exists()
    with Image.open(path) as im:
        assert im.format == "GIF"
        assert im.n_frames == t
        assert im.size == (w, h)
        assert im.info["loop"] == 0
        assert im.info["duration"] == 100
    assert os.listdir(path.parent) == ["v.gif"]  # no temp file left behind


def test_write_gif_grid_float_input(tmp_path):
    grid = viz.video_grid([_clips(2, 4, 8, 8, 1), _clips(2, 4, 8, 8, 3)])
    viz.write_gif(tmp_path / "g.gif", grid)
    with Image.open(tmp_path / "g.gif") as im:
        assert im.n_frames == 4
        assert im.size == (grid.shape[2], grid.shape[1])
    # Float frames in [0, 1] are accepted too.
    viz.write_gif(tmp_path / "f.gif", _clips(1, 3, 8, 8, 3)[0])
    with Image.open(tmp_path / "f.gif") as im:
        assert im.n_frames == 3


def test_write_png_roundtrip(tmp_path):
    image = viz.filmstrip([_clips(2, 3, 8, 8, 3), _clips(2, 3, 8, 8, 1, 1)])
    path = viz.write_png(tmp_path / "a" / "strip.png", image)
    with Image.open(path) as im:
        assert im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im), image)
    # Overwriting is atomic and leaves only the target.
    viz.write_png(path, 255 - image)
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im), 255 - image)
    assert os.listdir(path.parent) == ["strip.png"]


def test_writers_bad_shapes_raise(tmp_path):
    with pytest.raises(ValueError):
        viz.write_png(tmp_path / "x.png", np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError):
        viz.write_gif(tmp_path / "x.gif", np.zeros((4, 4, 3), np.uint8))
    assert not any(tmp_path.iterdir())


def test_plot_curves(tmp_path):
    curves = {"model A": np.linspace(30, 20, 10), "model B": list(np.linspace(28, 22, 10))}
    img = viz.plot_curves(tmp_path / "plots" / "psnr.png", curves, title="PSNR")
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[0] > 100 and img.shape[1] > 100
    assert img.min() < 128 and img.max() == 255  # lines drawn on a white background
    with Image.open(tmp_path / "plots" / "psnr.png") as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), img)
    img2 = viz.plot_curves(tmp_path / "p2.png", {"a": [1.0, 2.0]}, x=[5, 10], ylabel="SSIM")
    assert img2.shape == img.shape


def test_plot_curves_x_length_mismatch_raises(tmp_path):
    with pytest.raises(ValueError, match="points"):
        viz.plot_curves(tmp_path / "p.png", {"a": [1.0, 2.0, 3.0]}, x=[1, 2])
