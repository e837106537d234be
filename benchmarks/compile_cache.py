"""What a second start of a run costs with JAX's persistent compilation cache (vgen.main's
--compilation_cache, on by default).

Run from the repo root: ``python benchmarks/compile_cache.py [--config=CONFIG] [--steps=N]``.
Starts the same short training run three times, one process at a time, each in a new workdir:
with the cache off, into an empty cache, and again from that cache. Prints the time to the first
step (compilation included, from the run's own log line) and the whole process's wall time,
and the warm start's first step as a fraction of the cold one's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST_STEP = re.compile(r"First step done in ([0-9.]+) s")


def start(config: str, steps: int, workdir: str, cache: str) -> tuple[float, float]:
    """(seconds to the first step, wall seconds) of one `vgen.main` training process."""
    env = dict(os.environ, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    args = [sys.executable, "-m", "vgen.main", f"--config={config}", f"--workdir={workdir}"]
    args += [f"--config.train.num_steps={steps}", f"--compilation_cache={cache}"]
    begin = time.perf_counter()
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - begin
    if proc.returncode != 0:
        sys.exit(f"the run failed: {proc.stderr.strip().splitlines()[-1]}")
    match = FIRST_STEP.search(proc.stderr)
    if match is None:
        sys.exit("the run's log has no 'First step done' line")
    return float(match.group(1)), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/svg_lp_dynamics.py")
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        print(f"{args.config}, {args.steps} steps a start")
        print(f"{'start':<26} {'first step s':>12} {'wall s':>8}", flush=True)
        rows = {}
        for name, cache_dir in [
            ("cache off", "off"),
            ("empty cache", cache),
            ("warm cache", cache),
        ]:
            workdir = os.path.join(tmp, name.replace(" ", "_"))
            rows[name] = start(args.config, args.steps, workdir, cache_dir)
            print(f"{name:<26} {rows[name][0]:>12.1f} {rows[name][1]:>8.1f}", flush=True)
    ratio = rows["warm cache"][0] / rows["cache off"][0]
    print(f"warm start's first step / cache off's: {ratio:.2f}")


if __name__ == "__main__":
    main()
