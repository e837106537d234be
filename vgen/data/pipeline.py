"""What generated datasets share: clip i of split s is a pure function of (seed, s, i)."""

import jax
import jax.numpy as jnp
import numpy as np


def as_typed_keys(keys: jax.Array) -> jax.Array:
    """[N] typed PRNG keys, from typed keys or raw uint32 key data [N, 2]."""
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        return keys
    return jax.random.wrap_key_data(keys)


def clip_keys(base_key: jax.Array, indices: jax.Array) -> jax.Array:
    """The key of each clip index [N] of a split: fold_in(base_key, i) -> [N] keys."""
    return jax.vmap(lambda i: jax.random.fold_in(base_key, i))(indices)


class IndexedClipSource:
    """Split keys, split sizes, index checks and the fixed evaluation set of a generated dataset.

    Split `s` (position k in `splits`) has key `fold_in(key(seed), k)`; clip i of it is rendered
    from `fold_in(that key, i)` by the subclass, which implements `_clips(split, indices)` and
    `_random_clips(rng, batch_size)`.
    """

    def __init__(self, *, seed: int, splits: tuple[str, ...], sizes: dict[str, int]):
        for split, n in sizes.items():
            if int(n) < 1:
                raise ValueError(f"{self._name}: the {split} split needs >= 1 clip, got {n}")
        self.seed = int(seed)
        self._sizes = {split: int(n) for split, n in sizes.items()}
        root = jax.random.key(self.seed)
        self._base_keys = {s: jax.random.fold_in(root, i) for i, s in enumerate(splits)}

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _check_split(self, split: str) -> None:
        if split not in self._sizes:
            raise ValueError(
                f"{self._name}: unknown split {split!r}; expected one of {tuple(self._sizes)}"
            )

    def split_size(self, split: str) -> int:
        """Number of clips in `split`."""
        self._check_split(split)
        return self._sizes[split]

    def _indices(self, method: str, split: str, indices) -> jax.Array:
        """`indices` checked to be a 1-D integer array within the split, as int32 [N]."""
        size = self.split_size(split)
        idx = np.asarray(indices)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(
                f"{self._name}.{method}: indices must be a 1-D integer array, "
                f"got shape {idx.shape} dtype {idx.dtype}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            raise ValueError(
                f"{self._name}.{method}: indices must be in [0, {size}) for split {split!r}, "
                f"got min {idx.min()} max {idx.max()}"
            )
        return jnp.asarray(idx, jnp.int32)

    def clips(self, split: str, indices: np.ndarray | jax.Array) -> dict[str, jax.Array]:
        """The clips at `indices` [N] of `split` (a batch of N)."""
        return self._clips(split, self._indices("clips", split, indices))

    def train_batch(self, rng: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        """`batch_size` train clips at uniform random indices drawn from `rng`.

        One jitted call; `rng` may be traced (usable inside a jitted step).
        """
        if int(batch_size) < 1:
            raise ValueError(f"{self._name}.train_batch: batch_size must be >= 1, got {batch_size}")
        return self._random_clips(rng, int(batch_size))

    def eval_clips(self, num_clips: int, split: str = "test") -> dict[str, jax.Array]:
        """The first `num_clips` clips of `split`: a fixed, seeded evaluation set."""
        size = self.split_size(split)
        if not 1 <= int(num_clips) <= size:
            raise ValueError(
                f"{self._name}.eval_clips: num_clips must be in [1, {size}] for split "
                f"{split!r}, got {num_clips}"
            )
        return self.clips(split, np.arange(int(num_clips), dtype=np.int32))

    def _clips(self, split: str, indices: jax.Array) -> dict[str, jax.Array]:
        raise NotImplementedError

    def _random_clips(self, rng: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        raise NotImplementedError
