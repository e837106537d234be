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

import functools

from vgen import config_lib
from vgen.data import make_source
from vgen.data.dynamics import DynamicsSource
from vgen.methods import ffgan

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def measure_ffgan_step(config, repeats: int = 10) -> float:
    """Clips/s of the jitted FF-GAN train step (data excluded) at the config's batch and shape."""
    source = make_source(config)
    batch_size = config.train.batch_size
    batch = source.train_batch(jax.random.key(0), batch_size)
    state = ffgan.init(config, jax.random.key(0, impl="rbg"), batch)
    step = jax.jit(functools.partial(ffgan.train_step, config))
    holder = {"state": state}

    def run(rng):
        holder["state"], metrics = step(holder["state"], batch, rng)
        return metrics

    return _clips_per_second(run, batch_size, repeats)


def main() -> None:
    config = config_lib.load_config_file(os.path.join(REPO, "configs", "quickstart.py"))
    d = config.data
    frames, res, batch = d.context_frames + d.predict_frames, d.resolution, config.train.batch_size
    # (what, shape, batch size, clips/s): data generation next to the train step it feeds.
    rows = [
        (
            "dynamics train_batch",
            f"{frames}x{res}x{res}",
            batch,
            measure_dynamics(batch, frames, res),
        ),
        (
            "ffgan train_step (quickstart)",
            f"{frames}x{res}x{res}",
            batch,
            measure_ffgan_step(config),
        ),
    ]
    for batch_size in (16, 64):
        rows.append(
            ("dynamics train_batch", "20x64x64", batch_size, measure_dynamics(batch_size, 20, 64))
        )

    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()})")
    print(f"{'what':<32} {'frames x H x W':>15} {'batch':>6} {'clips/s':>10}")
    for what, shape, batch_size, rate in rows:
        print(f"{what:<32} {shape:>15} {batch_size:>6} {rate:>10.1f}")
    print(f"data / train-step ratio (quickstart): {rows[0][3] / rows[1][3]:.1f}x")


if __name__ == "__main__":
    main()
