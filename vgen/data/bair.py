"""BAIR robot pushing (Ebert et al. 2017), read from the TFDS dataset the user prepares.

The TFDS catalog dataset `bair_robot_pushing_small` (64x64): train 43,264 and test 256 episodes
of 30 steps, each step an RGB frame `image_main` (and `image_aux1`, a second camera, unused
here), a 4-d `action` and the 3-d `endeffector_pos`. The code never downloads it (no network
at run time): the user builds it once, in the random-access array_record format, into
`config.data.data_dir`.

Splits: "train" is the TFDS train split less its last `data.val_episodes` episodes (default
256, in TFDS record order); "val" is those held-out train episodes, used only to monitor
training; "test" is the TFDS test split. Per step, cond = action (4) ‖ endeffector_pos (3)
-> [T, 7] float32.
"""

import os
from collections.abc import Callable, Sequence
from typing import Any

import ml_collections
import numpy as np

from vgen.data.pipeline import EpisodeClipSource, Episodes
from vgen.errors import ConfigError, DatasetNotFoundError

TFDS_NAME = "bair_robot_pushing_small"
EPISODE_LENGTH = 30  # steps per episode (fixed by the TFDS feature spec)
RESOLUTION = 64
COND_DIM = 7  # action (4) ‖ endeffector_pos (3)
SPLITS = ("train", "val", "test")
DEFAULT_DATA_DIR = "~/tensorflow_datasets"


def build_command(data_dir: str) -> str:
    """The command that prepares the dataset (on a machine with internet; ~30 GB download)."""
    return f"tfds build {TFDS_NAME} --data_dir={data_dir} --file_format=array_record"


class PNGFrames:
    """Encoded frames decoded on access: `frames[a:b]` -> uint8 [b - a, H, W, C], decoding only
    those frames (a training clip of 12 steps decodes 12 of an episode's 30 PNGs)."""

    def __init__(self, encoded: Sequence[bytes], decode_image: Callable[[bytes], np.ndarray]):
        self._encoded, self._decode = encoded, decode_image

    def __len__(self) -> int:
        return len(self._encoded)

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice):
            raise TypeError(f"PNGFrames takes a slice of frames, got {index!r}")
        return np.stack([self._decode(frame) for frame in self._encoded[index]])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        video = self[:]
        return video if dtype is None else video.astype(dtype)


def decode_episode(record: bytes, decode_image: Callable[[bytes], np.ndarray]) -> dict:
    """One serialized TFDS example -> {"video": PNGFrames (uint8 [30, 64, 64, 3] on access),
    "cond": float32 [30, 7]}.

    Only `image_main` frames are decoded, and only when sliced; `image_aux1` is skipped.
    `decode_image` decodes one encoded frame (the TFDS Image feature's NumPy decoder).
    """
    from tensorflow_datasets.proto import tf_example_pb2

    feature = tf_example_pb2.Example.FromString(record).features.feature
    frames = feature["image_main"].bytes_list.value
    if len(frames) != EPISODE_LENGTH:
        raise ValueError(f"{TFDS_NAME}: expected {EPISODE_LENGTH} frames, got {len(frames)}")
    action = np.asarray(feature["action"].float_list.value, np.float32).reshape(-1, 4)
    position = np.asarray(feature["endeffector_pos"].float_list.value, np.float32).reshape(-1, 3)
    return {
        "video": PNGFrames(list(frames), decode_image),
        "cond": np.concatenate([action, position], axis=-1),
    }


class EpisodeRecords(Sequence):
    """Records [start, stop) of one TFDS split, decoded on access: items of `Episodes`.

    `records` is a TFDS data source read with `DeserializeMethod.RAW_BYTES` (thread-safe random
    access); item i is `decode_episode(records[start + i])`.
    """

    def __init__(self, records: Sequence[bytes], start: int, stop: int, decode_image: Callable):
        if not 0 <= start <= stop <= len(records):
            raise ValueError(f"EpisodeRecords: bad range [{start}, {stop}) of {len(records)}")
        self.records, self.start, self.stop = records, int(start), int(stop)
        self._decode_image = decode_image

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        i = int(i)
        if not 0 <= i < len(self):
            raise IndexError(f"episode {i} out of range [0, {len(self)})")
        return decode_episode(self.records[self.start + i], self._decode_image)


