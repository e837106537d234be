"""--mode eval with eval.lpips and eval.fvd: LPIPS per predicted step (best, mean, both
baselines) and FVD of the best, random and baseline sets in results.json and the table; a
resolution too small for the LPIPS network is a one-line config error."""

import json
import os

import numpy as np
import pytest
from helpers import vgen_main

RUN = ("--config=configs/quickstart.py:tiny", "--config.data.resolution=32")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("run32"))
    proc = vgen_main(*RUN, f"--workdir={path}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return path


def test_eval_writes_lpips_and_fvd(workdir):
    proc = vgen_main(
        *RUN, f"--workdir={workdir}", "--mode=eval", "--config.eval.lpips=alexnet",
        "--config.eval.fvd=True",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(os.path.join(workdir, "eval", "results.json")) as f:
        results = json.load(f)
    steps = len(results["psnr"]["best"])
    lp = results["lpips"]
    assert set(lp) == {"best", "mean", "copy_last", "background", "mean_context"}
    assert all(len(v) == steps and np.all(np.isfinite(v)) and min(v) >= 0 for v in lp.values())
    assert np.mean(lp["best"]) <= np.mean(lp["mean"])  # the best sample has the lowest LPIPS
    assert set(results["fvd"]) == {"best", "random", "copy_last", "background", "mean_context"}
    assert all(np.isfinite(v) and v > 0 for v in results["fvd"].values())
    assert "lpips copy_last" in proc.stdout and "FVD (whole clips" in proc.stdout
    assert os.path.exists(os.path.join(workdir, "eval", "lpips.png"))


def test_lpips_on_frames_too_small_is_a_config_error(tmp_path):
    """Checked with the config, before anything trains: 16×16 frames, AlexNet needs 31."""
    tiny = "--config=configs/quickstart.py:tiny"
    proc = vgen_main(tiny, f"--workdir={tmp_path}", "--config.eval.lpips=alexnet")
    assert proc.returncode == 2
    assert "eval.lpips: frames too small for its network" in proc.stderr
    assert "Traceback" not in proc.stderr and not os.listdir(tmp_path)
