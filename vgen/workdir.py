"""The run directory: checked before anything is written into it, and locked while a run trains.

A training run holds `<workdir>/.lock` (the owner's host and pid) from start to exit, so that a
second run on the same workdir stops at once instead of racing on the checkpoints. A lock left
by a process that died on this host is taken over with a message; one held from another host
cannot be checked from here, so the error says which file to delete if that run is gone.
"""

import errno
import os
import socket

from absl import logging

from vgen.errors import CheckpointError, WorkdirError

LOCK_NAME = ".lock"


def fs_message(path: str, error: OSError) -> str:
    """One line naming the path and the cause of a file-system error."""
    cause = error.strerror or str(error).splitlines()[0]
    if error.errno == errno.ENOSPC:
        cause = "no space left on the device"
    return f"{path}: {cause}"


def prepare(workdir: str) -> None:
    """Creates `workdir` if needed and checks that files can be written into it (a probe file,
    which also catches read-only file systems and a full disk). Raises WorkdirError."""
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise WorkdirError(f"workdir {workdir} exists and is not a directory")
    probe = os.path.join(workdir, f".write_probe.{os.getpid()}")
    try:
        os.makedirs(workdir, exist_ok=True)
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as e:
        raise WorkdirError(f"workdir is not writable: {fs_message(workdir, e)}") from e


def require_run(workdir: str) -> None:
    """For eval and sample, which only read: `workdir` must hold a run's checkpoints (nothing
    is created in a workdir that holds none). Raises CheckpointError."""
    checkpoints = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(checkpoints):
        raise CheckpointError(f"no run in {workdir}: it has no checkpoints directory")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


class Lock:
    """`<workdir>/.lock`, held by one training run at a time (a context manager)."""

    def __init__(self, workdir: str):
        self.path = os.path.join(workdir, LOCK_NAME)
        self.owner = f"{socket.gethostname()} {os.getpid()}"
        self.held = False

    def _create(self) -> bool:
        """Creates the lock file holding our owner line; False if it exists."""
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except OSError as e:
            raise WorkdirError(f"cannot create the lock: {fs_message(self.path, e)}") from e
        with os.fdopen(fd, "w") as f:
            f.write(self.owner + "\n")
        return True

    def acquire(self) -> None:
        if self._create():
            self.held = True
            return
        try:
            with open(self.path) as f:
                host, pid = f.read().split()
            pid = int(pid)
        except (OSError, ValueError):
            host, pid = None, None
        if host == socket.gethostname() and pid is not None and not _pid_alive(pid):
            logging.warning("Taking over the lock of process %d, which is no longer running.", pid)
            os.remove(self.path)
            if self._create():
                self.held = True
                return
        if host is None:
            owner = "an unreadable owner"
        elif host == socket.gethostname():
            owner = f"process {pid}"
        else:
            owner = f"process {pid} on {host}"
        raise WorkdirError(
            f"another run ({owner}) is training in {os.path.dirname(self.path)}; "
            f"if it is gone, delete {self.path}"
        )

    def release(self) -> None:
        if self.held:
            self.held = False
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> "Lock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