def _not_prepared(data_dir: str) -> DatasetNotFoundError | None:
    """The clear error for a data_dir without a usable prepared dataset (None: no diagnosis)."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(TFDS_NAME, data_dir=data_dir)
    path = builder.data_dir  # <data_dir>/bair_robot_pushing_small/<version>
    if not builder.is_prepared():
        hint = ""
        if os.path.basename(os.path.normpath(data_dir)) == TFDS_NAME:
            hint = f" (data_dir is the folder that contains {TFDS_NAME}/, not that folder)"
        return DatasetNotFoundError(
            f"BAIR robot pushing is not prepared: no dataset at {path}{hint}.\n"
            "  1. On a machine with internet (~30 GB download; needs tensorflow-datasets, "
            "tensorflow and, for the tfds command, apache-beam), build it in the array_record "
            f"format: {build_command(data_dir)}\n"
            f"  2. Copy the {TFDS_NAME} folder it writes into {data_dir} on this machine.\n"
            f"  3. Point config.data.data_dir at {data_dir}."
        )
    formats = builder.info.available_file_formats()
    if tfds.core.FileFormat.ARRAY_RECORD not in formats:
        found = ", ".join(sorted(f.value for f in formats)) or "an unknown"
        return DatasetNotFoundError(
            f"BAIR robot pushing at {path} is in the {found} format, which has no random "
            "access; vgen reads array_record. Convert it in place (the tfds command needs "
            "apache-beam: pip install apache-beam):\n"
            f"  tfds convert_format --dataset_version_dir={path} --out_file_format=array_record\n"
            f"or rebuild it: {build_command(data_dir)}"
        )
    return None


def open_tfds_splits(data_dir: str) -> dict[str, Any]:
    """The prepared TFDS train and test splits as raw-bytes random-access data sources.

    Raises DatasetNotFoundError (with the command to run) if the dataset is missing from
    `data_dir` or not stored in the array_record format.
    """
    import tensorflow_datasets as tfds

    data_dir = os.path.expanduser(data_dir)
    try:
        train, test = tfds.data_source(
            TFDS_NAME,
            split=["train", "test"],
            data_dir=data_dir,
            download=False,
            deserialize_method=tfds.decode.DeserializeMethod.RAW_BYTES,
        )
    except Exception as e:
        error = _not_prepared(data_dir)
        if error is None:
            raise
        raise error from e
    return {"train": train, "test": test}


def _image_decoder(records: Any) -> Callable[[bytes], np.ndarray]:
    """The TFDS NumPy decoder of one `image_main` frame (OpenCV if installed, else PIL)."""
    image = records.dataset_info.features.feature["image_main"]
    if tuple(image.shape) != (RESOLUTION, RESOLUTION, 3):
        raise DatasetNotFoundError(
            f"{TFDS_NAME}: image_main frames are {image.shape}, expected "
            f"({RESOLUTION}, {RESOLUTION}, 3)"
        )
    return image.decode_example_np


class BAIRSource(EpisodeClipSource):
    """Random training clips and fixed evaluation clips of prepared BAIR robot pushing.

    Batches: "video" float32 [B, T, 64, 64, 3] in [0, 1] and "cond" float32 [B, T, 7]
    (action ‖ endeffector_pos), T = data.context_frames + data.predict_frames <= 30.
    `episode_ranges[split]` is the (start, stop) range of TFDS records of the split ("train"
    and "val" index the TFDS train split, "test" the TFDS test split).
    """

    def __init__(self, config: ml_collections.ConfigDict):
        d = config.data
        if int(d.resolution) != RESOLUTION:
            raise ConfigError(
                f"bair: data.resolution must be {RESOLUTION} (the frames of {TFDS_NAME}), "
                f"got {d.resolution}"
            )
        num_frames = int(d.context_frames) + int(d.predict_frames)
        if num_frames > EPISODE_LENGTH:
            raise ConfigError(
                f"bair: clips of data.context_frames + data.predict_frames = {num_frames} "
                f"frames do not fit in the {EPISODE_LENGTH}-frame BAIR episodes"
            )
        val_episodes = int(d.val_episodes)
        if val_episodes < 1:
            raise ConfigError(f"bair: data.val_episodes must be >= 1, got {val_episodes}")

        records = open_tfds_splits(d.data_dir or DEFAULT_DATA_DIR)
        num_train = len(records["train"])
        if val_episodes >= num_train:
            raise ConfigError(
                f"bair: data.val_episodes = {val_episodes} leaves no training episode "
                f"(the TFDS train split has {num_train})"
            )
        self.episode_ranges = {
            "train": (0, num_train - val_episodes),
            "val": (num_train - val_episodes, num_train),
            "test": (0, len(records["test"])),
        }
        decode_image = _image_decoder(records["train"])
        self.episodes: dict[str, Episodes] = {}
        for split, (start, stop) in self.episode_ranges.items():
            tfds_split = "test" if split == "test" else "train"
            items = EpisodeRecords(records[tfds_split], start, stop, decode_image)
            lengths = np.full(stop - start, EPISODE_LENGTH)
            self.episodes[split] = Episodes(items=items, lengths=lengths)
        super().__init__(
            name="bair",
            seed=config.data.seed,
            splits=self.episodes,
            num_frames=num_frames,
            num_workers=int(d.num_workers),
        )


def build_synthetic(
    data_dir: str, file_format: str = "array_record", num_train: int = 3, num_test: int = 2
):
    """Prepares a real `bair_robot_pushing_small` (the real builder's feature spec and files)
    of random-noise episodes in `data_dir`, for tests and benchmarks; returns the builder."""
    import tensorflow_datasets as tfds
    from tensorflow_datasets.datasets.bair_robot_pushing_small import (
        bair_robot_pushing_small_dataset_builder as real,
    )

    class SyntheticBAIR(real.Builder, skip_registration=True):
        name = TFDS_NAME
        pkg_dir_path = real.Builder._get_pkg_dir_path()  # README and citation of the real one
        url_infos = {}  # nothing to download

        def _split_generators(self, dl_manager):
            return {
                "train": self._generate_examples(num_train, seed=0),
                "test": self._generate_examples(num_test, seed=1),
            }

        def _generate_examples(self, num, seed):
            rng = np.random.default_rng(seed)
            for i in range(num):
                steps = [
                    {
                        "image_main": rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
                        "image_aux1": rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
                        "action": rng.standard_normal(4).astype(np.float32),
                        "endeffector_pos": rng.standard_normal(3).astype(np.float32),
                    }
                    for _ in range(EPISODE_LENGTH)
                ]
                yield f"{seed}_{i}", steps

    builder = SyntheticBAIR(data_dir=str(data_dir), file_format=file_format)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )
    return builder
