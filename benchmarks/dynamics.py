"""Throughput of the procedurally rendered Dynamics dataset (clips/s), vs. training.

Run from the repo root: ``python benchmarks/dynamics.py``. Prints a table of clips/s
on the default JAX device; the data pipeline should be far faster than any train step.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

import jax

try:
    import vgen  # noqa: F401
except ImportError:  # run as a plain script from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vgen.data.dynamics import DynamicsSource


def _clips_per_second(step: Callable[[jax.Array], object], batch_size: int, repeats: int) -> float:
    """Median clips/s of ``step(rng)`` over ``repeats`` timed calls after one warm-up."""
    rng = jax.random.key(0)
    jax.block_until_ready(step(rng))  # compile
    times = []
    for i in range(repeats):
        r = jax.random.fold_in(rng, i + 1)
        start = time.perf_counter()
        jax.block_until_ready(step(r))
        times.append(time.perf_counter() - start)
    return batch_size / statistics.median(times)


def measure_dynamics(
    batch_size: int = 16, num_frames: int = 20, resolution: int = 64, repeats: int = 20
) -> float:
    """Clips/s of ``DynamicsSource.train_batch`` (one jitted call per batch)."""
    source = DynamicsSource(seed=0, resolution=resolution, num_frames=num_frames)
    return _clips_per_second(lambda r: source.train_batch(r, batch_size), batch_size, repeats)


def main() -> None:
    num_frames, resolution = 20, 64
    # (what, batch size, clips/s). Add other rows here, e.g. the FF-GAN train step's
    # clips/s at the same batch size, to compare data generation with training.
    rows: list[tuple[str, int, float]] = []
    for batch_size in (16, 64):
        rows.append(
            (
                "dynamics train_batch",
                batch_size,
                measure_dynamics(batch_size, num_frames, resolution),
            )
        )

    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()})")
    print(f"clips: {num_frames} frames x {resolution}x{resolution}x3")
    print(f"{'what':<32} {'batch':>6} {'clips/s':>12}")
    for what, batch_size, rate in rows:
        print(f"{what:<32} {batch_size:>6} {rate:>12.1f}")


if __name__ == "__main__":
    main()
