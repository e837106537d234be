"""kill -9 at random moments, then resume: are the losses those of an uninterrupted run?

    python benchmarks/kill9_trials.py [--trials 20] [--steps 40] [--seed 0]

Trains the tiny quickstart (`configs/quickstart.py:tiny`) for --steps steps with a checkpoint and
a log line at every step, uninterrupted, as the reference. Then, per trial, starts the same run
in a fresh workdir, kills it with SIGKILL at a random moment of its training (uniform over the
reference's time from its first finished step to its end; with a checkpoint written every step,
many kills land during a write), resumes it to --steps, and compares every logged metric of the
resumed steps with the reference's, as printed (all digits). Prints one line per trial and
"X/N resumed with losses equal to an uninterrupted run's".
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = "--config=configs/quickstart.py:tiny"
METRICS = re.compile(r"\] \[(\d+)\] (.*g_loss=.*)$")
RESUMED = re.compile(r"Resumed from checkpoint at step (\d+)")
FIRST_STEP = "First step done"


def command(workdir: str, steps: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "vgen.main",
        CONFIG,
        f"--workdir={workdir}",
        f"--config.train.num_steps={steps}",
        "--config.train.checkpoint_every=1",
        "--config.train.log_every=1",
        "--config.train.sample_every=100000",
    ]


def environment(cache: str) -> dict[str, str]:
    return dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=REPO,
        JAX_COMPILATION_CACHE_DIR=cache,
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
    )


def logged_metrics(stderr: str) -> dict[int, str]:
    """{step: the metrics line logged at that step}."""
    return {int(m.group(1)): m.group(2) for m in map(METRICS.search, stderr.splitlines()) if m}


def seconds_between(first: str, last: str) -> float:
    """Seconds between two absl log lines (`I1204 04:15:14.775610 ...`)."""
    clock = lambda line: sum(  # noqa: E731
        float(x) * m for x, m in zip(line.split()[1].split(":"), (3600, 60, 1), strict=True)
    )
    return clock(last) - clock(first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = tempfile.mkdtemp(prefix="vgen-kill9-")
    env = environment(os.path.join(root, "jax_cache"))

    run_reference = lambda: subprocess.run(  # noqa: E731
        command(os.path.join(root, "reference"), args.steps),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    ref = run_reference()  # fills the compilation cache, as every trial's start then finds it
    if ref.returncode != 0:
        sys.exit(f"the reference run failed:\n{ref.stderr[-3000:]}")
    shutil.rmtree(os.path.join(root, "reference"))
    ref = run_reference()
    reference = logged_metrics(ref.stderr)
    assert sorted(reference) == list(range(1, args.steps + 1)), "a step logged no metrics"
    stamps = [line for line in ref.stderr.splitlines() if FIRST_STEP in line or "] [" in line]
    training = seconds_between(stamps[0], stamps[-1])
    print(f"reference: {args.steps} steps, {training:.1f} s from the first step to the end")

    equal = 0
    for trial in range(args.trials):
        workdir = os.path.join(root, f"trial_{trial}")
        delay = rng.uniform(0.0, training)
        log = os.path.join(root, f"trial_{trial}.log")
        with open(log, "w") as f:
            proc = subprocess.Popen(
                command(workdir, args.steps), cwd=REPO, env=env, stdout=f, stderr=f
            )
        while FIRST_STEP not in open(log).read() and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(delay)
        finished_first = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        in_save = bool(glob.glob(os.path.join(workdir, "checkpoints", "*orbax-checkpoint-tmp*")))
        resumed = subprocess.run(
            command(workdir, args.steps), cwd=REPO, env=env, capture_output=True, text=True
        )
        match = RESUMED.search(resumed.stderr)
        from_step = int(match.group(1)) if match else 0
        got = logged_metrics(resumed.stderr)
        want = {s: reference[s] for s in range(from_step + 1, args.steps + 1)}
        ok = resumed.returncode == 0 and got == want
        equal += ok
        where = "after the run ended" if finished_first else ("during a save" if in_save else "")
        print(
            f"trial {trial + 1:2d}: killed {delay:4.1f} s into training {where:<19} resumed from "
            f"step {from_step:3d}: {'equal' if ok else 'DIFFERENT'} ({len(got)} steps compared)"
            + ("" if resumed.returncode == 0 else f", exit {resumed.returncode}"),
            flush=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)
        os.remove(log)
    print(f"{equal}/{args.trials} resumed with losses equal to an uninterrupted run's")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
