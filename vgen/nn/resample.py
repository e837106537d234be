"""Nearest-neighbour 2× upsampling by broadcasting.

Equal to ``jax.image.resize(x, (b, 2h, 2w, c), "nearest")``, whose gradient XLA builds as a
scatter-add with index arrays (iotas) as large as the output. Here the gradient is a sum over
each 2×2 block: at SVG-LP's KTH shape the step took 7 % less time and 0.25 GB less peak memory on
the 2-core CPU (`python benchmarks/train_step.py`, issue 14).
"""

import jax
import jax.numpy as jnp


def upsample2x(x: jax.Array) -> jax.Array:
    """[B, H, W, C] -> [B, 2H, 2W, C], each pixel repeated over a 2×2 block."""
    b, h, w, c = x.shape
    x = jnp.broadcast_to(x[:, :, None, :, None, :], (b, h, 2, w, 2, c))
    return x.reshape(b, 2 * h, 2 * w, c)
