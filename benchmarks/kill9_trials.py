"""kill -9 at random moments, then resume: are the losses those of an uninterrupted run?

    python benchmarks/kill9_trials.py [--trials 20] [--steps 40] [--seed 0]

Trains the tiny quickstart (`configs/quickstart.py:tiny`) for --steps steps with a checkpoint and
a log line at every step, uninterrupted, as the reference. Then, per trial, starts the same run
in a fresh workdir, kills it with SIGKILL at a random moment between its start and the
reference's end (so some kills land while compiling, most while training, and many during a
checkpoint write, since one is written every step), resumes it to --steps, and compares every
logged metric of the resumed steps with the reference's, as printed (all digits). Prints one line
per trial and "X/N resumed with losses equal to an uninterrupted run's".
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = tempfile.mkdtemp(prefix="vgen-kill9-")
    env = environment(os.path.join(root, "jax_cache"))

    start = time.perf_counter()
    ref = subprocess.run(
        command(os.path.join(root, "reference"), args.steps),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if ref.returncode != 0:
        sys.exit(f"the reference run failed:\n{ref.stderr[-3000:]}")
    # The second start is the one the trials repeat: compiled programs come from the cache.
    shutil.rmtree(os.path.join(root, "reference"))
    start = time.perf_counter()
    ref = subprocess.run(
        command(os.path.join(root, "reference"), args.steps),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    duration = time.perf_counter() - start
    reference = logged_metrics(ref.stderr)
    assert sorted(reference) == list(range(1, args.steps + 1)), "a step logged no metrics"
    print(f"reference: {args.steps} steps in {duration:.1f} s (start-up included)")

    equal = 0
    for trial in range(args.trials):
        workdir = os.path.join(root, f"trial_{trial}")
        delay = rng.uniform(0.0, duration)
        proc = subprocess.Popen(
            command(workdir, args.steps),
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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
            f"trial {trial + 1:2d}: killed at {delay:5.1f} s {where:<19} resumed from step "
            f"{from_step:3d}: {'equal' if ok else 'DIFFERENT'} ({len(got)} steps compared)"
            + ("" if resumed.returncode == 0 else f", exit {resumed.returncode}"),
            flush=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{equal}/{args.trials} resumed with losses equal to an uninterrupted run's")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
