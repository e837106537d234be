"""launch/concurrent_runs.sh: runs listed in a spec file trained side by side, then scored; bad
arguments end with one line and exit status 2."""

import json
import os
import subprocess
import sys

import pytest
from helpers import REPO, env

SCRIPT = os.path.join(REPO, "launch", "concurrent_runs.sh")


def _launch(*args: str, cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", SCRIPT, *args],
        cwd=cwd,
        env=env(VGEN_PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "usage: launch/concurrent_runs.sh SPEC DEADLINE_S"),
        (("missing.txt", "10"), "no such spec file: missing.txt"),
        (("spec.txt", "soon"), "DEADLINE_S must be a positive number of seconds, got 'soon'"),
        (("spec.txt", "10"), "no runs in spec.txt"),
    ],
)
def test_bad_arguments_give_one_line(tmp_path, args, message):
    (tmp_path / "spec.txt").write_text("# only a comment\n\n")
    proc = _launch(*args, cwd=str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"concurrent_runs: {message}"]


def test_trains_and_scores_every_run_in_the_spec(tmp_path):
    config = os.path.join(REPO, "configs", "quickstart.py")
    spec = tmp_path / "spec.txt"
    spec.write_text(
        "# two seeds of the tiny quickstart\n"
        f"a --config={config}:tiny --config.seed=0 --config.train.num_steps=2\n"
        f"b --config={config}:tiny --config.seed=1 --config.train.num_steps=2\n"
    )
    proc = _launch(str(spec), "300", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    for name in ("a", "b"):
        assert f"{name} train: exit 0" in proc.stdout and f"{name} eval: exit 0" in proc.stdout
        results = json.loads((tmp_path / "runs" / name / "eval" / "results.json").read_text())
        assert results["step"] == 2
        assert (tmp_path / "runs" / f"{name}.log").exists()
    seeds = [json.loads((tmp_path / "runs" / n / "config.json").read_text())["seed"] for n in "ab"]
    assert seeds == [0, 1]


def test_no_tensorflow_entry_trains_where_tensorflow_cannot_be_imported(tmp_path):
    """launch/no_tensorflow.py on a Python where `import tensorflow` fails (as on a bare GPU
    image): training and eval work, metrics are logged, no TensorBoard files are written."""
    workdir = tmp_path / "run"
    script = os.path.join(REPO, "launch", "no_tensorflow.py")
    config = os.path.join(REPO, "configs", "quickstart.py") + ":tiny"
    code = (
        "import runpy, sys\n"
        "sys.modules['tensorflow'] = None  # import tensorflow now raises ImportError\n"
        f"sys.argv = [{script!r}] + sys.argv[1:]\n"
        f"runpy.run_path({script!r}, run_name='__main__')\n"
    )
    logs = {}
    for mode in ("train", "eval"):
        proc = subprocess.run(
            [sys.executable, "-c", code, f"--config={config}", f"--workdir={workdir}",
             "--config.train.num_steps=2", f"--mode={mode}"],
            cwd=REPO, env=env(), capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        logs[mode] = proc.stderr
    assert "d_loss=" in logs["train"]  # the metrics go to the log
    assert (workdir / "eval" / "results.json").exists()
    assert os.listdir(workdir / "checkpoints")
    assert not [f for f in os.listdir(workdir) if f.startswith("events.out.tfevents")]
