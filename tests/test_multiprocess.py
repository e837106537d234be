"""The multi-host path: two JAX processes on this machine train ONE model together.

launch/local_multiprocess.sh starts `python -m vgen.main` per process. The test puts a `python`
first on PATH that runs the same command line with `train.train_and_evaluate` wrapped to print
a checksum of the final parameters (each process's own copy): both processes must print the
same one, and it must differ from the initial parameters' (each feeds its own slice of the
global batch, so two separately trained models would differ).
"""

import os
import re
import socket
import subprocess
import sys

from helpers import REPO, env

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
            "--config=configs/quickstart.py:tiny",
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
        kind: dict(re.findall(rf"^{kind} (\d) (\w+)$", proc.stdout, re.MULTILINE))
        for kind in ("INIT_PARAMS", "FINAL_PARAMS")
    }
    init, final = found["INIT_PARAMS"], found["FINAL_PARAMS"]
    assert sorted(init) == sorted(final) == ["0", "1"], proc.stdout[-3000:]
    assert final["0"] == final["1"], "the two processes ended with different parameters"
    assert init["0"] == init["1"]
    assert final["0"] != init["0"], "the parameters did not change"
