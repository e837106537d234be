"""The shared data pipeline.

Generated datasets (IndexedClipSource): clip i of split s is a pure function of (seed, s, i).
Stored datasets (EpisodeClipSource): clips cut from episodes read by random access (TFDS
array_record data sources), the batch of a step a pure function of that step's key.
`prefetch` computes upcoming batches on a background thread.
"""

import collections
import concurrent.futures
import dataclasses
import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from vgen.errors import ConfigError


def context_of(batch: Mapping[str, Any], context_frames: int) -> dict[str, Any]:
    """What a method's `sample` is given: the batch with "video" cut to its first
    `context_frames` frames; "cond" (the whole clip's, future included) and "label" are kept."""
    return {**batch, "video": batch["video"][:, :context_frames]}


def random_frames(video: jax.Array, rng: jax.Array) -> jax.Array:
    """One uniformly random frame of each clip (image models train on the frames of clips):
    [B, T, H, W, C] -> [B, H, W, C]."""
    t = jax.random.randint(rng, (video.shape[0],), 0, video.shape[1])
    return video[jnp.arange(video.shape[0]), t]


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

    # Whether `clips(..., ground_truth=True)` adds object masks and backgrounds.
    PROVIDES_GROUND_TRUTH = False

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

    def clips(
        self, split: str, indices: np.ndarray | jax.Array, ground_truth: bool = False
    ) -> dict[str, jax.Array]:
        """The clips at `indices` [N] of `split` (a batch of N); with `ground_truth` (sources
        whose PROVIDES_GROUND_TRUTH is True) also "mask" [N, T, H, W, 1] (object coverage)
        and "background" [N, T, H, W, C] (the clip without its object)."""
        indices = self._indices("clips", split, indices)
        if not ground_truth:
            return self._clips(split, indices)
        if not self.PROVIDES_GROUND_TRUTH:
            raise ValueError(f"{self._name} has no object masks or backgrounds (ground_truth)")
        return self._clips(split, indices, ground_truth=True)

    def train_batch(self, rng: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        """`batch_size` train clips at uniform random indices drawn from `rng`.

        One jitted call; `rng` may be traced (usable inside a jitted step).
        """
        if int(batch_size) < 1:
            raise ValueError(f"{self._name}.train_batch: batch_size must be >= 1, got {batch_size}")
        return self._random_clips(rng, int(batch_size))

    def eval_clips(
        self, num_clips: int, split: str = "test", ground_truth: bool = False
    ) -> dict[str, jax.Array]:
        """The first `num_clips` clips of `split`: a fixed, seeded evaluation set (see `clips`
        for `ground_truth`)."""
        size = self.split_size(split)
        if not 1 <= int(num_clips) <= size:
            raise ValueError(
                f"{self._name}.eval_clips: num_clips must be in [1, {size}] for split "
                f"{split!r}, got {num_clips}"
            )
        return self.clips(split, np.arange(int(num_clips), dtype=np.int32), ground_truth)

    def _clips(self, split: str, indices: jax.Array) -> dict[str, jax.Array]:
        raise NotImplementedError

    def _random_clips(self, rng: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        raise NotImplementedError


# ----------------------------------------------------------------------------- stored episodes


@dataclasses.dataclass(frozen=True)
class Episodes:
    """A random-access collection of variable-length episodes (videos) of one split.

    `items[i]` is a mapping with "video" uint8 [L_i, H, W, C], optionally "cond" [L_i, D] (a
    per-step condition) and "label" (an int); `lengths[i]` is L_i, known without reading items[i].
    """

    items: Sequence[Mapping[str, Any]]
    lengths: np.ndarray

    def __post_init__(self):
        if len(self.items) != len(self.lengths):
            raise ValueError(f"Episodes: {len(self.items)} items but {len(self.lengths)} lengths")


def numpy_rng(rng: jax.Array) -> np.random.Generator:
    """A NumPy generator seeded by the bits of one JAX key (typed or raw uint32 data)."""
    data = jax.random.key_data(rng) if jnp.issubdtype(rng.dtype, jax.dtypes.prng_key) else rng
    return np.random.default_rng(np.asarray(data, np.uint32).ravel().tolist())


class EpisodeClipSource:
    """Clips of `num_frames` consecutive frames cut from stored episodes (KTH, BAIR, ...).

    Training clips: an episode of this process's shard of "train" (episode i belongs to process
    i mod process_count), drawn uniformly with replacement, and a uniform start. A batch is a
    pure function of the key it is given, so a resumed run reads the same clips as an
    uninterrupted one without any saved iterator state. Evaluation clips: clip k of a split is
    episode perm[k mod E] of a seeded permutation of its E long-enough episodes, with a start
    drawn from (seed, split, k), so every model is scored on the same clips and the first n
    clips of a split never depend on how many are asked for.

    Batches are NumPy dicts: "video" float32 [B, T, H, W, C] in [0, 1], plus "cond" float32
    [B, T, D] and "label" int32 [B] when the episodes have them. Episodes are read on
    `num_workers` threads (TFDS decoding releases the GIL).
    """

    def __init__(
        self,
        *,
        name: str,
        seed: int,
        splits: Mapping[str, Episodes],
        num_frames: int,
        num_workers: int = 8,
        process_index: int | None = None,
        process_count: int | None = None,
    ):
        self.name, self.seed, self.num_frames = name, int(seed), int(num_frames)
        if self.num_frames < 1:
            raise ConfigError(f"{name}: clips need >= 1 frame, got {num_frames}")
        if "train" not in splits:
            raise ValueError(f"{name}: a 'train' split is required, got {tuple(splits)}")
        self._splits = dict(splits)
        self._eligible = {}
        for split, episodes in self._splits.items():
            lengths = np.asarray(episodes.lengths)
            eligible = np.flatnonzero(lengths >= self.num_frames)
            if eligible.size == 0:
                longest = int(lengths.max()) if lengths.size else 0
                raise ConfigError(
                    f"{name}: no episode of the {split!r} split has {self.num_frames} frames "
                    f"(context_frames + predict_frames); the longest has {longest}"
                )
            self._eligible[split] = eligible
        index = jax.process_index() if process_index is None else process_index
        count = jax.process_count() if process_count is None else process_count
        self._train_shard = self._eligible["train"][index::count]
        if self._train_shard.size == 0:
            raise ConfigError(
                f"{name}: process {index} of {count} has no training episode "
                f"({self._eligible['train'].size} in all)"
            )
        self._pool = concurrent.futures.ThreadPoolExecutor(max(1, num_workers))

    def split_size(self, split: str) -> int:
        """Number of episodes in `split`."""
        self._check_split(split)
        return len(self._splits[split].items)

    def _check_split(self, split: str) -> None:
        if split not in self._splits:
            raise ValueError(
                f"{self.name}: unknown split {split!r}; expected one of {tuple(self._splits)}"
            )

    def _clip(self, split: str, episode: int, start: int) -> dict[str, np.ndarray]:
        item = self._splits[split].items[episode]
        stop = start + self.num_frames
        # Slice before converting: a lazy episode then decodes only the clip's frames.
        video = np.asarray(item["video"][start:stop])
        if video.ndim != 4 or video.dtype != np.uint8 or video.shape[0] != self.num_frames:
            raise ValueError(
                f"{self.name}: frames {start}:{stop} of episode {episode} of {split!r} are "
                f"{video.dtype} {video.shape}; expected uint8 [{self.num_frames}, H, W, C]"
            )
        out = {"video": video.astype(np.float32) / 255.0}
        if "cond" in item:
            out["cond"] = np.asarray(item["cond"], np.float32)[start:stop]
        if "label" in item:
            out["label"] = np.int32(item["label"])
        return out

    def _batch(self, split: str, episodes: np.ndarray, starts: np.ndarray) -> dict:
        clips = list(self._pool.map(self._clip, [split] * len(episodes), episodes, starts))
        return {k: np.stack([c[k] for c in clips]) for k in clips[0]}

    def _starts(self, g: np.random.Generator, split: str, episodes: np.ndarray) -> np.ndarray:
        room = np.asarray(self._splits[split].lengths)[episodes] - self.num_frames + 1
        return g.integers(0, room)

    def train_batch(self, rng: jax.Array, batch_size: int) -> dict[str, np.ndarray]:
        """`batch_size` random training clips, a pure function of `rng`."""
        if int(batch_size) < 1:
            raise ValueError(f"{self.name}.train_batch: batch_size must be >= 1, got {batch_size}")
        g = numpy_rng(rng)
        episodes = g.choice(self._train_shard, size=int(batch_size))
        return self._batch("train", episodes, self._starts(g, "train", episodes))

    def eval_clips(self, num_clips: int, split: str = "test") -> dict[str, np.ndarray]:
        """The first `num_clips` clips of the fixed, seeded evaluation sequence of `split`."""
        self._check_split(split)
        if int(num_clips) < 1:
            raise ValueError(f"{self.name}.eval_clips: num_clips must be >= 1, got {num_clips}")
        split_id = zlib.crc32(split.encode())
        eligible = self._eligible[split]
        perm = np.random.default_rng([self.seed, split_id]).permutation(eligible)
        episodes = perm[np.arange(int(num_clips)) % perm.size]
        starts = np.array(
            [
                self._starts(np.random.default_rng([self.seed, split_id, k]), split, episodes[k])
                for k in range(int(num_clips))
            ]
        )
        return self._batch(split, episodes, starts)


def prefetch(make: Callable[[int], Any], steps: Iterable[int], depth: int = 2) -> Iterator[Any]:
    """Yields make(s) for s in `steps`, computing up to `depth` of them ahead on a thread."""
    steps = iter(steps)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = collections.deque(pool.submit(make, s) for s in itertools.islice(steps, depth))
        while pending:
            result = pending.popleft().result()
            for s in itertools.islice(steps, 1):
                pending.append(pool.submit(make, s))
            yield result
