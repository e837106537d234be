"""End to end on the tiny quickstart: train, resume, eval, sample; through the real command line."""

import json
import math
import os

import jax
import numpy as np
import pytest
from helpers import load_config, run_python, vgen_main
from PIL import Image

from vgen.data import make_source
from vgen.metrics import psnr
from vgen.tb_events import read_events

CONFIG = "--config=configs/quickstart.py:tiny"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("quickstart"))
    proc = vgen_main(CONFIG, f"--workdir={workdir}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_train_writes_checkpoints_samples_config_and_events(run_dir):
    steps = sorted(int(s) for s in os.listdir(os.path.join(run_dir, "checkpoints")) if s.isdigit())
    assert steps == [2, 4]  # checkpoint_every=2, num_steps=4, keep 3
    samples = os.listdir(os.path.join(run_dir, "samples"))
    assert {"step_0000002.gif", "step_0000004.gif", "step_0000004.png"} <= set(samples)
    with open(os.path.join(run_dir, "config.json")) as f:
        assert json.load(f)["method"] == "ffgan"


def test_train_writes_scalars_and_sample_images_to_tensorboard(run_dir):
    events = read_events(run_dir)
    assert set(events) == {"scalars", "images"}
    scalars = events["scalars"]
    # Train metrics and the validation metrics of eval_step, every log_every=2 steps.
    for tag in ("g_loss", "d_loss", "l2", "d_acc_val_data", "psnr_val_samples"):
        assert sorted(scalars[tag]) == [2, 4], tag
        assert all(math.isfinite(v) for v in scalars[tag].values()), tag
    assert "steps_per_sec" in scalars  # clu's progress report
    # The sample filmstrip, every sample_every=2 steps, with the pixels of the PNG file.
    assert set(events["images"]) == {"samples"}
    images = events["images"]["samples"]
    assert sorted(images) == [2, 4]
    strip = np.asarray(Image.open(os.path.join(run_dir, "samples", "step_0000004.png")))
    np.testing.assert_array_equal(images[4], strip[..., :3])


def test_rerun_resumes_and_overrides_apply(run_dir):
    proc = vgen_main(CONFIG, f"--workdir={run_dir}", "--config.train.num_steps=6")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Resumed from checkpoint at step 4" in proc.stderr
    steps = sorted(int(s) for s in os.listdir(os.path.join(run_dir, "checkpoints")) if s.isdigit())
    assert steps == [2, 4, 6]
    with open(os.path.join(run_dir, "config.json")) as f:
        assert json.load(f)["train"]["num_steps"] == 6


def test_eval_writes_results_json(run_dir):
    proc = vgen_main(CONFIG, f"--workdir={run_dir}", "--mode=eval")
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(os.path.join(run_dir, "eval", "results.json")) as f:
        results = json.load(f)
    # The prediction evaluator's layout; Dynamics adds the object scores and the background
    # baseline after the keys that were there before.
    object_keys = ["object_psnr", "object_ssim", "position_error", "object_found"]
    assert list(results) == [
        *("step", "num_clips", "num_samples", "seconds", "psnr", "ssim"),
        *object_keys,
        "object_region",
        "protocol",
    ]
    for metric in ("psnr", "ssim", "object_psnr", "object_ssim", "position_error"):
        assert list(results[metric]) == ["best", "mean", "copy_last", "background", "mean_context"]
    assert list(results["object_found"]) == ["mean", "copy_last", "background", "mean_context"]
    assert results["object_region"] == {"dilation": 2, "threshold": 0.15}
    # The background baseline by hand, from the renderer's ground truth.
    config = load_config("quickstart", "tiny")
    source = make_source(config)
    clips = jax.device_get(source.eval_clips(4, split="test", ground_truth=True))
    c = config.data.context_frames
    by_hand = psnr(clips["background"][:, c:], clips["video"][:, c:]).mean(0)
    np.testing.assert_allclose(results["psnr"]["background"], by_hand, rtol=1e-5)
    # The mean of the context frames, repeated, by hand.
    future = clips["video"][:, c:]
    mean_context = np.broadcast_to(clips["video"][:, :c].mean(1, keepdims=True), future.shape)
    by_hand = psnr(mean_context, future).mean(0)
    np.testing.assert_allclose(results["psnr"]["mean_context"], by_hand, rtol=1e-5)
    np.testing.assert_allclose(results["object_found"]["background"], 0.0)
    np.testing.assert_allclose(results["object_found"]["copy_last"], 1.0)
    assert "position_error.png" in os.listdir(os.path.join(run_dir, "eval"))
    assert results["num_clips"] == 4 and results["num_samples"] == 3
    assert results["step"] >= 4
    for metric in ("psnr", "ssim"):
        for kind in ("best", "mean", "copy_last"):
            values = results[metric][kind]
            assert len(values) == 3  # data.predict_frames of the tiny config
        # The best sample of a clip is the best on its score averaged over the steps, so it
        # is at least the average sample there (at a single step it can fall just below it).
        assert np.mean(results[metric]["best"]) >= np.mean(results[metric]["mean"]) - 1e-6
    assert "psnr best" in proc.stdout
    assert results["seconds"] > 0
    names = os.listdir(os.path.join(run_dir, "eval"))
    assert {"psnr.png", "ssim.png", "samples.gif", "samples.png"} <= set(names)
    # The same curves in TensorBoard, indexed by predicted frame.
    scalars = read_events(os.path.join(run_dir, "eval"))["scalars"]
    for metric in ("psnr", "ssim"):
        for kind in ("best", "mean", "copy_last"):
            curve = scalars[f"{metric}_{kind}"]
            assert sorted(curve) == [1, 2, 3]
            np.testing.assert_allclose([curve[t] for t in (1, 2, 3)], results[metric][kind])
    # Rows of the grid: ground truth, best sample, 3 random samples.
    grid = Image.open(os.path.join(run_dir, "eval", "samples.gif"))
    assert grid.height == 1 + 5 * (16 + 1)  # 16-pixel frames, 1-pixel padding


def test_eval_horizon_can_differ_from_training(run_dir):
    proc = vgen_main(
        CONFIG, f"--workdir={run_dir}", "--mode=eval", "--config.eval.predict_frames=5"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(os.path.join(run_dir, "eval", "results.json")) as f:
        assert len(json.load(f)["psnr"]["best"]) == 5


def test_sample_mode_writes_grids(run_dir):
    proc = vgen_main(CONFIG, f"--workdir={run_dir}", "--mode=sample")
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = os.listdir(os.path.join(run_dir, "samples"))
    assert any(n.startswith("eval_step_") and n.endswith(".gif") for n in names)
    assert any(n.startswith("eval_step_") and n.endswith(".png") for n in names)


def test_compilation_cache_directory_from_flag_environment_or_default(monkeypatch):
    from vgen.main import compilation_cache_dir

    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/env/cache")
    assert compilation_cache_dir("off") is None
    assert compilation_cache_dir("/flag/cache") == "/flag/cache"
    assert compilation_cache_dir(None) == "/env/cache"
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert compilation_cache_dir(None) == "/xdg/vgen/jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/home/someone")
    assert compilation_cache_dir(None) == "/home/someone/.cache/vgen/jax"


def test_compilation_cache_is_written_and_can_be_turned_off(tmp_path):
    # The classifier: its step compiles in a fifth of FF-GAN's time, and e6d3def's old code fails
    # this test with it too ("Function add_select_fusion not found" at the fourth start).
    config = "--config=configs/classifier_dynamics.py:tiny"
    cache, off = tmp_path / "cache", tmp_path / "unused"
    args = [config, "--config.train.num_steps=2"]
    proc = vgen_main(*args, f"--workdir={tmp_path / 'a'}", f"--compilation_cache={cache}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(os.listdir(cache)) > 0  # the train step, at least
    assert not (cache / "executables").exists()  # VGEN_EXECUTABLES=off (tests/helpers.py)
    # vgen.executables, with JAX's cache warm: an executable JAX's cache serves does not
    # serialise whole, so each new key (here: another num_steps) compiles the step afresh and
    # stores it; a start with a stored key loads it, with no tracing and no compiling, and
    # trains. (Storing what JAX's cache served made the fourth start fail at its first step.)
    for workdir, steps, how in (
        ("c", 2, "compiled and stored in"),
        ("d", 3, "compiled and stored in"),
        ("e", 3, "loaded in"),
    ):
        proc = vgen_main(
            config, f"--config.train.num_steps={steps}", f"--workdir={tmp_path / workdir}",
            f"--compilation_cache={cache}", VGEN_EXECUTABLES="on",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert how in proc.stderr
    assert len(os.listdir(cache / "executables")) == 2
    # "off" wins over $JAX_COMPILATION_CACHE_DIR: nothing is written there. (--mode=eval of
    # the first run: a start that compiles something and trains nothing.)
    proc = vgen_main(
        config, f"--workdir={tmp_path / 'a'}", "--mode=eval", "--compilation_cache=off",
        JAX_COMPILATION_CACHE_DIR=str(off),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not off.exists() or not os.listdir(off)
    # A cache directory that cannot be made: one warning, and the run goes on without it.
    blocked = tmp_path / "a_file"
    blocked.write_text("")
    proc = vgen_main(
        config, f"--workdir={tmp_path / 'a'}", "--mode=eval", f"--compilation_cache={blocked}/jax"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("Compilation cache off: cannot create") == 1
    assert "Error reading persistent compilation cache" not in proc.stderr


def test_fig_6_10_reads_the_runs_curves_and_scores(run_dir, tmp_path):
    """The discriminator-comparison figure reads each run's logged accuracies, speed and eval
    scores; a wrong --runs is a one-line error."""
    from vgen.experiments import fig_6_10

    summary = fig_6_10.run_summary(run_dir)
    scalars = read_events(run_dir)["scalars"]
    last = max(scalars["d_acc_train_data"])
    assert summary["final"]["d_acc_train_data"] == scalars["d_acc_train_data"][last]
    assert summary["steps_per_sec"] > 0
    results = json.load(open(os.path.join(run_dir, "eval", "results.json")))
    table = fig_6_10.format_table({"a": summary, "b": summary}).splitlines()
    assert len(table) == 3 and f"{results['psnr']['best'][-1]:.3f}" in table[1]
    fig_6_10.plot({"a": summary, "b": summary}, str(tmp_path / "fig.png"))
    assert (tmp_path / "fig.png").stat().st_size > 0
    proc = run_python("-m", "vgen.experiments.fig_6_10", "--runs=a=/nonexistent", "--out=x.png")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "not name=existing-workdir" in proc.stderr
