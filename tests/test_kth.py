"""KTH: TFDS builder from tiny synthetic AVIs (zip and plain), prepare CLI, KTHSource."""

import io
import os
import subprocess
import sys
import zipfile

import jax
import ml_collections
import numpy as np
import pytest
import tensorflow_datasets as tfds
from helpers import REPO, env, load_config, vgen_main

from vgen import config_lib
from vgen.data import kth
from vgen.errors import ConfigError, DatasetNotFoundError

PERSONS = (1, 2, 17, 21)  # svg: train 1, 2, 17 / test 21; mcnet: train 1, 2 / test 17, 21
ACTIONS = ("boxing", "walking")  # boxing in boxing.zip, walking extracted in walking/
BAD = {
    "person03_walking_d1_uncomp.avi": "garbage",
    "person04_boxing_d1_uncomp.avi": "truncated",
}
W, H = 160, 120
BAND = 16  # a bright band in the leftmost columns: kept by the 64 squash, cropped by 120


def _num_frames(person: int) -> int:
    return 14 + person % 3


def _avi(num_frames: int, seed: int) -> bytes:
    """A gray 160x120 AVI: a square moving over a flat background with a bright left band."""
    rng = np.random.default_rng(seed)
    y, x = rng.integers(20, 60), rng.integers(30, 60)
    frames = np.full((num_frames, H, W), 100, np.uint8)
    frames[:, :, :BAND] = 240
    for t in range(num_frames):
        frames[t, y : y + 32, x + 4 * t : x + 4 * t + 32] = 20
    return kth.encode_avi(frames)


def _name(person: int, action: str, scenario: int = 1) -> str:
    return f"person{person:02d}_{action}_d{scenario}_uncomp.avi"


def _write_manual_dir(root, with_bad: bool):
    root.mkdir()
    (root / "walking").mkdir()
    with zipfile.ZipFile(root / "boxing.zip", "w") as zf:
        for p in PERSONS:
            zf.writestr(_name(p, "boxing"), _avi(_num_frames(p), seed=p))
    for p in PERSONS:
        (root / "walking" / _name(p, "walking")).write_bytes(_avi(_num_frames(p), seed=100 + p))
    if with_bad:
        (root / "walking" / "person03_walking_d1_uncomp.avi").write_bytes(b"RIFF" + bytes(3000))
        good = _avi(12, seed=4)
        (root / "person04_boxing_d1_uncomp.avi").write_bytes(good[: len(good) - 500])
    return root


def _build(manual_dir, data_dir, resolution=64, **kw):
    builder = kth.Kth(config=str(resolution), data_dir=str(data_dir), **kw)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir))
    )
    return builder


