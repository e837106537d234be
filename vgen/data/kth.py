"""KTH human actions (Schüldt et al. 2004): a TFDS builder and the training source.

KTH cannot be downloaded by the code (no network at run time): the user fetches the six zip
files once from https://www.csc.kth.se/cvap/actions/ and builds the TFDS dataset
`kth/<resolution>` into a data_dir with `python -m vgen.data.prepare kth --manual_dir=...`.

Builder `kth` (registered when this module is imported), configs `64` and `120`. It reads the
zips from `manual_dir` with `zipfile` (nothing is extracted to disk) or already-extracted
`personXX_<action>_dY_uncomp.avi` files anywhere under it, and decodes them with PyAV. KTH is
25 fps 160×120 grayscale stored as colour video; frames are converted to uint8 gray:

- `64`: the SVG / SRVP preprocessing (edenton/svg `data/convert_kth.lua`, re-implemented in
  edouardelasalles/srvp `preprocessing/kth/convert.py`): `ffmpeg -i X.avi -r 25 -s 64x64
  image-%03d.png`, i.e. the whole 160×120 frame squashed to 64×64 (aspect ratio not kept, no
  crop) by libswscale's default bicubic scaler, converted to RGB for PNG, and then their loaders
  keep channel 0. We do the same in one libswscale call (PyAV `reformat`, bicubic, rgb24,
  channel 0), and `-r 25` is matched by repeating a frame where the timestamps skip one.
- `120`: "KTH at full 120×120 resolution" (the thesis): the centre 120×120 crop of the
  160×120 frame (columns 20..139), same gray conversion, no resampling.

Examples: `video` uint8 [L, R, R, 1], `action` (ClassLabel of ACTIONS), `person` 1..25,
`scenario` 1..4 (dY), `num_frames` L, `filename`, `sequence` (0: the whole video; k >= 1: the
k-th frame range of the official `00sequences.txt`, with `use_sequences=True`). Splits are
person blocks, so both literatures' protocols are unions of whole splits (PERSON_SPLITS).
Records are written in order (no TFDS shuffling) as array_record, and `info.metadata` keeps
each split's per-record filename / sequence / num_frames, so `KTHSource` knows every episode's
length without reading the videos.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import os
import pathlib
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import ml_collections
import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from vgen.data.pipeline import EpisodeClipSource, Episodes
from vgen.errors import ConfigError, DatasetNotFoundError

KTH_URL = "https://www.csc.kth.se/cvap/actions/"
ACTIONS = ("boxing", "handclapping", "handwaving", "jogging", "running", "walking")
PERSONS = tuple(range(1, 26))
SCENARIOS = (1, 2, 3, 4)
RESOLUTIONS = (64, 120)
FPS = 25
# The one video the official release lacks (599 of 600); completeness does not ask for it.
KNOWN_MISSING = frozenset({("handclapping", 13, 3)})
SEQUENCES_FILE = "00sequences.txt"

# TFDS splits: blocks of persons.
SPLITS: dict[str, tuple[int, ...]] = {
    "persons01_16": tuple(range(1, 17)),
    "persons17_20": tuple(range(17, 21)),
    "persons21_25": tuple(range(21, 26)),
}
# (train, test) TFDS split expressions per protocol: "svg" = SVG / SRVP code (train persons
# 1-20, test 21-25); "mcnet" = MCNet / PredRNN (train 1-16, test 17-25).
PERSON_SPLITS: dict[str, tuple[str, str]] = {
    "svg": ("persons01_16+persons17_20", "persons21_25"),
    "mcnet": ("persons01_16", "persons17_20+persons21_25"),
}
_VAL_SEED = 0  # the val videos never depend on config.seed
# data.test_clips: "seeded" (EpisodeClipSource's draw, every split) or "srvp" (the test clips
# as SRVP's make_test_set.py draws them; test split of person_split "svg" only).
TEST_CLIPS = ("seeded", "srvp")

_VIDEO_RE = re.compile(
    r"^person(\d\d)_(" + "|".join(ACTIONS) + r")_d(\d)_uncomp\.avi$", flags=re.IGNORECASE
)
_SEQ_LINE_RE = re.compile(r"^\s*(person\d\d_[a-z]+_d\d)\s+frames\s+(.*)$", flags=re.IGNORECASE)
_RANGE_RE = re.compile(r"(\d+)\s*-\s*(\d+)")

_CITATION = """@inproceedings{schuldt2004recognizing,
  title={Recognizing human actions: a local {SVM} approach},
  author={Sch{\\"u}ldt, Christian and Laptev, Ivan and Caputo, Barbara},
  booktitle={ICPR},
  year={2004}
}"""


class CorruptVideoError(DatasetNotFoundError):
    """A KTH video (or zip) in manual_dir cannot be read or is truncated."""


def prepared_dir(data_dir: str, resolution: int) -> str:
    """Where the prepared TFDS dataset lives: <data_dir>/kth/<resolution>."""
    return os.path.join(os.path.expanduser(data_dir), "kth", str(resolution))


def _zip_names() -> str:
    return ", ".join(f"{a}.zip" for a in ACTIONS)


# ----------------------------------------------------------------------------- reading videos


@dataclasses.dataclass(frozen=True)
class VideoFile:
    """One KTH video found in manual_dir: a plain file or a member of a zip."""

    filename: str  # e.g. person01_boxing_d1_uncomp.avi
    action: str
    person: int
    scenario: int
    path: str  # the .avi file, or the zip holding it
    member: str | None = None  # name inside the zip

    @property
    def stem(self) -> str:
        return f"person{self.person:02d}_{self.action}_d{self.scenario}"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.member}" if self.member else self.path

    def open(self) -> io.IOBase:
        """A binary file object with the AVI's bytes (zip members are read into memory)."""
        if self.member is None:
            return open(self.path, "rb")
        with zipfile.ZipFile(self.path) as zf:
            return io.BytesIO(zf.read(self.member))


def _parse_name(name: str) -> tuple[str, int, int] | None:
    m = _VIDEO_RE.match(os.path.basename(name))
    if not m:
        return None
    person, action, scenario = int(m.group(1)), m.group(2).lower(), int(m.group(3))
    if person not in PERSONS or scenario not in SCENARIOS:
        return None
    return action, person, scenario


def find_videos(
    manual_dir: str, *, skip_bad_files: bool = False
) -> tuple[list[VideoFile], list[tuple[str, str]]]:
    """All KTH videos under `manual_dir` (plain .avi files and members of any .zip).

    Returns (videos sorted by action, person, scenario; unreadable zips skipped, as
    [(path, reason)]). A video found twice is taken once (a plain file over a zip member).
    An unreadable zip raises CorruptVideoError unless `skip_bad_files`.
    """
    found: dict[tuple[str, int, int], VideoFile] = {}
    bad: list[tuple[str, str]] = []
    zips = []
    for root, dirs, files in os.walk(manual_dir):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(root, f)
            if f.lower().endswith(".zip"):
                zips.append(path)
            elif (key := _parse_name(f)) is not None:
                found.setdefault(key, VideoFile(f, *key, path=path))
    for path in zips:
        try:
            with zipfile.ZipFile(path) as zf:
                members = [i.filename for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError) as e:
            reason = f"not a readable zip file ({e})"
            if not skip_bad_files:
                raise CorruptVideoError(
                    f"KTH: {path} is {reason}; download it again from {KTH_URL} "
                    "(or pass --skip_bad_files to build without it)"
                ) from e
            logging.warning("KTH: skipping %s: %s", path, reason)
            bad.append((path, reason))
            continue
        for member in sorted(members):
            if (key := _parse_name(member)) is not None:
                found.setdefault(
                    key, VideoFile(os.path.basename(member), *key, path=path, member=member)
                )
    videos = [found[k] for k in sorted(found, key=lambda k: (ACTIONS.index(k[0]), k[1], k[2]))]
    return videos, bad


def _runs(numbers: Sequence[int]) -> list[list[int]]:
    """Sorted ints -> runs of consecutive ones: [3, 4, 5, 9] -> [[3, 4, 5], [9]]."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def describe_missing(videos: Sequence[VideoFile]) -> str:
    """The KTH videos missing from `videos`, grouped by action and person ("" if none)."""
    have = {(v.action, v.person, v.scenario) for v in videos}
    parts = []
    for action in ACTIONS:
        missing = [
            (p, d)
            for p in PERSONS
            for d in SCENARIOS
            if (action, p, d) not in have and (action, p, d) not in KNOWN_MISSING
        ]
        if not missing:
            continue
        if not any(a == action for a, _, _ in have):
            parts.append(f"{action}: all videos (no {action}.zip or extracted .avi found)")
            continue
        by_person = collections.defaultdict(list)
        for p, d in missing:
            by_person[p].append(d)
        full = [
            p
            for p in PERSONS
            if by_person.get(p) == [d for d in SCENARIOS if (action, p, d) not in KNOWN_MISSING]
        ]
        entries = [
            (run[0], f"person{run[0]:02d}" + (f"-{run[-1]:02d}" if len(run) > 1 else ""))
            for run in _runs(full)
        ]
        entries += [
            (p, f"person{p:02d} " + ",".join(f"d{d}" for d in ds))
            for p, ds in by_person.items()
            if p not in full
        ]
        items = [text for _, text in sorted(entries)]
        parts.append(f"{action}: " + ", ".join(items))
    return "; ".join(parts)


def parse_sequences(text: str) -> dict[str, list[tuple[int, int]]]:
    """`00sequences.txt` -> {"person01_boxing_d1": [(1, 95), (96, 185), ...]}.

    Frame ranges are 1-based and inclusive, kept in the file's order. Lines that are not
    "<video> frames <ranges>" (header, blank, "*missing*") are ignored; spacing may vary.
    """
    out: dict[str, list[tuple[int, int]]] = {}
    for line in text.splitlines():
        m = _SEQ_LINE_RE.match(line)
        if not m:
            continue
        ranges = [(int(a), int(b)) for a, b in _RANGE_RE.findall(m.group(2))]
        ranges = [(a, b) for a, b in ranges if 1 <= a <= b]
        if ranges:
            out[m.group(1).lower()] = ranges
    return out


class VideoDecodeError(Exception):
    """`decode_video` could not decode a file (the builder reports it with the file's name)."""


def to_gray(frame: Any, resolution: int, reformatter: Any = None) -> np.ndarray:
    """One decoded PyAV frame -> uint8 [R, R]: 64 squashes the frame, 120 crops its centre.

    Pass one `av.video.reformatter.VideoReformatter` for all frames of a video: a fresh one per
    frame (what `frame.reformat` does) is ~10x slower.
    """
    import av

    reformat = (reformatter or av.video.reformatter.VideoReformatter()).reformat
    if resolution == 64:  # SVG / SRVP: whole frame to 64x64, bicubic, channel 0 of RGB
        rgb = reformat(
            frame, width=resolution, height=resolution, format="rgb24", interpolation="BICUBIC"
        )
        return rgb.to_ndarray()[:, :, 0]
    gray = reformat(frame, format="rgb24").to_ndarray()[:, :, 0]
    h, w = gray.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    gray = np.ascontiguousarray(gray[top : top + side, left : left + side])
    if side != resolution:  # not KTH's 160x120: resample the centre square
        square = av.VideoFrame.from_ndarray(gray, format="gray")
        gray = square.reformat(
            width=resolution, height=resolution, interpolation="BICUBIC"
        ).to_ndarray()
    return gray


def decode_video(fileobj: io.IOBase, resolution: int) -> np.ndarray:
    """An AVI file object -> uint8 [L, R, R, 1] at 25 fps (see the module docstring).

    A frame whose timestamp skips ahead is preceded by copies of the previous one (as ffmpeg
    `-r 25` does). Raises VideoDecodeError if nothing decodes, the decoder fails, or fewer
    frames than the AVI header declares come out (a truncated file).
    """
    import av

    frames: list[np.ndarray] = []
    try:
        with av.open(fileobj, mode="r") as container:
            if not container.streams.video:
                raise VideoDecodeError("no video stream")
            stream = container.streams.video[0]
            declared = int(stream.frames or 0)
            reformatter = av.video.reformatter.VideoReformatter()
            for frame in container.decode(stream):
                image = to_gray(frame, resolution, reformatter)
                if frame.time is not None and frames:
                    gap = int(round(frame.time * FPS)) - len(frames)
                    if gap > FPS:
                        raise VideoDecodeError(
                            f"timestamps jump {gap} frames after frame {len(frames)}"
                        )
                    frames.extend([frames[-1]] * max(0, gap))
                frames.append(image)
    except av.FFmpegError as e:
        raise VideoDecodeError(f"decoding failed after {len(frames)} frames: {e}") from e
    if not frames:
        raise VideoDecodeError("no frames decoded")
    if declared and len(frames) < declared:
        raise VideoDecodeError(
            f"truncated: {len(frames)} of the {declared} frames it declares decode"
        )
    return np.stack(frames)[..., None]


def encode_avi(frames: np.ndarray) -> bytes:
    """Gray frames uint8 [L, H, W] -> the bytes of an mpeg4 AVI at 25 fps, like KTH's DivX
    files (H and W even). Tests and benchmarks make KTH-like videos with it."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=FPS)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = {"qscale": "2"}
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="gray")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


# ----------------------------------------------------------------------------- TFDS builder


def missing_manual_dir(path: Any) -> DatasetNotFoundError:
    """The error for a manual_dir that does not exist or is empty."""
    return DatasetNotFoundError(
        f"KTH: manual_dir {path} does not exist or is empty; download the six action "
        f"archives ({_zip_names()}) from {KTH_URL} into it (zipped or extracted)"
    )


_MANUAL_INSTRUCTIONS = f"""\
Download the six action archives ({_zip_names()}) from {KTH_URL} into manual_dir (leave
them zipped, or extract them anywhere under manual_dir). For use_sequences=True also put the
official {SEQUENCES_FILE} there.
"""

if tfds.core.registered._DATASET_REGISTRY.get("kth", object).__module__ == __name__:
    # Re-import (importlib.reload): replace our own earlier registration, not another's.
    del tfds.core.registered._DATASET_REGISTRY["kth"]


class Kth(tfds.core.GeneratorBasedBuilder):
    """KTH human actions, grayscale, configs `64` (SVG/SRVP squash) and `120` (centre crop).

    Builder kwargs: `skip_bad_files` (log and skip unreadable / truncated videos and record
    them in `info.metadata["skipped_files"]` instead of failing), `use_sequences` (one example
    per frame range of `00sequences.txt`), `require_complete` (fail unless all 599 videos are
    in manual_dir; False builds from whatever is there, e.g. in tests).
    """

    name = "kth"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(
            name="64", description="64x64: whole 160x120 frame resized (SVG/SRVP preprocessing)"
        ),
        tfds.core.BuilderConfig(
            name="120", description="120x120: centre crop of the 160x120 frame, no resampling"
        ),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = _MANUAL_INSTRUCTIONS
    # TFDS 4.9's own `code_path` imports the importlib_resources backport, which it declares as
    # a dependency for Python < 3.9 only: name this file directly.
    code_path = pathlib.Path(__file__)

    def __init__(
        self,
        *,
        skip_bad_files: bool = False,
        use_sequences: bool = False,
        require_complete: bool = True,
        **kwargs: Any,
    ):
        self.skip_bad_files = bool(skip_bad_files)
        self.use_sequences = bool(use_sequences)
        self.require_complete = bool(require_complete)
        kwargs.setdefault("file_format", "array_record")
        super().__init__(**kwargs)
        # TFDS pickles a builder as the kwargs of __init__: keep ours (and file_format) too.
        self._original_state.update(
            kwargs,
            skip_bad_files=self.skip_bad_files,
            use_sequences=self.use_sequences,
            require_complete=self.require_complete,
        )

    @property
    def resolution(self) -> int:
        return int(self.builder_config.name)

    def _info(self) -> tfds.core.DatasetInfo:
        r = self.resolution
        return self.dataset_info_from_configs(
            description=(
                "KTH human actions: 6 actions x 25 persons x 4 scenarios (d1 outdoors, d2 "
                "outdoors with scale variation, d3 outdoors with different clothes, d4 indoors), "
                f"25 fps, grayscale uint8 at {r}x{r}. Splits are person blocks; train/test "
                f"protocols are unions of them: {PERSON_SPLITS}."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "video": tfds.features.Tensor(
                        shape=(None, r, r, 1),
                        dtype=np.uint8,
                        encoding=tfds.features.Encoding.BYTES,
                    ),
                    "action": tfds.features.ClassLabel(names=ACTIONS),
                    "person": tfds.features.Scalar(dtype=np.int32),
                    "scenario": tfds.features.Scalar(dtype=np.int32),
                    "sequence": tfds.features.Scalar(dtype=np.int32),
                    "num_frames": tfds.features.Scalar(dtype=np.int32),
                    "filename": tfds.features.Text(),
                }
            ),
            homepage=KTH_URL,
            citation=_CITATION,
            metadata=tfds.core.MetadataDict(),
            # Records stay in generation order, the order of metadata["episodes"].
            disable_shuffling=True,
        )

    def _manual_dir(self, dl_manager: tfds.download.DownloadManager) -> str:
        try:
            return os.fspath(dl_manager.manual_dir)
        except AssertionError:
            path = getattr(dl_manager, "_manual_dir", None)
            raise missing_manual_dir(path) from None

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        manual_dir = self._manual_dir(dl_manager)
        videos, bad_zips = find_videos(manual_dir, skip_bad_files=self.skip_bad_files)
        missing = describe_missing(videos)
        if not videos or (missing and self.require_complete):
            what = "no KTH videos" if not videos else "an incomplete KTH"
            raise DatasetNotFoundError(
                f"KTH: {manual_dir} holds {what} ({len(videos)} of 599 videos); missing: "
                f"{missing}. Get {_zip_names()} from {KTH_URL}"
                + ("" if not videos else " (or build from these: --allow_incomplete)")
            )
        if missing:
            logging.warning("KTH: building without the missing videos: %s", missing)
        sequences = None
        if self.use_sequences:
            path = os.path.join(manual_dir, SEQUENCES_FILE)
            if not os.path.isfile(path):
                raise DatasetNotFoundError(
                    f"KTH: use_sequences needs {path}; download {SEQUENCES_FILE} from {KTH_URL}"
                )
            with open(path, encoding="utf-8", errors="replace") as f:
                sequences = parse_sequences(f.read())

        meta = self.info.metadata
        meta.clear()
        meta.update(
            {
                "resolution": self.resolution,
                "use_sequences": self.use_sequences,
                "complete": not missing,
                "missing": missing,
                "skipped_files": [f"{p}: {why}" for p, why in bad_zips],
                "num_skipped_files": len(bad_zips),
                "episodes": {},
            }
        )
        splits = {}
        for split, persons in SPLITS.items():
            chosen = [v for v in videos if v.person in persons]
            if chosen:
                splits[split] = self._generate_examples(chosen, sequences, split)
            else:
                logging.warning("KTH: no videos of persons %s: split %s left out", persons, split)
        return splits

    def _generate_examples(
        self, videos: list[VideoFile], sequences: dict | None, split: str
    ) -> Iterator[tuple[int, dict]]:
        meta = self.info.metadata
        index = {"filename": [], "sequence": [], "num_frames": []}
        meta["episodes"][split] = index
        key = 0
        for video in videos:
            try:
                with video.open() as f:
                    frames = decode_video(f, self.resolution)
            except (VideoDecodeError, OSError, zipfile.BadZipFile) as e:
                if not self.skip_bad_files:
                    raise CorruptVideoError(
                        f"KTH: cannot use {video.location}: {e}; download it again from "
                        f"{KTH_URL} (or pass --skip_bad_files to build without it)"
                    ) from e
                logging.warning("KTH: skipping %s: %s", video.location, e)
                meta["skipped_files"].append(f"{video.location}: {e}")
                meta["num_skipped_files"] = len(meta["skipped_files"])
                continue
            if sequences is None:
                pieces = [(0, frames)]
            elif video.stem not in sequences:
                logging.warning("KTH: %s is not in %s; kept whole", video.stem, SEQUENCES_FILE)
                pieces = [(0, frames)]
            else:
                pieces = []
                for k, (a, b) in enumerate(sequences[video.stem], start=1):
                    if a > len(frames):
                        logging.warning(
                            "KTH: %s frames %d-%d: the video has %d", video.stem, a, b, len(frames)
                        )
                        continue
                    pieces.append((k, frames[a - 1 : b]))
            for sequence, clip in pieces:
                yield (
                    key,
                    {
                        "video": clip,
                        "action": video.action,
                        "person": video.person,
                        "scenario": video.scenario,
                        "sequence": sequence,
                        "num_frames": len(clip),
                        "filename": video.filename,
                    },
                )
                index["filename"].append(video.filename)
                index["sequence"].append(sequence)
                index["num_frames"].append(len(clip))
                key += 1
        logging.info("KTH %s: %d examples from %d videos", split, key, len(videos))


# ----------------------------------------------------------------------------- training source


class _Records(Sequence):
    """Lazy episodes: item i -> {"video": uint8 [L, R, R, 1], "label": action} of a record."""

    def __init__(self, sources: Mapping[str, Any], refs: list[tuple[str, int]], factor: int):
        self._sources, self._refs, self._factor = sources, refs, factor

    def __len__(self) -> int:
        return len(self._refs)

    def __getitem__(self, i: int) -> dict[str, Any]:
        split, j = self._refs[i]
        record = self._sources[split][j]
        video = np.asarray(record["video"])
        if self._factor > 1:  # area-downsample (test-sized configs)
            f = self._factor
            length, h, w, c = video.shape
            video = video.reshape(length, h // f, f, w // f, f, c).mean(axis=(2, 4))
            video = np.round(video).astype(np.uint8)
        return {"video": video, "label": int(record["action"])}


def _not_prepared(data_dir: str, resolution: int, reason: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"KTH is not prepared: {reason}.\n"
        f"  1. Download the six action archives ({_zip_names()}) from {KTH_URL}\n"
        f"  2. Build the TFDS dataset from them: "
        f"python -m vgen.data.prepare kth --manual_dir=<folder with the zips> "
        f"--data_dir={data_dir} --resolution={resolution}\n"
        "     (Dynamics (configs/quickstart.py) runs without any download.)\n"
        "  3. Point config.data.data_dir at that data_dir."
    )


def _episode_index(sources: Mapping[str, Any], meta: Mapping[str, Any], split: str) -> dict:
    """filename / num_frames per record of `split`: from the metadata, else read once."""
    index = (meta or {}).get("episodes", {}).get(split)
    if index is not None and len(index["num_frames"]) == len(sources[split]):
        return index
    logging.warning("KTH: no episode index for split %s in the metadata: reading it", split)
    records = [sources[split][i] for i in range(len(sources[split]))]
    names = [r["filename"] for r in records]
    return {
        "filename": [n.decode() if isinstance(n, bytes) else str(n) for n in names],
        "sequence": [int(r["sequence"]) for r in records],
        "num_frames": [int(r["num_frames"]) for r in records],
    }


def srvp_test_draw(
    lengths: Mapping[tuple[str, int, int], int], num_clips: int, num_frames: int, seed: int = 42
) -> list[tuple[tuple[str, int, int], int]]:
    """SRVP's KTH test clips: [((action, person, scenario), start)] of `num_clips` clips.

    As edouardelasalles/srvp `preprocessing/kth/make_test_set.py` draws them (1,000 clips of 40
    frames there): NumPy's legacy generator seeded 42, and for each clip an action
    randint(6), a person randint(21, 26), a scenario randint(1, 5) and a start randint(L -
    num_frames + 1) in that whole video of L frames (`lengths`). The first n clips never depend
    on how many are asked for.
    """
    rng = np.random.RandomState(seed)
    out = []
    for _ in range(int(num_clips)):
        action = ACTIONS[rng.randint(len(ACTIONS))]
        key = (action, int(rng.randint(21, 26)), int(rng.randint(1, 5)))
        name = "person{1:02d}_{0}_d{2}".format(*key)
        if key not in lengths:
            raise DatasetNotFoundError(
                f"KTH: data.test_clips='srvp' draws {name}, which the prepared test split lacks "
                "(it needs every video of persons 21-25, whole: built without use_sequences); "
                "prepare all of KTH or set data.test_clips='seeded'"
            )
        room = lengths[key] - int(num_frames) + 1
        if room < 1:
            raise ConfigError(
                f"KTH: data.test_clips='srvp' draws {name}, {lengths[key]} frames, shorter than "
                f"a clip of {num_frames} (context_frames + predict_frames)"
            )
        out.append((key, int(rng.randint(room))))
    return out


class KTHSource(EpisodeClipSource):
    """Random training clips and fixed evaluation clips of prepared KTH (TFDS, random access).

    Splits: "train" and "test" by `config.data.person_split` (PERSON_SPLITS, default "svg":
    persons 1-20 / 21-25; "mcnet": 1-16 / 17-25), and "val": data.val_videos_per_action videos per
    action of the train persons (a fixed draw, independent of config.seed), held out of "train"
    and used only to monitor training, never as a test set (if no train action has two videos,
    as in tiny test data, "val" is "train"). Clips are T = context_frames +
    predict_frames consecutive frames; shorter episodes are skipped. Batches: "video" float32
    [B, T, R, R, 1] in [0, 1] and "label" int32 [B] (the action). `config.data.resolution` is 64
    or 120, or a divisor of 64 (area-downsampled from kth/64, for test-sized configs). The test
    clips are SRVP's with `data.test_clips = "srvp"` (`srvp_test_draw`), else the seeded draw.
    """

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config
        d = config.data
        data_dir = d.data_dir or "~/tensorflow_datasets"
        resolution = int(d.resolution)
        if resolution in RESOLUTIONS:
            stored, factor = resolution, 1
        elif resolution >= 1 and 64 % resolution == 0:
            stored, factor = 64, 64 // resolution
        else:
            raise ConfigError(
                f"KTH: data.resolution must be 64 or 120 (or divide 64), got {resolution}"
            )
        person_split = d.person_split
        if person_split not in PERSON_SPLITS:
            raise ConfigError(
                f"KTH: unknown data.person_split {person_split!r}; "
                f"known: {', '.join(sorted(PERSON_SPLITS))}"
            )
        path = prepared_dir(data_dir, stored)
        builder = Kth(config=str(stored), data_dir=os.path.expanduser(data_dir))
        if not builder.is_prepared():
            via = f" (data.resolution {resolution} is read from kth/64)" if factor > 1 else ""
            raise _not_prepared(data_dir, stored, f"no dataset at {path}{via}")
        sources = tfds.data_source(
            f"kth/{stored}", data_dir=os.path.expanduser(data_dir), download=False
        )
        meta = builder.info.metadata

        test_clips = d.get("test_clips", "seeded")
        if test_clips not in TEST_CLIPS:
            raise ConfigError(
                f"KTH: unknown data.test_clips {test_clips!r}; known: {', '.join(TEST_CLIPS)}"
            )
        if test_clips == "srvp" and person_split != "svg":
            raise ConfigError(
                "KTH: data.test_clips='srvp' draws from persons 21-25, the test split of "
                f"person_split 'svg'; got person_split {person_split!r}"
            )

        def rows(expr: str) -> list[tuple[str, int, str, int, int]]:
            """(TFDS split, record, filename, sequence, num_frames) of a "+"-joined split
            expression (sequence 0: the whole video)."""
            out = []
            for split in expr.split("+"):
                if split not in sources:
                    raise _not_prepared(
                        data_dir, stored, f"{path} has no {split} split (built incomplete)"
                    )
                index = _episode_index(sources, meta, split)
                sequence = index.get("sequence", [0] * len(sources[split]))
                out += [
                    (split, i, index["filename"][i], int(sequence[i]), int(index["num_frames"][i]))
                    for i in range(len(sources[split]))
                ]
            return out

        train_expr, test_expr = PERSON_SPLITS[person_split]
        train, test = rows(train_expr), rows(test_expr)
        per_action = d.val_videos_per_action
        val_files = self._val_videos([r[2] for r in train], per_action)
        val = [r for r in train if r[2] in val_files]
        train = [r for r in train if r[2] not in val_files]

        def episodes(chosen: list[tuple[str, int, str, int, int]]) -> Episodes:
            items = _Records(sources, [(s, i) for s, i, *_ in chosen], factor)
            return Episodes(items=items, lengths=np.array([n for *_, n in chosen], np.int64))

        if not val:  # every train action has a single video (tiny test data)
            logging.warning("KTH: too few train videos to hold any out: val = train")
            val = train
        splits = {"train": episodes(train), "val": episodes(val), "test": episodes(test)}
        self.person_split = person_split
        self.test_clips = test_clips
        # Whole test videos by (action, person, scenario) -> (test episode, num_frames).
        self._whole_test_videos = {
            _parse_name(f): (k, n) for k, (_, _, f, seq, n) in enumerate(test) if seq == 0
        }
        # The video file of each episode, per split (e.g. to check who is in which split).
        self.filenames = {
            "train": tuple(r[2] for r in train),
            "val": tuple(r[2] for r in val),
            "test": tuple(r[2] for r in test),
        }
        super().__init__(
            name="KTH",
            seed=config.data.seed,
            splits=splits,
            num_frames=d.context_frames + d.predict_frames,
            num_workers=d.num_workers,
        )

    def eval_clips(self, num_clips: int, split: str = "test") -> dict[str, np.ndarray]:
        """The fixed evaluation clips of `split`: SRVP's test clips with data.test_clips='srvp'
        (`srvp_test_draw`), else EpisodeClipSource's seeded draw."""
        if split != "test" or self.test_clips != "srvp":
            return super().eval_clips(num_clips, split)
        if int(num_clips) < 1:
            raise ValueError(f"KTH.eval_clips: num_clips must be >= 1, got {num_clips}")
        videos = self._whole_test_videos
        lengths = {key: n for key, (_, n) in videos.items()}
        draw = srvp_test_draw(lengths, num_clips, self.num_frames)
        episodes = np.array([videos[key][0] for key, _ in draw])
        return self._batch(split, episodes, np.array([start for _, start in draw]))

    @staticmethod
    def _val_videos(filenames: Sequence[str], per_action: int) -> set[str]:
        """A fixed draw of `per_action` videos per action (at most half of each action's)."""
        by_action = collections.defaultdict(set)
        for f in filenames:
            parsed = _parse_name(f)
            by_action[parsed[0] if parsed else ""].add(f)
        rng = np.random.default_rng(_VAL_SEED)
        chosen = set()
        for action in sorted(by_action):
            names = sorted(by_action[action])
            k = min(int(per_action), len(names) // 2)
            chosen.update(rng.permutation(names)[:k].tolist())
        return chosen
