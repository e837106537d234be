"""BAIR robot pushing: TFDS records -> clips and cond, splits, determinism, clear errors.

Most tests read `tfds.testing.mock_data` random records through the real `tfds.data_source`
call (raw serialized examples, PNG frames); one builds a tiny real array_record dataset with
the real BAIR feature spec, and the error tests use an empty data_dir and a tiny real dataset
built in the tfrecord format. Nothing touches the network (sockets are blocked).
"""

import socket

import jax
import ml_collections
import numpy as np
import pytest
import tensorflow_datasets as tfds
from tensorflow_datasets.testing import mocking

from vgen.config_lib import common_config, set_data
from vgen.data import make_source
from vgen.data.bair import TFDS_NAME, BAIRSource, build_synthetic
from vgen.errors import ConfigError, DatasetNotFoundError

N = 12  # mocked episodes per TFDS split (the mock gives every split the same records)
VAL = 4  # held-out train episodes
T, R = 10, 64  # 2 context + 8 predicted frames


@pytest.fixture(scope="module", autouse=True)
def no_network():
    def refuse(*args, **kwargs):
        raise RuntimeError("test_bair: network access attempted")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        yield


def _config(data_dir: str = "", **data) -> ml_collections.ConfigDict:
    """A config with every BAIR option declared (config_lib.set_data), as experiment configs do."""
    c = common_config()
    set_data(c, "bair", **{"data_dir": data_dir, "val_episodes": VAL, "num_workers": 2, **data})
    return c


def _mocked_source(**data) -> BAIRSource:
    with mocking.mock_data(num_examples=N, policy=mocking.MockPolicy.USE_CODE):
        return make_source(_config("/nonexistent/tfds", **data))


@pytest.fixture(scope="module")
def mocked():
    """The mocked source and the decoded records it reads (TFDS train split, N episodes)."""
    source = _mocked_source()
    with mocking.mock_data(num_examples=N, policy=mocking.MockPolicy.USE_CODE):
        records = tfds.data_source(TFDS_NAME, split="train", download=False)
        decoded = [records[i] for i in range(N)]
    return source, decoded


def _to_uint8(video) -> np.ndarray:
    return np.rint(np.asarray(video) * 255.0).astype(np.uint8)


def _locate(clip_video, records) -> tuple[int, int]:
    """(record, start) of the clip whose frames equal `clip_video` [T, H, W, C] in [0, 1]."""
    frames = _to_uint8(clip_video)
    hits = [
        (i, s)
        for i, r in enumerate(records)
        for s in range(30 - len(frames) + 1)
        if np.array_equal(np.asarray(r["image_main"])[s : s + len(frames)], frames)
    ]
    assert len(hits) == 1, hits
    return hits[0]


def _expected_cond(record) -> np.ndarray:
    action = np.asarray(record["action"], np.float32)
    position = np.asarray(record["endeffector_pos"], np.float32)
    return np.concatenate([action, position], axis=-1)


def test_batch_shapes_dtypes_ranges(mocked):
    source, _ = mocked
    assert isinstance(source, BAIRSource)
    sizes = {s: source.split_size(s) for s in ("train", "val", "test")}
    assert sizes == {"train": N - VAL, "val": VAL, "test": N}
    batch = source.train_batch(jax.random.key(0), 3)
    assert set(batch) == {"video", "cond"}
    assert batch["video"].shape == (3, T, R, R, 3) and batch["video"].dtype == np.float32
    assert batch["cond"].shape == (3, T, 7) and batch["cond"].dtype == np.float32
    video = np.asarray(batch["video"])
    assert video.min() >= 0.0 and video.max() <= 1.0 and video.max() > 0.5
    for split in ("val", "test"):
        clips = source.eval_clips(2, split)
        assert clips["video"].shape == (2, T, R, R, 3) and clips["cond"].shape == (2, T, 7)


def test_episodes_and_clips_match_records(mocked):
    source, records = mocked
    for split in ("train", "val"):
        start, _ = source.episode_ranges[split]
        items = source.episodes[split].items
        for i in (0, len(items) - 1):
            episode, record = items[i], records[start + i]
            video = np.asarray(episode["video"])
            assert video.dtype == np.uint8 and video.shape == (30, R, R, 3)
            np.testing.assert_array_equal(video, np.asarray(record["image_main"]))
            # A slice decodes just those frames.
            np.testing.assert_array_equal(episode["video"][3:7], video[3:7])
            assert len(episode["video"]) == 30
            assert episode["cond"].dtype == np.float32 and episode["cond"].shape == (30, 7)
            np.testing.assert_array_equal(episode["cond"], _expected_cond(record))
    # Each clip's cond is action ‖ endeffector_pos of exactly the clip's frames.
    batch = source.train_batch(jax.random.key(1), 4)
    for video, cond in zip(batch["video"], batch["cond"], strict=True):
        i, s = _locate(video, records)
        np.testing.assert_array_equal(cond, _expected_cond(records[i])[s : s + T])