def _prepare(*args):
    return subprocess.run(
        [sys.executable, "-m", "vgen.data.prepare", *args],
        cwd=REPO,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("kth")
    good = _write_manual_dir(root / "good", with_bad=False)
    bad = _write_manual_dir(root / "bad", with_bad=True)
    return {"root": root, "good": good, "bad": bad}


@pytest.fixture(scope="module")
def data_dir(dirs):
    """kth/64 from the manual dir with two bad files, skipping them."""
    out = dirs["root"] / "tfds"
    _build(dirs["bad"], out, skip_bad_files=True, require_complete=False)
    return out


@pytest.fixture(scope="module")
def cli_120(dirs):
    """kth/120 built by the prepare command, with 00sequences.txt."""
    (dirs["good"] / kth.SEQUENCES_FILE).write_text(
        "Training: person11, ...\n\n"
        "person01_boxing_d1\t\tframes\t1-6, 7-14\n"
        "person02_boxing_d1   frames 1-6 ,7-99\r\n"
        "person13_handclapping_d3\t\t*missing*\n"
    )
    out = dirs["root"] / "tfds_cli"
    proc = _prepare(
        "kth",
        f"--manual_dir={dirs['good']}",
        f"--data_dir={out}",
        "--resolution=120",
        "--use_sequences",
        "--allow_incomplete",
    )
    return proc, out


def _records(data_dir, resolution=64):
    sources = tfds.data_source(f"kth/{resolution}", data_dir=str(data_dir), download=False)
    return {split: [src[i] for i in range(len(src))] for split, src in sources.items()}


def _config(data_dir, resolution=64, person_split="svg") -> ml_collections.ConfigDict:
    """A config with every KTH option declared (config_lib.set_data), as experiment configs do."""
    config = config_lib.common_config()
    config_lib.set_data(
        config,
        "kth",
        data_dir=str(data_dir),
        resolution=resolution,
        context_frames=2,
        predict_frames=8,
        person_split=person_split,
        num_workers=2,
    )
    return config


def _person(filename: str) -> int:
    return int(filename[6:8])


# ----------------------------------------------------------------------------- builder


def test_features_64(data_dir):
    records = _records(data_dir)
    assert set(records) == set(kth.SPLITS)
    names = kth.Kth(config="64", data_dir=str(data_dir)).info.features["action"].names
    assert tuple(names) == kth.ACTIONS
    seen = set()
    for split, recs in records.items():
        for r in recs:
            name = r["filename"].decode()
            p, a = _person(name), name.split("_")[1]
            assert p in kth.SPLITS[split] and r["person"] == p
            assert kth.ACTIONS[r["action"]] == a and r["scenario"] == 1 and r["sequence"] == 0
            video = r["video"]
            assert video.dtype == np.uint8 and video.shape == (_num_frames(p), 64, 64, 1)
            assert r["num_frames"] == _num_frames(p)
            # Background ~100, the square ~20, the squashed band (16 of 160 cols -> ~6 of 64) ~240.
            assert abs(np.median(video) - 100) < 8
            assert video[:, :, :4].mean() > 200 and video.min() < 50
            seen.add((p, a))
    assert seen == {(p, a) for p in PERSONS for a in ACTIONS}
    # Records are in generation order: the metadata index describes record i of each split.
    index = kth.Kth(config="64", data_dir=str(data_dir)).info.metadata["episodes"]
    for split, recs in records.items():
        assert index[split]["filename"] == [r["filename"].decode() for r in recs]
        assert index[split]["num_frames"] == [int(r["num_frames"]) for r in recs]


def test_bad_files_skipped_and_recorded(data_dir):
    builder = kth.Kth(config="64", data_dir=str(data_dir))  # reloaded from disk
    meta = builder.info.metadata
    assert meta["num_skipped_files"] == 2
    assert sorted(os.path.basename(s.split(":")[0]) for s in meta["skipped_files"]) == sorted(BAD)
    assert any("truncated" in s for s in meta["skipped_files"])
    assert os.path.isfile(os.path.join(builder.data_dir, "metadata.json"))
    assert meta["complete"] is False and "handclapping: all videos" in meta["missing"]


def test_bad_file_fails_build_by_name(dirs, tmp_path):
    with pytest.raises(kth.CorruptVideoError, match=r"person0[34]_\w+_uncomp.avi.*--skip_bad"):
        _build(dirs["bad"], tmp_path, require_complete=False)
    assert not kth.Kth(config="64", data_dir=str(tmp_path)).is_prepared()


def test_truncated_video_detected():
    good = _avi(12, seed=4)
    assert kth.decode_video(io.BytesIO(good), 64).shape == (12, 64, 64, 1)
    with pytest.raises(kth.VideoDecodeError, match="truncated"):
        kth.decode_video(io.BytesIO(good[: len(good) - 500]), 64)


def test_missing_manual_dir(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        _build(tmp_path / "nope", tmp_path / "tfds")
    assert kth.KTH_URL in str(e.value) and "boxing.zip" in str(e.value)


def test_incomplete_manual_dir_lists_what_is_missing(dirs, tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        _build(dirs["good"], tmp_path)
    msg = str(e.value)
    assert "8 of 599 videos" in msg and kth.KTH_URL in msg
    assert "handclapping: all videos (no handclapping.zip or extracted .avi found)" in msg
    assert "boxing: person01 d2,d3,d4, person02 d2,d3,d4, person03-16, person17 d2,d3,d4, " in msg


def test_describe_missing():
    everything = [
        kth.VideoFile("", a, p, d, path="")
        for a in kth.ACTIONS
        for p in kth.PERSONS
        for d in kth.SCENARIOS
        if (a, p, d) not in kth.KNOWN_MISSING
    ]
    assert len(everything) == 599 and kth.describe_missing(everything) == ""
    gone = {("running", p, d) for p in (3, 4, 5, 9) for d in kth.SCENARIOS}
    gone |= {("running", 7, 2)} | {("handclapping", 13, d) for d in kth.SCENARIOS}
    some = [v for v in everything if (v.action, v.person, v.scenario) not in gone]
    assert kth.describe_missing(some) == (
        "handclapping: person13; running: person03-05, person07 d2, person09"
    )


def test_parse_sequences():
    text = "header\n\nperson01_boxing_d1\t\tframes\t1-95, 96-185,186-245 ,  246-360\n"
    text += "person13_handclapping_d3  *missing*\nperson02_walking_d4 frames 5 - 9\n"
    assert kth.parse_sequences(text) == {
        "person01_boxing_d1": [(1, 95), (96, 185), (186, 245), (246, 360)],
        "person02_walking_d4": [(5, 9)],
    }


# ----------------------------------------------------------------------------- prepare CLI


def test_prepare_cli_120_with_sequences(cli_120):
    proc, out = cli_120
    assert proc.returncode == 0, proc.stderr
    assert "persons01_16: 6 examples" in proc.stdout  # 2 + 2 sequences, 2 whole videos
    assert "persons21_25: 2 examples" in proc.stdout
    assert "skipped 0 bad file(s)" in proc.stdout
    records = _records(out, 120)
    by_key = {(r["filename"].decode(), int(r["sequence"])): r for r in records["persons01_16"]}
    assert by_key[(_name(1, "boxing"), 1)]["num_frames"] == 6
    assert by_key[(_name(1, "boxing"), 2)]["num_frames"] == 8
    assert by_key[(_name(2, "boxing"), 2)]["num_frames"] == _num_frames(2) - 6
    video = by_key[(_name(1, "walking"), 0)]["video"]
    assert video.shape == (_num_frames(1), 120, 120, 1) and video.dtype == np.uint8
    assert video[:, :, :4].max() < 140  # the bright band (cols 0-15) is outside the crop


def test_prepare_again(cli_120, dirs, capsys):
    from vgen.data import prepare

    args = ["kth", f"--manual_dir={dirs['good']}", f"--data_dir={cli_120[1]}", "--resolution=120"]
    assert prepare.main([*args, "--use_sequences", "--allow_incomplete"]) == 0
    assert "already prepared" in capsys.readouterr().out
    assert prepare.main(args) == 2  # built with use_sequences: asks to delete it first
    assert "vgen: error:" in capsys.readouterr().err


def test_prepare_cli_missing_dir(tmp_path):
    proc = _prepare("kth", f"--manual_dir={tmp_path / 'nope'}", f"--data_dir={tmp_path}")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vgen: error: KTH: manual_dir")
    assert kth.KTH_URL in lines[0]


# ----------------------------------------------------------------------------- KTHSource


@pytest.mark.parametrize(
    "protocol, train, test", [("svg", {1, 2, 17}, {21}), ("mcnet", {1, 2}, {17, 21})]
)
def test_source_person_splits(data_dir, protocol, train, test):
    source = kth.KTHSource(_config(data_dir, person_split=protocol))
    names = source.filenames
    assert {_person(f) for f in names["train"] + names["val"]} == train
    assert {_person(f) for f in names["test"]} == test
    assert not set(names["val"]) & set(names["train"])
    assert len(names["val"]) == 2  # one video of each action (half of at most 3)
    assert source.split_size("test") == len(names["test"])


def test_source_batches_and_determinism(data_dir):
    source = kth.KTHSource(_config(data_dir))
    batch = source.train_batch(jax.random.key(1), 3)
    assert batch["video"].shape == (3, 10, 64, 64, 1) and batch["video"].dtype == np.float32
    assert 0.0 <= batch["video"].min() and batch["video"].max() <= 1.0
    assert set(batch["label"].tolist()) <= {0, 5}
    again = source.train_batch(jax.random.key(1), 3)
    np.testing.assert_array_equal(batch["video"], again["video"])
    a = source.eval_clips(3, "test")
    b = kth.KTHSource(_config(data_dir)).eval_clips(3, "test")
    np.testing.assert_array_equal(a["video"], b["video"])
    np.testing.assert_array_equal(a["label"], b["label"])
    assert source.eval_clips(2, "val")["video"].shape == (2, 10, 64, 64, 1)


def _srvp_lengths() -> dict[tuple[str, int, int], int]:
    """Frame counts of the 120 test videos (persons 21-25), as in the check against SRVP below."""
    rng = np.random.default_rng(0)
    keys = [(a, p, d) for a in kth.ACTIONS for p in range(21, 26) for d in range(1, 5)]
    return {key: int(rng.integers(40, 700)) for key in keys}


def test_srvp_test_draw_matches_srvps_script():
    """Pinned from SRVP's own preprocessing/kth/make_test_set.py (edouardelasalles/srvp), run
    on a fake processed_64 folder with these frame counts: its 1,000 clips of 40 frames were
    exactly this draw (the first three and the last pinned here)."""
    lengths = _srvp_lengths()
    draw = kth.srvp_test_draw(lengths, 1000, 40)
    assert draw[:3] == [
        (("jogging", 25, 3), 106),
        (("running", 25, 3), 121),
        (("handwaving", 23, 3), 87),
    ]
    assert draw[-1] == (("jogging", 22, 3), 27)
    assert kth.srvp_test_draw(lengths, 10, 40) == draw[:10]
    assert all(0 <= start <= lengths[key] - 40 for key, start in draw)


def test_srvp_test_draw_errors():
    lengths = _srvp_lengths()
    del lengths[("jogging", 25, 3)]
    with pytest.raises(DatasetNotFoundError, match="draws person25_jogging_d3"):
        kth.srvp_test_draw(lengths, 1, 40)
    with pytest.raises(ConfigError, match="shorter than a clip of 800"):
        kth.srvp_test_draw(_srvp_lengths(), 1, 800)


def test_source_srvp_test_clips(data_dir, monkeypatch):
    config = _config(data_dir)
    config.data.test_clips = "srvp"
    with pytest.raises(DatasetNotFoundError, match="data.test_clips='srvp' draws"):
        kth.KTHSource(config).eval_clips(1)  # the tiny data lack most test videos
    monkeypatch.setattr(kth, "srvp_test_draw", lambda *a: [(("walking", 21, 1), 3)] * 2)
    source = kth.KTHSource(config)
    clips = source.eval_clips(2)
    episode = source.filenames["test"].index(_name(21, "walking"))
    whole = source._splits["test"].items[episode]["video"]
    np.testing.assert_array_equal(clips["video"][1], whole[3:13].astype(np.float32) / 255.0)
    assert clips["label"].tolist() == [5, 5]
    assert source.eval_clips(1, "val")["video"].shape == (1, 10, 64, 64, 1)  # seeded as before


@pytest.mark.parametrize(
    "override, message",
    [
        (dict(test_clips="other"), "unknown data.test_clips 'other'"),
        (dict(test_clips="srvp", person_split="mcnet"), "person_split 'svg'"),
    ],
)
def test_source_test_clips_config_errors(data_dir, override, message):
    config = _config(data_dir)
    config.data.update(override)
    with pytest.raises(ConfigError, match=message):
        kth.KTHSource(config)


def test_source_tiny_resolution(data_dir):
    batch = kth.KTHSource(_config(data_dir, resolution=16)).eval_clips(2)
    assert batch["video"].shape == (2, 10, 16, 16, 1)


def test_ffgan_kth_config(data_dir):
    from vgen.data import make_source

    config = load_config("ffgan_kth", "64")
    config.data.data_dir = str(data_dir)
    source = make_source(config)
    assert isinstance(source, kth.KTHSource) and source.person_split == "svg"
    assert source.eval_clips(1)["video"].shape == (1, 12, 64, 64, 1)


def test_ffgan_kth_tiny_trains_and_evaluates_on_prepared_kth(data_dir, tmp_path):
    args = ("--config=configs/ffgan_kth.py:tiny", f"--config.data.data_dir={data_dir}")
    proc = vgen_main(*args, "--config.train.num_steps=2", f"--workdir={tmp_path}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "checkpoints" / "2").is_dir()
    overrides = ("--config.eval.num_clips=2", "--config.eval.num_samples=2", "--mode=eval")
    proc = vgen_main(*args, *overrides, f"--workdir={tmp_path}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "eval" / "results.json").is_file()


def test_source_not_prepared(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="KTH is not prepared") as e:
        kth.KTHSource(_config(tmp_path))
    assert "python -m vgen.data.prepare kth --manual_dir=" in str(e.value)


def test_reimport_reregisters():
    import importlib

    module = importlib.reload(kth)
    assert tfds.builder_cls("kth") is module.Kth
