"""The shared pipeline: clips cut from stored episodes, and prefetching."""

import time

import jax
import numpy as np
import pytest

from vgen.data.pipeline import EpisodeClipSource, Episodes, numpy_rng, prefetch
from vgen.errors import ConfigError

T = 4


def episodes(lengths, first_id=0, cond=True):
    """Episodes whose frame f of episode i is filled with the value i*10 + f (so a clip can be
    traced back to its episode and start), with cond [L, 2] = (i, f) and label i % 3."""
    items = []
    for n, length in enumerate(lengths):
        i = first_id + n
        frames = (i * 10 + np.arange(length)).astype(np.uint8)
        item = {"video": np.broadcast_to(frames[:, None, None, None], (length, 3, 2, 1)).copy()}
        if cond:
            item["cond"] = np.stack([np.full(length, i), np.arange(length)], -1).astype(np.float32)
        item["label"] = i % 3
        items.append(item)
    return Episodes(items, np.asarray(lengths))


def source(**kw):
    splits = {
        "train": episodes([6, 3, 9, 5, 4], first_id=0),  # episode 1 is too short for T = 4
        "test": episodes([5, 7, 2], first_id=10),
    }
    return EpisodeClipSource(name="toy", seed=0, splits=splits, num_frames=T, **kw)


def decode(batch):
    """(episode id, start) of each clip, and checks each clip is consecutive frames."""
    values = np.rint(batch["video"][:, :, 0, 0, 0] * 255).astype(int)  # [B, T]
    np.testing.assert_array_equal(np.diff(values, axis=1), 1)
    return values[:, 0] // 10, values[:, 0] % 10


def test_train_batch_layout_and_content():
    src = source()
    batch = src.train_batch(jax.random.key(0), 64)
    assert batch["video"].shape == (64, T, 3, 2, 1) and batch["video"].dtype == np.float32
    assert batch["cond"].shape == (64, T, 2) and batch["label"].dtype == np.int32
    assert 0.0 <= batch["video"].min() and batch["video"].max() <= 1.0
    ids, starts = decode(batch)
    assert set(ids) == {0, 2, 3, 4}  # never the 3-frame episode; all others show up in 64 draws
    lengths = np.array([6, 3, 9, 5, 4])
    assert np.all(starts + T <= lengths[ids]) and np.all(starts >= 0)
    np.testing.assert_array_equal(batch["cond"][:, 0, 0], ids)
    np.testing.assert_array_equal(batch["cond"][:, :, 1], starts[:, None] + np.arange(T))
    np.testing.assert_array_equal(batch["label"], ids % 3)
    # Uniform start: episode 2 (9 frames) has 6 starts, and many are used.
    assert len(set(starts[ids == 2])) >= 4


def test_train_batch_is_a_function_of_the_key():
    src = source()
    a = src.train_batch(jax.random.key(5), 16)
    b = source().train_batch(jax.random.key(5), 16)
    c = src.train_batch(jax.random.key(6), 16)
    np.testing.assert_array_equal(a["video"], b["video"])
    assert not np.array_equal(a["video"], c["video"])


def test_processes_read_disjoint_shards_of_train():
    seen = []
    for index in range(2):
        src = source(process_index=index, process_count=2)
        ids, _ = decode(src.train_batch(jax.random.key(0), 64))
        seen.append(set(ids))
    assert seen[0] == {0, 3} and seen[1] == {2, 4}  # eligible [0, 2, 3, 4] split round-robin


def test_eval_clips_are_fixed_and_prefix_stable():
    a = source().eval_clips(6, "test")
    b = source().eval_clips(6, "test")
    np.testing.assert_array_equal(a["video"], b["video"])
    np.testing.assert_array_equal(source().eval_clips(3, "test")["video"], a["video"][:3])
    ids, starts = decode(a)
    assert set(ids) == {10, 11}  # the 2-frame episode is skipped; both others are used
    assert sorted(ids[:2]) == [10, 11]  # cycled through a permutation: all episodes first
    assert not np.array_equal(source().eval_clips(6, "train")["video"][:, :1], a["video"][:, :1])


def test_errors():
    with pytest.raises(ConfigError, match="no episode of the 'train' split has 10 frames"):
        EpisodeClipSource(name="toy", seed=0, splits={"train": episodes([3, 4])}, num_frames=10)
    with pytest.raises(ConfigError, match="process 2 of 3 has no training episode"):
        EpisodeClipSource(
            name="toy",
            seed=0,
            splits={"train": episodes([5, 5])},
            num_frames=T,
            process_index=2,
            process_count=3,
        )
    with pytest.raises(ValueError, match="unknown split 'val'"):
        source().eval_clips(2, "val")
    with pytest.raises(ValueError, match="2 items but 1 lengths"):
        Episodes([{}, {}], np.array([3]))
    bad = Episodes([{"video": np.zeros((5, 2, 2, 1), np.float32)}], np.array([5]))
    src = EpisodeClipSource(name="toy", seed=0, splits={"train": bad}, num_frames=T)
    with pytest.raises(ValueError, match=r"float32 \(4, 2, 2, 1\); expected uint8 \[4, H, W, C\]"):
        src.train_batch(jax.random.key(0), 2)


def test_numpy_rng_accepts_typed_and_raw_keys():
    key = jax.random.key(3)
    a = numpy_rng(key).integers(0, 1 << 30, 4)
    b = numpy_rng(jax.random.key_data(key)).integers(0, 1 << 30, 4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, numpy_rng(jax.random.key(4)).integers(0, 1 << 30, 4))


def test_prefetch_yields_in_order_and_runs_ahead():
    started = []

    def make(step):
        started.append(step)
        return step * step

    batches = prefetch(make, range(1, 7), depth=2)
    assert next(batches) == 1
    # While the consumer holds step 1, steps 2 and 3 are computed, and no more than that.
    deadline = time.monotonic() + 5
    while len(started) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert started == [1, 2, 3]
    assert list(batches) == [4, 9, 16, 25, 36]


def test_prefetch_propagates_errors():
    def make(step):
        if step == 2:
            raise ValueError("bad clip")
        return step

    batches = prefetch(make, range(1, 5))
    assert next(batches) == 1
    with pytest.raises(ValueError, match="bad clip"):
        next(batches)


@pytest.mark.parametrize("name", ["quickstart", "mvae1_mmnist"])
def test_the_training_seed_does_not_change_the_data(name):
    """Runs with different `seed`s train and are scored on the same clips (`data.seed`)."""
    from helpers import load_config

    from vgen.data import make_source

    sources = []
    for seed in (0, 1):
        config = load_config(name, "tiny")
        config.seed = seed
        sources.append(make_source(config))
    key = jax.random.key(3)
    for split in ("val", "test"):
        a, b = (s.eval_clips(4, split=split)["video"] for s in sources)
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        sources[0].train_batch(key, 4)["video"], sources[1].train_batch(key, 4)["video"]
    )
    other = load_config(name, "tiny")
    other.data.seed = 1
    assert not np.array_equal(
        make_source(other).eval_clips(4, split="test")["video"],
        sources[0].eval_clips(4, split="test")["video"],
    )
