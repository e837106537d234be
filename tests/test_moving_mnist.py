"""Moving MNIST: shapes, determinism, disjoint digit pools, bounce physics, MNIST loading."""

import jax
import numpy as np
import pytest

from vgen.data.moving_mnist import (
    MNISTNotFoundError,
    MovingMNISTSource,
    load_mnist_digits,
)
from vgen.errors import DatasetNotFoundError

N_DIGITS = 50  # stand-in pool: first 45 train, last 5 test
R, S = 64, 28
LIMIT = R - S
# Few distinct batch sizes: every new shape is a fresh XLA compile (~1 s).
IDX = np.arange(8)  # clips
TRAJ = np.arange(64)  # trajectories


def _stand_in_digits(n: int = N_DIGITS, seed: int = 0):
    """Random blobs: distinct [n, 28, 28] uint8 images (zero border) and labels 0..9."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:S, :S]
    images = np.zeros((n, S, S), np.uint8)
    for i in range(n):
        cy, cx = rng.uniform(10, 18, 2)
        ry, rx = rng.uniform(4, 9, 2)
        blob = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        images[i] = blob * rng.integers(60, 256, (S, S))
    return images, np.arange(n, dtype=np.int32) % 10


DIGITS, LABELS = _stand_in_digits()


def _source(stochastic: bool, seed: int = 0, **kw) -> MovingMNISTSource:
    kw = {"digits": DIGITS, "labels": LABELS, "train_per_split": 1000, "test_per_split": 100, **kw}
    return MovingMNISTSource(seed=seed, stochastic=stochastic, **kw)


@pytest.fixture(scope="module", params=[False, True], ids=["deterministic", "stochastic"])
def source(request):
    return _source(request.param)


@pytest.fixture(scope="module")
def det():
    return _source(False)


@pytest.fixture(scope="module")
def sto():
    return _source(True)


def test_shapes_dtype_range(source):
    batch = source.clips("train", IDX)
    assert batch["video"].shape == (8, 20, R, R, 1)
    assert batch["video"].dtype == np.float32
    assert batch["label"].shape == (8, 2) and batch["label"].dtype == np.int32
    video = np.asarray(batch["video"])
    assert video.min() >= 0.0 and video.max() <= 1.0 and video.max() > 0.5
    digit = np.asarray(source.trajectories("train", TRAJ)["digit"])[:8]
    pool_labels = np.asarray(source.digit_pool("train")[1])
    np.testing.assert_array_equal(batch["label"], pool_labels[digit])

    train = source.train_batch(jax.random.key(3), 4)
    assert train["video"].shape == (4, 20, R, R, 1) and train["label"].shape == (4, 2)
    ev = source.eval_clips(8)
    assert ev["video"].shape == (8, 20, R, R, 1)
    assert source.split_size("train") == 1000 and source.split_size("test") == 100


def test_deterministic_by_seed_and_index(source):
    perm = np.array([5, 2, 7, 0, 9, 1, 3, 4])
    a = source.clips("test", perm)
    b = _source(source.stochastic).clips("test", perm[::-1])
    np.testing.assert_array_equal(a["video"], b["video"][::-1])
    np.testing.assert_array_equal(a["label"], b["label"][::-1])
    np.testing.assert_array_equal(source.eval_clips(8)["video"], source.clips("test", IDX)["video"])
    other = _source(source.stochastic, seed=1).clips("test", perm)
    assert not np.array_equal(a["video"][0], other["video"][0])
    train, test = source.clips("train", IDX)["video"], source.clips("test", IDX)["video"]
    assert not np.array_equal(train[0], test[0])
    k = jax.random.key(9)
    first, again = source.train_batch(k, 4)["video"], source.train_batch(k, 4)["video"]
    np.testing.assert_array_equal(first, again)


def test_rendering_matches_trajectories(det):
    """Frames are the pixel-wise max of the digits placed at the trajectory positions."""
    video = np.asarray(det.clips("train", IDX)["video"])[..., 0]
    traj = jax.tree.map(np.asarray, det.trajectories("train", TRAJ))
    pool = np.asarray(det.digit_pool("train")[0]).astype(np.float32) / 255.0
    for n in range(3):
        for t in range(20):
            expected = np.zeros((R, R), np.float32)
            for d in range(2):
                y, x = traj["position"][n, t, d]
                patch = expected[y : y + S, x : x + S]
                np.maximum(patch, pool[traj["digit"][n, d]], out=patch)
            np.testing.assert_allclose(video[n, t], expected, atol=1e-6)


def test_train_test_digit_pools_disjoint():
    src = _source(False, num_digits=1)
    train_pool, test_pool = (np.asarray(src.digit_pool(s)[0]) for s in ("train", "test"))
    np.testing.assert_array_equal(train_pool, DIGITS[:45])  # first 90% train
    np.testing.assert_array_equal(test_pool, DIGITS[45:])  # last 10% test
    for split, pool in (("train", DIGITS[:45]), ("test", DIGITS[45:])):
        video = np.asarray(src.clips(split, TRAJ)["video"])[:, 0, :, :, 0]
        pos = np.asarray(src.trajectories(split, TRAJ)["position"])[:, 0, 0]
        other = DIGITS[45:] if split == "train" else DIGITS[:45]
        for n in range(len(TRAJ)):
            y, x = pos[n]
            patch = np.round(video[n, y : y + S, x : x + S] * 255.0).astype(np.uint8)
            assert (patch == pool).all(axis=(1, 2)).any()
            assert not (patch == other).all(axis=(1, 2)).any()

    # Explicit test pool: digits is then the whole train pool.
    src2 = MovingMNISTSource(
        seed=0,
        digits=DIGITS[:30],
        labels=LABELS[:30],
        test_digits=DIGITS[30:],
        test_labels=LABELS[30:],
        stochastic=True,
    )
    np.testing.assert_array_equal(src2.digit_pool("train")[0], DIGITS[:30])
    np.testing.assert_array_equal(src2.digit_pool("test")[1], LABELS[30:])


def test_digits_stay_in_frame(source):
    """Positions stay in [0, 64 - 28]; with one digit the mass per frame never changes."""
    idx = TRAJ
    pos = np.asarray(source.trajectories("train", idx)["position"])
    assert pos.min() >= 0 and pos.max() <= LIMIT
    src1 = _source(source.stochastic, num_digits=1)
    video = np.asarray(src1.clips("train", idx)["video"])
    digit = np.asarray(src1.trajectories("train", idx)["digit"])[:, 0]
    mass = video.sum(axis=(2, 3, 4))  # [N, T]
    expected = DIGITS[:45][digit].astype(np.float64).sum(axis=(1, 2)) / 255.0
    np.testing.assert_allclose(mass, np.broadcast_to(expected[:, None], mass.shape), rtol=1e-4)


def _flips(vel):
    """[N, T, D, 2] velocities -> bool [N, T-1, D, 2]: sign flips between frames t and t+1."""
    return np.sign(vel[:, 1:]) != np.sign(vel[:, :-1])


def test_deterministic_bounces_keep_speed(det):
    traj = jax.tree.map(np.asarray, det.trajectories("train", TRAJ))
    vel, pos = traj["velocity"], traj["position"]
    flips = _flips(vel)
    assert flips.sum() > 20  # bounces happen
    np.testing.assert_allclose(
        np.abs(vel), np.abs(vel[:, :1]).repeat(20, 1), rtol=1e-6
    )  # |dy|, |dx| const
    speed = np.linalg.norm(vel[:, 0], axis=-1)
    assert speed.min() >= 2.0 and speed.max() < 5.0
    # A flip happens right at a wall: the new position is within one step of it.
    step = np.abs(vel[:, 1:])[flips]
    p = pos[:, 1:][flips]
    assert np.all((p <= step + 1) | (p >= LIMIT - step - 1))


def test_stochastic_bounces_change_speed(sto):
    traj = jax.tree.map(np.asarray, sto.trajectories("train", TRAJ))
    vel = traj["velocity"]
    assert np.abs(vel[:, 0]).max() <= 4.0
    flips = _flips(vel)
    assert flips.sum() > 20
    before, after = np.abs(vel[:, :-1])[flips], np.abs(vel[:, 1:])[flips]
    assert np.all(np.abs(after - before) > 1e-6)  # a new speed at every bounce
    assert after.min() >= 1.0 and after.max() < 4.0
    # Between bounces the velocity does not change.
    same = ~flips
    np.testing.assert_array_equal(vel[:, 1:][same], vel[:, :-1][same])


def test_variants_share_start_and_digits(det, sto):
    a = jax.tree.map(np.asarray, det.trajectories("test", TRAJ))
    b = jax.tree.map(np.asarray, sto.trajectories("test", TRAJ))
    np.testing.assert_array_equal(a["position"][:, 0], b["position"][:, 0])
    np.testing.assert_array_equal(a["digit"], b["digit"])
    np.testing.assert_array_equal(det.clips("test", IDX)["label"], sto.clips("test", IDX)["label"])
    assert not np.allclose(a["velocity"], b["velocity"])


def test_load_mnist_digits_npz(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 12).astype(np.uint8),
        "x_test": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 4).astype(np.uint8),
    }
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    x_train, y_train, x_test, y_test = load_mnist_digits(npz_path=str(path))
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert y_train.dtype == np.int32 and x_test.shape == (4, 28, 28)
    src = MovingMNISTSource(
        seed=0,
        digits=x_train,
        labels=y_train,
        test_digits=x_test,
        test_labels=y_test,
        stochastic=False,
        num_digits=3,
        num_frames=4,
    )
    assert src.eval_clips(2)["label"].shape == (2, 3)

    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=arrays["x_train"])
    with pytest.raises(MNISTNotFoundError, match="lacks keys"):
        load_mnist_digits(npz_path=str(bad))


def test_default_digits_are_real_mnist_with_disjoint_splits():
    x_train, y_train, x_test, y_test = load_mnist_digits()
    assert x_train.shape == (4500, 28, 28) and x_test.shape == (500, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int32
    np.testing.assert_array_equal(np.bincount(y_train), [450] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [50] * 10)
    # Digits, not noise: a dark border and sparse bright strokes.
    assert x_train[:, 0, :].max() == 0 and x_train.max() == 255
    assert 0.1 < np.mean(x_train > 128) < 0.25
    # No test digit is also a train digit.
    train_rows = {row.tobytes() for row in x_train.reshape(len(x_train), -1)}
    assert not any(row.tobytes() in train_rows for row in x_test.reshape(len(x_test), -1))


def test_load_mnist_digits_missing(tmp_path):
    with pytest.raises(MNISTNotFoundError, match="no file") as info:
        load_mnist_digits(npz_path=str(tmp_path / "nope.npz"))
    assert isinstance(info.value, (DatasetNotFoundError, ValueError))
    assert "mnist.npz" in str(info.value) and "download_and_prepare" in str(info.value)
    with pytest.raises(MNISTNotFoundError, match="no file"):
        load_mnist_digits(npz_path=str(tmp_path / "nope.npz"))
    empty = tmp_path / "tfds"
    empty.mkdir()
    with pytest.raises(MNISTNotFoundError, match="not prepared"):
        load_mnist_digits(data_dir=str(empty))
    assert list(empty.iterdir()) == []  # nothing downloaded or written


@pytest.mark.parametrize(
    "kw",
    [
        {"num_digits": 0},
        {"num_frames": 1},
        {"resolution": 28},
        {"train_per_split": 0},
        {"digits": DIGITS[:1], "labels": LABELS[:1]},  # nothing left for the test pool
        {"digits": DIGITS.astype(np.float32), "labels": LABELS},  # float outside [0, 1]
        {"digits": DIGITS[:, :, 0], "labels": LABELS},
        {"labels": LABELS[:3]},
        {"test_digits": DIGITS[:3]},  # without test_labels
        {"test_digits": DIGITS[:3, :20, :20], "test_labels": LABELS[:3]},
    ],
)
def test_bad_constructor_arguments(kw):
    args = {"seed": 0, "digits": DIGITS, "labels": LABELS, "stochastic": False, **kw}
    with pytest.raises(ValueError):
        MovingMNISTSource(**args)


def test_val_split_uses_train_digits_with_new_clips(det):
    val, train = det.trajectories("val", [0, 1]), det.trajectories("train", [0, 1])
    assert not np.array_equal(np.asarray(val["position"]), np.asarray(train["position"]))
    val_pool, train_pool = det.digit_pool("val"), det.digit_pool("train")
    np.testing.assert_array_equal(np.asarray(val_pool[0]), np.asarray(train_pool[0]))


def test_bad_call_arguments(det):
    with pytest.raises(ValueError, match="unknown split"):
        det.clips("validation", [0])
    with pytest.raises(ValueError, match="indices"):
        det.clips("test", [100])
    with pytest.raises(ValueError, match="indices"):
        det.clips("test", np.array([0.5]))
    with pytest.raises(ValueError, match="indices"):
        det.trajectories("train", [-1])
    with pytest.raises(ValueError, match="batch_size"):
        det.train_batch(jax.random.key(0), 0)
    with pytest.raises(ValueError, match="num_clips"):
        det.eval_clips(101)


def test_float_digits_accepted(sto):
    src = _source(True, digits=DIGITS.astype(np.float32) / 255.0)
    np.testing.assert_allclose(
        src.clips("train", IDX)["video"], sto.clips("train", IDX)["video"], atol=1e-6
    )


def test_registered_source_reads_npz_from_config(tmp_path):
    from vgen import config_lib
    from vgen.data import make_source

    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 20),
        x_test=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 6),
    )
    config = config_lib.common_config()
    config_lib.set_data(
        config,
        "moving_mnist",
        mnist_npz=str(path),
        stochastic=True,
        resolution=32,
        context_frames=2,
        predict_frames=3,
    )
    source = make_source(config)
    assert source.stochastic
    batch = source.train_batch(jax.random.key(0), 8)
    assert batch["video"].shape == (8, 5, 32, 32, 1)
    assert source.eval_clips(4, split="val")["video"].shape == (4, 5, 32, 32, 1)
