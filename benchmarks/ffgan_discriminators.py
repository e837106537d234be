"""FF-GAN's train step with each discriminator of `model.disc_inverse_flow` (thesis 6.3.4):
none (the default ConvLSTM discriminator), `correlation` (Eq. 6.5) and `relation` (learned), at
the Dynamics shape of `configs/ffgan_dynamics.py` (batch 16 of 2 + 6 frames, 32×32×3).

Run from the repo root: ``python benchmarks/ffgan_discriminators.py [--repeats=10]``. Prints
the median seconds per step (compilation apart) of each, all in this process, and the ratio to
the default discriminator's.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time

import jax

try:
    import vgen  # noqa: F401
except ImportError:  # run as a plain script from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from timing import median_seconds

from vgen import config_lib
from vgen.data import make_source
from vgen.methods import get_method

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = ("", "correlation", "relation")


def step_seconds(flow: str, repeats: int) -> tuple[float, float]:
    """(compile seconds, median seconds per train step) with disc_inverse_flow = `flow`."""
    config = config_lib.load_config_file(os.path.join(REPO, "configs", "ffgan_dynamics.py"))
    config.model.disc_inverse_flow = flow
    config.train.curriculum_start = config.data.predict_frames  # the full-length step
    method = get_method(config.method)
    batch = make_source(config).train_batch(jax.random.key(0), config.train.batch_size)
    state = method.init(config, jax.random.key(0, impl="rbg"), batch)
    step = jax.jit(functools.partial(method.train_step, config))
    start = time.perf_counter()
    jax.block_until_ready(step(state, batch, jax.random.key(1)))
    compile_s = time.perf_counter() - start
    return compile_s, median_seconds(step, state, batch, jax.random.key(1), repeats=repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"device: {jax.devices()[0].device_kind}; ffgan_dynamics.py, batch 16, 8 frames 32x32x3")
    print(f"{'disc_inverse_flow':<18} {'compile s':>9} {'ms/step':>8} {'vs none':>8}")
    base = None
    for flow in VARIANTS:
        compile_s, seconds = step_seconds(flow, args.repeats)
        base = base or seconds
        print(
            f"{flow or 'none':<18} {compile_s:>9.1f} {1e3 * seconds:>8.1f} {seconds / base:>7.2f}x"
        )


if __name__ == "__main__":
    main()
