"""What a second start of a run costs: the train step compiled, then loaded (vgen.main's
--compilation_cache, on by default, with vgen.executables' compiled steps inside it).

Run from the repo root: ``python benchmarks/compile_cache.py [--config=CONFIG] [--steps=N]``.
Starts the same short training run three times, one process at a time, each in a new workdir:
with the cache off, into an empty cache, and again from that cache. Prints, from each run's
log, the seconds it took to get the train step's executable (traced and compiled, or loaded)
and to the end of the first step, and the process's wall time; then the warm start's seconds
for its executable as a fraction of the first start's compilation.
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
EXECUTABLE = re.compile(r"Step (compiled and stored|compiled|loaded) in ([0-9.]+) s")


def start(config: str, steps: int, workdir: str, cache: str) -> tuple[str, float, float, float]:
    """(how the step was obtained, its seconds, seconds to the end of the first step, wall
    seconds) of one `vgen.main` training process."""
    env = dict(os.environ, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env.pop("VGEN_EXECUTABLES", None)  # the stored train steps (vgen.executables): the default
    args = [sys.executable, "-m", "vgen.main", f"--config={config}", f"--workdir={workdir}"]
    args += [f"--config.train.num_steps={steps}", f"--compilation_cache={cache}"]
    begin = time.perf_counter()
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - begin
    if proc.returncode != 0:
        sys.exit(f"the run failed: {proc.stderr.strip().splitlines()[-1]}")
    first, executable = FIRST_STEP.search(proc.stderr), EXECUTABLE.search(proc.stderr)
    if first is None or executable is None:
        sys.exit("the run's log has no 'First step done' or train-step executable line")
    return executable.group(1), float(executable.group(2)), float(first.group(1)), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/svg_lp_dynamics.py")
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        print(f"{args.config}, {args.steps} steps a start")
        head = f"{'start':<12} {'train step':<20} {'its s':>6} {'first step s':>12} {'wall s':>7}"
        print(head, flush=True)
        rows = {}
        for name, cache_dir in [
            ("cache off", "off"),
            ("empty cache", cache),
            ("warm cache", cache),
        ]:
            workdir = os.path.join(tmp, name.replace(" ", "_"))
            rows[name] = start(args.config, args.steps, workdir, cache_dir)
            how, step_s, first_s, wall = rows[name]
            print(f"{name:<12} {how:<20} {step_s:>6.2f} {first_s:>12.1f} {wall:>7.1f}", flush=True)
    ratio = rows["warm cache"][1] / rows["cache off"][1]
    print(f"warm start's train step / the first start's compilation: {ratio:.3f}")


if __name__ == "__main__":
    main()
