"""Speed of the jitted train steps at the KTH shape: SVG-LP and FF-GAN (sequences/s).

Run from the repo root: ``python benchmarks/train_step.py [--batch=20] [--repeats=5]``.
SVG-LP with its KTH config (VGG-64 encoder, g_dim 128, z_dim 24, rnn 256) on batch 20 of
10 + 10 frames of 64×64×1; FF-GAN with its KTH `:64` config on the same clips (2 context
frames). The data are random clips: the step's cost does not depend on them. Prints
sequences/s on the default JAX device, compile time apart, and FF-GAN / SVG-LP.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time

import jax
import numpy as np

try:
    import vgen  # noqa: F401
except ImportError:  # run as a plain script from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vgen import config_lib
from vgen.methods import get_method

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kth_config(name: str, arg: str | None, batch: int):
    config = config_lib.load_config_file(os.path.join(REPO, "configs", name), arg)
    config.train.batch_size = batch
    config.data.context_frames, config.data.predict_frames = 10, 10
    return config


def time_step(config, repeats: int) -> tuple[float, float]:
    """(compile seconds, median seconds per step) of the method's jitted train step."""
    method = get_method(config.method)
    d = config.data
    shape = (config.train.batch_size, d.context_frames + d.predict_frames)
    batch = {
        "video": jax.numpy.asarray(
            np.random.default_rng(0).random((*shape, d.resolution, d.resolution, 1), np.float32)
        )
    }
    state = method.init(config, jax.random.key(0, impl="rbg"), batch)
    step = jax.jit(functools.partial(method.train_step, config), donate_argnums=0)
    start = time.perf_counter()
    state, metrics = step(state, batch, jax.random.key(1))
    jax.block_until_ready(metrics)
    compile_s = time.perf_counter() - start
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        state, metrics = step(state, batch, jax.random.key(i + 2))
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - start)
    return compile_s, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--methods", default="svg_lp,ffgan", help="comma-separated subset")
    args = parser.parse_args()
    methods = args.methods.split(",")
    unknown = set(methods) - {"svg_lp", "ffgan"}
    if unknown:
        parser.error(f"unknown --methods {sorted(unknown)}; choose from svg_lp, ffgan")

    device = jax.devices()[0]
    print(f"device: {device.device_kind} ({jax.default_backend()}), batch {args.batch}")
    print("clips: 20 frames of 64x64x1")
    print(f"{'train step':<26} {'compile s':>10} {'s/step':>8} {'sequences/s':>12}", flush=True)
    rates = {}
    for name in methods:
        if name == "svg_lp":
            what, config = "svg_lp (svg_lp_kth.py)", kth_config("svg_lp_kth.py", None, args.batch)
        else:
            what, config = "ffgan (ffgan_kth.py:64)", kth_config("ffgan_kth.py", "64", args.batch)
            config.data.context_frames, config.data.predict_frames = 2, 18  # its own context
        compile_s, step_s = time_step(config, args.repeats)
        rates[name] = args.batch / step_s
        print(f"{what:<26} {compile_s:>10.1f} {step_s:>8.3f} {rates[name]:>12.1f}", flush=True)
    if len(rates) == 2:
        print(f"ffgan / svg_lp sequences/s: {rates['ffgan'] / rates['svg_lp']:.2f}")


if __name__ == "__main__":
    main()
