"""Benchmark of the feature-flow operator F (vgen.ops.feature_flow) against its baselines.

    python benchmarks/feature_flow.py [--quick] [--repeats N]

For batch 16, grids 30x30 and 64x64, channels 64/128/256 and κ 3/5, times (jitted, warm-up
excluded, median of --repeats runs) the forward and forward+backward (grad of the output's sum
w.r.t. fixels and flow) of `feature_flow`, of `feature_flow_naive` (materialises the
[B, H, W, κ², C] neighbourhoods) and of an elementwise `x + 1` that moves the same number of
bytes, measured in the same run as a memory-bandwidth yardstick.

Bytes counted (float32): forward reads fixels + flow and writes the output; forward+backward
reads fixels + flow and writes their gradients (the least any implementation must move). The
yardstick array holds half those bytes, so reading and writing it moves the same total;
"F/copy" is F's GB/s over the yardstick's, 1.0 meaning F runs at copy speed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

try:
    import vgen  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax
import jax.numpy as jnp

from vgen.ops.feature_flow import feature_flow, feature_flow_naive

try:
    from timing import median_seconds
except ImportError:
    from benchmarks.timing import median_seconds

BATCH = 16
GRIDS = (30, 64)
CHANNELS = (64, 128, 256)
KAPPAS = (3, 5)


def time_ms(fn: Callable, *args, repeats: int) -> float:
    """Median wall time of `fn(*args)` in ms, after one warm-up call (compilation)."""
    return 1e3 * median_seconds(fn, *args, repeats=repeats)


def grad_of_sum(op: Callable) -> Callable:
    return jax.jit(jax.grad(lambda x, f: jnp.sum(op(x, f)), argnums=(0, 1)))


FWD = {"F": jax.jit(feature_flow), "naive": jax.jit(feature_flow_naive)}
FWD_BWD = {"F": grad_of_sum(feature_flow), "naive": grad_of_sum(feature_flow_naive)}
COPY = jax.jit(lambda x: x + 1.0)


def bench_case(grid: int, kappa: int, channels: int, repeats: int) -> dict[str, dict]:
    kx, kf = jax.random.split(jax.random.PRNGKey(grid * 1000 + channels + kappa))
    fixels = jax.random.normal(kx, (BATCH, grid, grid, channels), jnp.float32)
    logits = jax.random.normal(kf, (BATCH, grid, grid, kappa * kappa), jnp.float32)
    flow = jax.nn.softmax(logits, axis=-1)
    itemsize = fixels.dtype.itemsize
    moved = {
        "fwd": (2 * fixels.size + flow.size) * itemsize,
        "fwd+bwd": 2 * (fixels.size + flow.size) * itemsize,
    }
    rows = {}
    for mode, ops in (("fwd", FWD), ("fwd+bwd", FWD_BWD)):
        copy_src = jnp.zeros(moved[mode] // itemsize // 2, jnp.float32)
        t = {name: time_ms(op, fixels, flow, repeats=repeats) for name, op in ops.items()}
        t["copy"] = time_ms(COPY, copy_src, repeats=repeats)
        del copy_src
        gbs = moved[mode] / (t["F"] * 1e-3) / 1e9
        copy_gbs = moved[mode] / (t["copy"] * 1e-3) / 1e9
        rows[mode] = dict(t, speedup=t["naive"] / t["F"], gbs=gbs, ratio=gbs / copy_gbs)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small case, a few seconds")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per measurement")
    args = parser.parse_args()
    if args.quick:
        cases, repeats = [(30, 3, 64)], args.repeats or 5
    else:
        cases = [(g, k, c) for g in GRIDS for k in KAPPAS for c in CHANNELS]
        repeats = args.repeats or 7

    print(f"jax {jax.__version__}, devices: {jax.devices()}")
    print(f"batch {BATCH}, float32, median of {repeats} runs, times in ms")
    header = (
        f"{'mode':<8} {'size':>9} {'κ':>2} {'C':>4} {'F':>9} {'naive':>9} {'copy':>9} "
        f"{'vs naive':>8} {'F GB/s':>7} {'F/copy':>6}"
    )
    results = []
    for grid, kappa, channels in cases:
        rows = bench_case(grid, kappa, channels, repeats)
        results.append((grid, kappa, channels, rows))
        r = rows["fwd"]
        print(
            f"  done {grid}x{grid} κ={kappa} C={channels}: fwd {r['F']:.2f} ms",
            file=sys.stderr,
            flush=True,
        )
    for mode in ("fwd", "fwd+bwd"):
        print()
        print(header)
        print("-" * len(header))
        for grid, kappa, channels, rows in results:
            r = rows[mode]
            print(
                f"{mode:<8} {f'{grid}x{grid}':>9} {kappa:>2} {channels:>4} {r['F']:>9.2f} "
                f"{r['naive']:>9.2f} {r['copy']:>9.2f} {r['speedup']:>7.1f}x {r['gbs']:>7.1f} "
                f"{r['ratio']:>6.2f}"
            )


if __name__ == "__main__":
    main()
