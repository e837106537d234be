"""The multi-host path: two JAX processes on this machine train ONE model together, and stop
together when one of them is preempted.

launch/local_multiprocess.sh starts `python -m vgen.main` per process. The test puts a `python`
first on PATH that runs the same command line with `train.train_and_evaluate` wrapped to print
a checksum of the final parameters (each process's own copy): both processes must print the
same one, and it must differ from the initial parameters' (each feeds its own slice of the
global batch, so two separately trained models would differ).
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import jax
import pytest
from helpers import REPO, env

from vgen import sharding
from vgen.errors import ConfigError

# Any method will do; the tiny classifier compiles its step in a quarter of quickstart:tiny's
# time (6.6 s against 28.9 s on the 2-core CPU), and each test compiles in two processes at once.
CONFIG = "--config=configs/classifier_dynamics.py:tiny"

# Runs `python -m vgen.main ARGS` with the final and initial parameters' checksums printed.
PROBE = r"""
import hashlib, runpy, sys
import jax, numpy as np
from vgen import train

def checksum(params) -> str:
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(params):
        digest.update(np.asarray(leaf.addressable_data(0)).tobytes())  # this process's copy
    return digest.hexdigest()

run, create = train.train_and_evaluate, train.create_train_state

def create_and_print(*args, **kwargs):
    state = create(*args, **kwargs)
    print(f"INIT_PARAMS {jax.process_index()} {checksum(state.params)}", flush=True)
    return state

def run_and_print(config, workdir):
    state = run(config, workdir)
    print(f"FINAL_PARAMS {jax.process_index()} {checksum(state.params)}", flush=True)
    return state

train.train_and_evaluate, train.create_train_state = run_and_print, create_and_print
sys.argv = ["vgen.main", *sys.argv[1:]]
runpy.run_module("vgen.main", run_name="__main__", alter_sys=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probing_python(bindir) -> str:
    """A directory whose `python -m vgen.main ARGS` runs PROBE with ARGS."""
    bindir.mkdir()
    (bindir / "probe.py").write_text(PROBE)
    shim = bindir / "python"
    shim.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1 $2" != "-m vgen.main" ]; then exec ' + sys.executable + ' "$@"; fi\n'
        f'exec {sys.executable} {bindir / "probe.py"} "${{@:3}}"\n'
    )
    shim.chmod(0o755)
    return str(bindir)


def test_two_processes_train_one_model(tmp_path):
    workdir = tmp_path / "run"
    path = probing_python(tmp_path / "bin") + os.pathsep + os.environ.get("PATH", "")
    proc = subprocess.run(
        [
            "bash",
            os.path.join(REPO, "launch", "local_multiprocess.sh"),
            "2",
            CONFIG,
            f"--workdir={workdir}",
        ],
        cwd=REPO,
        env=env(PATH=path, VGEN_PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "(process 0 of 2)" in proc.stderr and "(process 1 of 2)" in proc.stderr
    assert sorted(os.listdir(workdir / "checkpoints")) == ["2", "4"]

    found = {
        # Not anchored to lines: the two processes share stdout, and one's line can land
        # inside the other's (seen in CI: "FINAL_PARAMS 0 <hash>FINAL_PARAMS 1 <hash>").
        kind: dict(re.findall(rf"{kind} (\d) ([0-9a-f]{{64}})", proc.stdout))
        for kind in ("INIT_PARAMS", "FINAL_PARAMS")
    }
    init, final = found["INIT_PARAMS"], found["FINAL_PARAMS"]
    assert sorted(init) == sorted(final) == ["0", "1"], proc.stdout[-3000:]
    assert final["0"] == final["1"], "the two processes ended with different parameters"
    assert init["0"] == init["1"]
    assert final["0"] != init["0"], "the parameters did not change"


def test_sigterm_to_one_process_stops_both_at_the_same_step(tmp_path):
    """A cluster may signal one process first: the two agree to stop after the same step, both
    save it (one checkpoint) and both exit 0; neither waits forever for the other."""
    workdir = tmp_path / "run"
    port = free_port()
    procs, logs = [], []
    for i in range(2):
        logs.append(tmp_path / f"process{i}.txt")
        with open(logs[-1], "w") as f:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "vgen.main", CONFIG]
                    + [f"--workdir={workdir}", "--config.train.num_steps=100000"]
                    + ["--config.train.checkpoint_every=100000"],
                    cwd=REPO,
                    env=env(
                        JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
                        JAX_NUM_PROCESSES="2",
                        JAX_PROCESS_ID=str(i),
                    ),
                    stdout=subprocess.DEVNULL,
                    stderr=f,
                )
            )
    try:
        deadline = time.time() + 300
        while not all("First step done" in log.read_text() for log in logs):
            assert time.time() < deadline, logs[0].read_text()[-3000:]
            assert all(p.poll() is None for p in procs), logs[0].read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1.0)
        procs[1].send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
    texts = [log.read_text() for log in logs]
    assert codes == [0, 0], texts[0][-2000:] + texts[1][-2000:]
    stopped = [re.findall(r"Stopped by SIGTERM at step (\d+); checkpoint saved", t) for t in texts]
    assert len(stopped[0]) == len(stopped[1]) == 1 and stopped[0] == stopped[1], stopped
    assert os.listdir(workdir / "checkpoints") == stopped[0]
    assert 0 < int(stopped[0][0]) < 100000


SLURM_STEP = dict(
    SLURM_JOB_ID="7",
    SLURM_STEP_NODELIST="node[1-2]",
    SLURM_PROCID="1",
    SLURM_LOCALID="0",
    SLURM_NTASKS="2",
)


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({}, None),  # one process alone
        (dict(SLURM_STEP, SLURM_NTASKS="1"), None),  # a SLURM job of one task
        (SLURM_STEP, {}),  # srun with two tasks: JAX reads SLURM's variables
        (dict(VGEN_DISTRIBUTED="auto"), {}),  # launch/tpu_pod.sh: the TPU VM's metadata
        (dict(VGEN_DISTRIBUTED="off"), None),
        (
            dict(
                SLURM_STEP, JAX_COORDINATOR_ADDRESS="h:1", JAX_NUM_PROCESSES="4", JAX_PROCESS_ID="3"
            ),
            dict(coordinator_address="h:1", num_processes=4, process_id=3),  # explicit wins
        ),
    ],
)
def test_initialize_distributed_reads_the_platform(monkeypatch, environ, expected):
    """Explicit coordinator variables, else jax.distributed.initialize() without arguments
    where the platform provides them (a multi-task SLURM step, VGEN_DISTRIBUTED=auto)."""
    calls = []
    monkeypatch.setattr(jax.distributed, "initialize", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(jax.config, "update", lambda *args: None)
    for var in ("JAX_COORDINATOR_ADDRESS", "VGEN_DISTRIBUTED", *SLURM_STEP):
        monkeypatch.delenv(var, raising=False)
    for var, value in environ.items():
        monkeypatch.setenv(var, value)
    sharding.initialize_distributed()
    assert calls == ([] if expected is None else [expected])


def test_initialize_distributed_rejects_an_unknown_mode(monkeypatch):
    monkeypatch.delenv("JAX_COORDINATOR_ADDRESS", raising=False)
    monkeypatch.setenv("VGEN_DISTRIBUTED", "yes")
    with pytest.raises(ConfigError, match="VGEN_DISTRIBUTED='yes': use auto or off"):
        sharding.initialize_distributed()
