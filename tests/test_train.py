"""End to end on the tiny quickstart: train, resume, eval, sample; through the real command line."""

import json
import os

import pytest
from helpers import vgen_main
from PIL import Image

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
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(run_dir))


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
    assert results["num_clips"] == 4 and results["num_samples"] == 3
    assert results["step"] >= 4
    for metric in ("psnr", "ssim"):
        for kind in ("best", "mean", "copy_last"):
            values = results[metric][kind]
            assert len(values) == 3  # data.predict_frames of the tiny config
        for best, mean in zip(results[metric]["best"], results[metric]["mean"], strict=True):
            assert best >= mean - 1e-6  # the best sample is at least the average one
    assert "PSNR best" in proc.stdout
    assert results["seconds"] > 0
    names = os.listdir(os.path.join(run_dir, "eval"))
    assert {"psnr.png", "ssim.png", "samples.gif", "samples.png"} <= set(names)
    assert any(n.startswith("events.out.tfevents") for n in names)  # curves in TensorBoard
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
