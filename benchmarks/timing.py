"""The one timing helper of the benchmarks: the median wall time of a jitted call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import jax

from vgen import xla_flags

# Every benchmark measures with vgen.main's XLA:CPU options (VGEN_XLA_CPU_FLAGS=off: XLA's own).
xla_flags.apply()


def median_seconds(fn: Callable, *args, repeats: int) -> float:
    """Median wall time of `fn(*args)` in seconds over `repeats` runs, after one warm-up call
    (compilation); each run waits for the results."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)
