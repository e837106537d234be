"""launch/concurrent_runs.sh: runs listed in a spec file trained side by side, then scored;
launch/tpu_pod.sh: the command every TPU worker runs. Bad arguments end with one line and exit
status 2."""

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


TPU_SCRIPT = os.path.join(REPO, "launch", "tpu_pod.sh")
RECORDER = (
    "#!/usr/bin/env bash\n"
    'printf "%s\\n" "$(basename "$0") VGEN_DISTRIBUTED=${VGEN_DISTRIBUTED:-}" "$@" "--" >> "$LOG"\n'
)


def _fake_bin(path, *names: str) -> str:
    """A directory of commands that append their name, VGEN_DISTRIBUTED and arguments to $LOG."""
    path.mkdir()
    for name in names:
        (path / name).write_text(RECORDER)
        (path / name).chmod(0o755)
    return str(path)


def test_tpu_pod_runs_one_command_on_every_worker(tmp_path):
    """launch/tpu_pod.sh (not run on a TPU here): gcloud is asked to run, on all workers, a
    script that installs vgen[tpu] and starts vgen.main with the arguments intact."""
    log = tmp_path / "log.txt"
    fake = _fake_bin(tmp_path / "bin", "gcloud")
    args = ["pod", "us-central2-b", "https://example.org/vgen.git"]
    main_args = ["--config=configs/ffgan_kth.py", "--workdir=/mnt/shared/a run"]
    proc = subprocess.run(
        ["bash", TPU_SCRIPT, *args, *main_args],
        env=env(PATH=f"{fake}{os.pathsep}{os.environ['PATH']}", LOG=str(log)),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    call = log.read_text().split("\n")
    assert call[:6] == [
        "gcloud VGEN_DISTRIBUTED=",
        "compute",
        "tpus",
        "tpu-vm",
        "ssh",
        "pod",
    ]
    assert "--zone=us-central2-b" in call and "--worker=all" in call
    script = log.read_text().split("--command=", 1)[1].rsplit("\n--\n", 1)[0]

    # What each worker runs, with git and python3 recorded instead of run.
    worker = tmp_path / "worker"
    (worker / "vgen").mkdir(parents=True)
    log.unlink()
    bins = _fake_bin(tmp_path / "wbin", "git", "python3")
    ran = subprocess.run(
        ["bash", "-c", script],
        cwd=worker,
        env=env(PATH=f"{bins}{os.pathsep}{os.environ['PATH']}", LOG=str(log)),
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    calls = [c.strip("\n").split("\n") for c in log.read_text().split("\n--\n") if c.strip()]
    assert calls == [
        ["git VGEN_DISTRIBUTED=", "pull", "-q"],
        ["python3 VGEN_DISTRIBUTED=", "-m", "pip", "install", "-q", "-e", ".[tpu]"],
        ["python3 VGEN_DISTRIBUTED=auto", "-m", "vgen.main", *main_args],
    ]


def test_tpu_pod_bad_arguments_give_one_line(tmp_path):
    proc = subprocess.run(["bash", TPU_SCRIPT, "pod"], env=env(), capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "tpu_pod: usage: launch/tpu_pod.sh TPU_NAME ZONE VGEN_GIT_URL VGEN_MAIN_ARGS..."
    ]
