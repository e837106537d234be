"""The workdir under hostile conditions: damaged checkpoints, a refused resume, a second run, a
file where the directory should be, a read-only or full file system. Each ends in one clear line
(or a resume from what is readable), and nothing already written is lost."""

import hashlib
import os
import shutil
import subprocess
import sys
import time

import pytest
from helpers import REPO, env, vgen_main

from vgen.checkpoint import Checkpointer

# The classifier: what these tests check is the workdir, and its tiny run starts in 11 s against
# FF-GAN's 17 s (JAX's cache warm). The eval/sample test needs a method that predicts frames.
CONFIG = "--config=configs/classifier_dynamics.py:tiny"
PREDICTOR = "--config=configs/quickstart.py:tiny"
QUIET = ("--config.train.sample_every=1000", "--config.train.log_every=1000")


def checkpoint_dir(workdir, step: int) -> str:
    return os.path.join(workdir, "checkpoints", str(step))


def tree_digest(path) -> dict[str, str]:
    """{relative path: md5} of every file under `path`."""
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, path)] = hashlib.md5(f.read()).hexdigest()
    return out


def damage(workdir, step: int) -> None:
    """Truncates every data file of checkpoint `step` (a disk error after the save)."""
    data = os.path.join(checkpoint_dir(workdir, step), "default", "ocdbt.process_0", "d")
    for name in os.listdir(data):
        os.truncate(os.path.join(data, name), 100)


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("vgen: error:")]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> str:
    """A finished tiny run with checkpoints at steps 2, 4 and 6."""
    workdir = str(tmp_path_factory.mktemp("run") / "w")
    proc = vgen_main(
        CONFIG,
        f"--workdir={workdir}",
        "--config.train.num_steps=6",
        "--config.train.checkpoint_every=2",
        "--config.train.keep_checkpoints=5",
        *QUIET,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


@pytest.fixture
def copy_of_run(run, tmp_path) -> str:
    workdir = str(tmp_path / "w")
    shutil.copytree(run, workdir)
    return workdir


def test_damaged_newest_checkpoint_resumes_from_the_previous_one(copy_of_run):
    damage(copy_of_run, 6)
    proc = vgen_main(CONFIG, f"--workdir={copy_of_run}", "--config.train.num_steps=8", *QUIET)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Checkpoint 6 cannot be read" in proc.stderr
    assert "Using checkpoint 4, the newest readable one (skipped: 6)" in proc.stderr
    assert "Resumed from checkpoint at step 4" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert os.path.isdir(checkpoint_dir(copy_of_run, 6))  # nothing is deleted
    assert os.path.isdir(checkpoint_dir(copy_of_run, 8))


def test_lost_metadata_is_a_damaged_checkpoint_not_a_config_mismatch(copy_of_run):
    os.remove(os.path.join(checkpoint_dir(copy_of_run, 6), "default", "_METADATA"))
    proc = vgen_main(CONFIG, f"--workdir={copy_of_run}", "--config.train.num_steps=8", *QUIET)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Resumed from checkpoint at step 4" in proc.stderr
    assert "does not match" not in proc.stderr


def test_no_readable_checkpoint_is_one_line_and_keeps_them_all(copy_of_run):
    for step in (2, 4, 6):
        damage(copy_of_run, step)
    proc = vgen_main(CONFIG, f"--workdir={copy_of_run}", "--config.train.num_steps=8", *QUIET)
    assert proc.returncode == 2
    (line,) = error_lines(proc)
    assert "no readable checkpoint" in line and "tried steps 6, 4, 2" in line
    assert "Traceback" not in proc.stderr
    assert all(os.path.isdir(checkpoint_dir(copy_of_run, s)) for s in (2, 4, 6))


def test_refused_resume_leaves_the_workdir_as_it_was(copy_of_run):
    before = tree_digest(copy_of_run)
    proc = vgen_main(CONFIG, f"--workdir={copy_of_run}", "--config.model.channels=8")
    assert proc.returncode == 2
    output = (proc.stdout + proc.stderr).splitlines()
    assert len(output) < 5, output
    (line,) = error_lines(proc)
    assert "checkpoint 6" in line and "does not match this config" in line
    assert tree_digest(copy_of_run) == before


def test_num_steps_below_the_checkpoint_says_so(copy_of_run):
    proc = vgen_main(CONFIG, f"--workdir={copy_of_run}", "--config.train.num_steps=3")
    assert proc.returncode == 2
    (line,) = error_lines(proc)
    assert "train.num_steps=3 is below the step of the checkpoint" in line and "(6)" in line


def test_eval_and_sample_create_nothing_in_a_workdir_without_a_run(tmp_path):
    typo = tmp_path / "typo"
    empty = tmp_path / "empty"
    empty.mkdir()
    for workdir in (typo, empty):
        for mode in ("eval", "sample"):
            proc = vgen_main(PREDICTOR, f"--workdir={workdir}", f"--mode={mode}")
            assert proc.returncode == 2
            (line,) = error_lines(proc)
            assert f"no run in {workdir}" in line
    assert not typo.exists()
    assert not os.listdir(empty)


def test_workdir_that_is_a_file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("keep me")
    proc = vgen_main(CONFIG, f"--workdir={path}")
    assert proc.returncode == 2
    assert error_lines(proc) == [f"vgen: error: workdir {path} exists and is not a directory"]
    assert path.read_text() == "keep me"


def test_a_second_run_on_a_training_workdir_is_refused(tmp_path):
    workdir = str(tmp_path / "w")
    first = subprocess.Popen(
        [sys.executable, "-m", "vgen.main", CONFIG, f"--workdir={workdir}"]
        + ["--config.train.num_steps=100000", *QUIET],
        cwd=REPO,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 300
        while not os.path.exists(os.path.join(workdir, ".lock")):
            assert time.time() < deadline and first.poll() is None
            time.sleep(0.2)
        second = vgen_main(CONFIG, f"--workdir={workdir}", "--config.train.num_steps=10")
        assert second.returncode == 2
        (line,) = error_lines(second)
        assert f"another run (process {first.pid}) is training in {workdir}" in line
        assert first.poll() is None  # the first run goes on
    finally:
        first.kill()
        first.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    workdir = tmp_path / "w"
    workdir.mkdir()
    (workdir / ".lock").write_text(f"{os.uname().nodename} {dead.pid}\n")
    proc = vgen_main(CONFIG, f"--workdir={workdir}", "--config.train.num_steps=2", *QUIET)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Taking over the lock of process {dead.pid}" in proc.stderr
    assert not (workdir / ".lock").exists()


def test_a_failed_save_keeps_the_checkpoints_already_written(tmp_path, monkeypatch):
    """The save path's error handling, without a real full disk (see the tmpfs tests below)."""
    import jax.numpy as jnp
    import optax
    import orbax.checkpoint as ocp

    from vgen.errors import WorkdirError
    from vgen.train_state import TrainState

    state = TrainState.create(params={"model": {"w": jnp.ones(3)}}, tx={"model": optax.sgd(0.1)})
    state = state.replace(step=jnp.asarray(1))
    ckpt = Checkpointer(str(tmp_path), keep=5)
    assert ckpt.save(state)

    def disk_full(*args, **kwargs):
        raise ValueError(
            'RESOURCE_EXHAUSTED: Failed writing: "x" [OS error 28: No space left on device]'
        )

    monkeypatch.setattr(ocp.CheckpointManager, "save", disk_full)
    with pytest.raises(WorkdirError, match=r"no space left on the device.*intact \(steps: 1\)"):
        ckpt.save(state.replace(step=jnp.asarray(2)))
    monkeypatch.undo()
    restored = ckpt.restore(state)
    assert int(restored.step) == 1
    ckpt.close()


# ---------------------------------------------------------- real file systems (tmpfs mounts)


def unshare_works() -> bool:
    """Whether this machine lets a process mount a tmpfs in its own user and mount namespace."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_tmpfs = pytest.mark.skipif(
    not unshare_works(), reason="no user namespaces here to mount a small tmpfs in"
)


def in_tmpfs(mount: str, options: str, script: str) -> subprocess.CompletedProcess:
    """Runs the shell `script` with a fresh tmpfs (mount -o `options`) at `mount`, in a mount
    namespace of its own (the mount is gone when it ends)."""
    os.makedirs(mount, exist_ok=True)
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o {options} tmpfs {mount} && {script}"],
        cwd=REPO,
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def vgen_command(*args: str) -> str:
    return " ".join([sys.executable, "-m", "vgen.main", CONFIG, *args])


@needs_tmpfs
def test_a_read_only_workdir_is_one_line(run, tmp_path):
    mount = str(tmp_path / "ro")
    # A copy of the finished run on a tmpfs that is then made read-only: training refuses.
    script = f"cp -r {run} {mount}/w && mount -o remount,ro {mount} && " + vgen_command(
        f"--workdir={mount}/w", "--config.train.num_steps=8"
    )
    proc = in_tmpfs(mount, "size=8m", script)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert error_lines(proc) == [
        f"vgen: error: workdir is not writable: {mount}/w: Read-only file system"
    ]


@needs_tmpfs
def test_a_full_disk_during_a_save_is_one_line_and_keeps_the_earlier_checkpoints(run, tmp_path):
    mount = str(tmp_path / "small")
    saved = str(tmp_path / "saved")
    checkpoint = sum(
        os.path.getsize(os.path.join(r, f))
        for r, _, fs in os.walk(checkpoint_dir(run, 6))
        for f in fs
    )
    size_k = (5 * checkpoint // 2 + 400_000) // 1024  # room for about two checkpoints
    args = ["--config.train.num_steps=40", "--config.train.checkpoint_every=2"]
    args += ["--config.train.keep_checkpoints=100", *QUIET]
    train = vgen_command(f"--workdir={mount}/w", *args)
    script = f"{train}; status=$?; cp -r {mount}/w {saved}; exit $status"
    proc = in_tmpfs(mount, f"size={size_k}k", script)
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = error_lines(proc)
    assert "failed (no space left on the device)" in line and "intact (steps: 2" in line
    assert "Traceback" not in proc.stderr
    kept = sorted(int(s) for s in os.listdir(os.path.join(saved, "checkpoints")) if s.isdigit())
    assert kept and kept[0] == 2
    # The checkpoints written before the disk filled up resume on a healthy disk.
    resumed = vgen_main(CONFIG, f"--workdir={saved}", "--config.train.num_steps=40", *QUIET)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Resumed from checkpoint at step {kept[-1]}" in resumed.stderr
