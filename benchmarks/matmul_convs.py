"""vgen.nn.conv against the XLA convolutions they replace: forward and backward (gradients of
kernel and input) at the shapes where vgen uses them, median seconds and the ratio.

Run from the repo root: ``python benchmarks/matmul_convs.py [--repeats=5]``. Cases:
- PatchConv: 3×3 SAME convs on 1×1 and 2×2 grids (the classifiers' late ConvLSTM gates, 8
  steps of a batch of 32 folded into the batch axis) and on 4×4 (where XLA is not slow);
- WholeMapConv: the SVG/MVAE encoders' 4×4 VALID output conv on 4×4 maps (batch 100 × 20
  frames at KTH's width, batch 16 × 8 frames at Dynamics').
"""

from __future__ import annotations

import argparse
import os
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp

try:
    import vgen  # noqa: F401
except ImportError:  # run as a plain script from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vgen.nn.conv import PatchConv, WholeMapConv

try:
    from timing import median_seconds
except ImportError:
    from benchmarks.timing import median_seconds

# (name, ours, XLA's, input shape)
CASES = [
    ("PatchConv 1×1×256 -> 512", PatchConv(512), nn.Conv(512, (3, 3)), (256, 1, 1, 256)),
    ("PatchConv 2×2×256 -> 512", PatchConv(512), nn.Conv(512, (3, 3)), (256, 2, 2, 256)),
    ("PatchConv 4×4×128 -> 256", PatchConv(256), nn.Conv(256, (3, 3)), (256, 4, 4, 128)),
    (
        "WholeMapConv KTH 4×4×512 -> 128",
        WholeMapConv(128, (4, 4)),
        nn.Conv(128, (4, 4), padding="VALID"),
        (2000, 4, 4, 512),
    ),
    (
        "WholeMapConv Dynamics 4×4×128 -> 128",
        WholeMapConv(128, (4, 4)),
        nn.Conv(128, (4, 4), padding="VALID"),
        (128, 4, 4, 128),
    ),
]


def forward_backward(module: nn.Module, shape: tuple[int, ...]):
    """A jitted (params, x) -> gradients of sum(module(x)²) w.r.t. both, and its arguments."""
    x = jax.random.normal(jax.random.key(0), shape)
    params = module.init(jax.random.key(1), x)
    loss = lambda p, x: jnp.sum(module.apply(p, x) ** 2)
    return jax.jit(jax.grad(loss, argnums=(0, 1))), params, x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"device: {jax.devices()[0].device_kind}; forward + backward, median of {args.repeats}")
    print(f"{'case':<40}{'XLA conv':>12}{'vgen.nn.conv':>14}{'speed-up':>10}")
    for name, ours, theirs, shape in CASES:
        seconds = []
        for module in (theirs, ours):
            fn, params, x = forward_backward(module, shape)
            seconds.append(median_seconds(fn, params, x, repeats=args.repeats))
        xla, mine = seconds
        print(f"{name:<40}{xla * 1e3:>10.1f}ms{mine * 1e3:>12.1f}ms{xla / mine:>9.1f}×")


if __name__ == "__main__":
    main()
