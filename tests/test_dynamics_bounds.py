"""vgen.experiments.dynamics_bounds: the ground-truth predictors, exact on hand-built clips."""

import jax.numpy as jnp
import numpy as np

from vgen.experiments import dynamics_bounds


def clip(path, size=12, frames=6):
    """A 2×2 square (0.9) on a flat 0.2 background, at the (row, col) corners of `path`:
    video, mask, background, each [1, T, H, W, ·]."""
    mask = np.zeros((1, frames, size, size, 1), np.float32)
    for t, (r, c) in enumerate(path):
        mask[0, t, r : r + 2, c : c + 2] = 1.0
    background = np.full((1, frames, size, size, 3), 0.2, np.float32)
    video = mask * 0.9 + (1.0 - mask) * background
    return jnp.asarray(video), jnp.asarray(mask), jnp.asarray(background)


def test_constant_velocity_is_exact_on_straight_motion_and_true_path_on_a_bounce():
    straight = [(5, 1 + t) for t in range(6)]  # one pixel right per frame
    video, mask, background = clip(straight)
    for predictor in (dynamics_bounds.constant_velocity, dynamics_bounds.true_path):
        np.testing.assert_allclose(predictor(video, mask, background, 2), video[:, 2:], atol=1e-6)
    bounce = [(5, 1), (5, 3), (5, 5), (5, 3), (5, 1), (5, 3)]  # two pixels, then back
    video, mask, background = clip(bounce)
    np.testing.assert_allclose(
        dynamics_bounds.true_path(video, mask, background, 2), video[:, 2:], atol=1e-6
    )
    ahead = dynamics_bounds.constant_velocity(video, mask, background, 2)
    expected, _, _ = clip([(5, 5), (5, 7), (5, 9), (5, 11)], frames=4)
    # Straight on at 2 px a frame; the last step leaves half the square outside the frame.
    np.testing.assert_allclose(ahead, expected, atol=1e-6)


def test_shift_is_bilinear_with_zeros_outside():
    image = jnp.zeros((4, 4, 1)).at[1, 1, 0].set(1.0)
    half = dynamics_bounds.shift(image, jnp.array([0.0, 0.5]))
    np.testing.assert_allclose(half[1, 1:3, 0], [0.5, 0.5], atol=1e-6)
    assert float(dynamics_bounds.shift(image, jnp.array([5.0, 0.0])).sum()) == 0.0


def test_command_on_a_tiny_config(capsys):
    assert dynamics_bounds.main(["--config=configs/quickstart.py:tiny"]) == 0
    out = capsys.readouterr().out
    assert "constant_velocity" in out and "position_error" in out
    assert dynamics_bounds.main(["--config=configs/ali_mnist.py:tiny"]) == 1
    assert "has no ground truth" in capsys.readouterr().err
