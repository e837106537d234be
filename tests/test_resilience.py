"""A run killed at any moment resumes from its last complete checkpoint; SIGTERM saves first."""

import os
import signal
import subprocess
import sys
import time

from helpers import REPO, env, vgen_main

CONFIG = "--config=configs/quickstart.py:tiny"


def start(workdir: str, *overrides: str) -> tuple[subprocess.Popen, str]:
    log = os.path.join(workdir, "stderr.txt")
    with open(log, "w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vgen.main", CONFIG, f"--workdir={workdir}", *overrides],
            cwd=REPO,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=f,
        )
    return proc, log


def wait_for(predicate, timeout: float = 300.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.2)


def checkpoint_steps(workdir: str) -> list[int]:
    path = os.path.join(workdir, "checkpoints")
    return sorted(int(s) for s in os.listdir(path) if s.isdigit()) if os.path.isdir(path) else []


def test_kill_9_then_resume(tmp_path):
    workdir = str(tmp_path)
    proc, _ = start(
        workdir,
        "--config.train.num_steps=60",
        "--config.train.checkpoint_every=1",
        "--config.train.sample_every=1000",
        "--config.train.log_every=1000",
    )
    wait_for(lambda: len(checkpoint_steps(workdir)) >= 2)
    time.sleep(0.3)  # land somewhere in the middle of the next steps or saves
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = checkpoint_steps(workdir)
    assert before and before[-1] < 60

    done = vgen_main(
        CONFIG,
        f"--workdir={workdir}",
        "--config.train.num_steps=60",
        "--config.train.checkpoint_every=20",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Resumed from checkpoint at step {before[-1]}" in done.stderr
    assert checkpoint_steps(workdir)[-1] == 60


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    workdir = str(tmp_path)
    proc, log = start(
        workdir,
        "--config.train.num_steps=100000",
        "--config.train.checkpoint_every=100000",
        "--config.train.log_every=100000",
        "--config.train.sample_every=100000",
    )
    wait_for(lambda: "First step done" in open(log).read())
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0, open(log).read()[-3000:]
    steps = checkpoint_steps(workdir)
    assert len(steps) == 1 and 0 < steps[0] < 100000
    assert f"Stopped by SIGTERM at step {steps[0]}; checkpoint saved" in open(log).read()
    assert not os.path.exists(os.path.join(workdir, ".lock"))


def test_sigterm_during_compilation_exits_within_seconds(tmp_path):
    """Python cannot run a signal handler while XLA compiles; the step runs in a worker thread
    so that SIGTERM still ends the run within the grace period (train._Preemption.GRACE_S)."""
    workdir = str(tmp_path / "w")
    os.makedirs(workdir)
    log = os.path.join(tmp_path, "stderr.txt")
    with open(log, "w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vgen.main", CONFIG, f"--workdir={workdir}"]
            + ["--config.train.num_steps=100000", "--config.train.checkpoint_every=100000"],
            cwd=REPO,
            # A cold compilation cache: the first step compiles for many seconds.
            env=env(JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax_cache")),
            stdout=subprocess.DEVNULL,
            stderr=f,
        )
    wait_for(lambda: "Training ffgan from step" in open(log).read())
    proc.send_signal(signal.SIGTERM)
    start = time.time()
    assert proc.wait(timeout=120) == 0, open(log).read()[-3000:]
    assert time.time() - start < 15
    text = open(log).read()
    # Usually still compiling, then nothing is saved; on a fast machine the first step may
    # finish within the grace period, and then it is saved.
    assert "no checkpoint was saved" in text or "Stopped by SIGTERM at step 1" in text
    assert not os.path.exists(os.path.join(workdir, ".lock"))
