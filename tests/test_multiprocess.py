"""The multi-host path: two JAX processes on this machine train one model together."""

import os
import socket
import subprocess
import sys

from helpers import REPO, env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_train_and_checkpoint(tmp_path):
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    proc = subprocess.run(
        [
            "bash",
            os.path.join(REPO, "launch", "local_multiprocess.sh"),
            "2",
            "--config=configs/quickstart.py:tiny",
            f"--workdir={tmp_path}",
        ],
        cwd=REPO,
        env=env(PATH=path, VGEN_PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "(process 1 of 2)" in proc.stderr
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["2", "4"]