def test_eval_clips_are_fixed(mocked):
    source, _ = mocked
    again = _mocked_source()
    for split in ("val", "test"):
        a, b = source.eval_clips(4, split), again.eval_clips(4, split)
        for key in ("video", "cond"):
            np.testing.assert_array_equal(a[key], b[key])
            np.testing.assert_array_equal(source.eval_clips(2, split)[key], a[key][:2])
    a, b = source.train_batch(jax.random.key(7), 4), again.train_batch(jax.random.key(7), 4)
    np.testing.assert_array_equal(a["video"], b["video"])


def test_train_and_val_episodes_are_disjoint(mocked):
    source, records = mocked
    assert source.episode_ranges["train"] == (0, N - VAL)
    assert source.episode_ranges["val"] == (N - VAL, N)
    fingerprint = lambda video: np.asarray(video).tobytes()
    train = {fingerprint(e["video"]) for e in source.episodes["train"].items}
    val = {fingerprint(e["video"]) for e in source.episodes["val"].items}
    assert len(train) == N - VAL and len(val) == VAL and not train & val
    assert train | val == {fingerprint(np.asarray(r["image_main"])) for r in records}
    batch = source.train_batch(jax.random.key(2), 8)
    assert all(_locate(video, records)[0] < N - VAL for video in batch["video"])
    assert all(
        _locate(video, records)[0] >= N - VAL for video in source.eval_clips(4, "val")["video"]
    )


def test_reads_a_real_array_record_dataset(tmp_path):
    build_synthetic(tmp_path, "array_record")
    source = make_source(_config(str(tmp_path), val_episodes=1, predict_frames=28))
    assert [source.split_size(s) for s in ("train", "val", "test")] == [2, 1, 2]
    for split, tfds_split in (("train", "train"), ("val", "train"), ("test", "test")):
        records = tfds.data_source(TFDS_NAME, split=tfds_split, data_dir=str(tmp_path))
        start, stop = source.episode_ranges[split]
        for i in range(stop - start):
            episode, record = source.episodes[split].items[i], records[start + i]
            np.testing.assert_array_equal(episode["video"], np.stack(record["image_main"]))
            np.testing.assert_array_equal(episode["cond"], _expected_cond(record))
    clips = source.eval_clips(2, "test")  # 30-frame clips: the whole episodes
    assert clips["video"].shape == (2, 30, R, R, 3) and clips["cond"].shape == (2, 30, 7)


def test_missing_dataset_names_the_build_command(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        make_source(_config(str(tmp_path)))
    message = str(info.value)
    assert f"no dataset at {tmp_path}/{TFDS_NAME}/" in message
    assert f"tfds build {TFDS_NAME} --data_dir={tmp_path} --file_format=array_record" in message


def test_tfrecord_dataset_names_the_conversion(tmp_path):
    builder = build_synthetic(tmp_path, "tfrecord", num_train=1, num_test=1)
    with pytest.raises(DatasetNotFoundError) as info:
        make_source(_config(str(tmp_path)))
    message = str(info.value)
    assert "tfrecord format" in message
    assert (
        f"tfds convert_format --dataset_version_dir={builder.data_dir} "
        "--out_file_format=array_record" in message
    )
    assert f"--data_dir={tmp_path} --file_format=array_record" in message


@pytest.mark.parametrize(
    "data, match",
    [
        ({"resolution": 128}, "data.resolution must be 64"),
        ({"context_frames": 2, "predict_frames": 29}, "31 frames do not fit"),
        ({"val_episodes": 0}, "val_episodes must be >= 1"),
    ],
)
def test_config_errors_before_reading(data, match):
    with pytest.raises(ConfigError, match=match):
        make_source(_config("/nonexistent/tfds", **data))


def test_val_must_leave_training_episodes():
    with pytest.raises(ConfigError, match="leaves no training episode"):
        _mocked_source(val_episodes=N)
