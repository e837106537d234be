"""Nearest-neighbour 2× upsampling by broadcasting, a 3×3 convolution of an upsampled map
computed on the map itself, and 2×2 max pooling as a reshape and a max.

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


def max_pool2x2(x: jax.Array) -> jax.Array:
    """[B, H, W, C] -> [B, H // 2, W // 2, C]: the max of each 2×2 block (stride 2, VALID; an
    odd last row or column is dropped), as ``nn.max_pool(x, (2, 2), strides=(2, 2))``.

    Its gradient is a mask of each block's maximum (a tie shares the gradient), computed
    elementwise. XLA:CPU builds nn.max_pool's gradient (select-and-scatter) as a scatter with
    index arrays as large as the input: at SVG-LP's KTH shape they held 0.3 GB of the step's
    1.65 GB temporary memory at batch 4 (issue 14).
    """
    b, h, w, c = x.shape
    x = x[:, : h // 2 * 2, : w // 2 * 2]
    return jnp.max(x.reshape(b, h // 2, 2, w // 2, 2, c), axis=(2, 4))


def _combine_taps(kernel: jax.Array, axis: int, phase: int) -> jax.Array:
    """3 taps along `axis` -> the 2 that an output of `phase` (0: even, 1: odd) applies to the
    input rows (i - 1, i) (phase 0) or (i, i + 1) (phase 1) of a 2× upsampled input."""
    k0, k1, k2 = jnp.split(kernel, 3, axis)
    return jnp.concatenate([k0, k1 + k2] if phase == 0 else [k0 + k1, k2], axis)


def conv3x3_upsampled(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """The SAME, stride-1 convolution of upsample2x(x) with a 3×3 kernel: x [N, H, W, C],
    kernel [3, 3, C, F] -> [N, 2H, 2W, F].

    Each of the four output phases (even or odd row and column) reads a 2×2 neighbourhood of
    x, with the kernel's taps that fall on the same input pixel summed: 16 multiply-adds per
    input pixel and channel pair instead of 36, and the upsampled map is never built. In SVG's
    VGG decoder (`SkipConv(upsample=True)`) at the KTH shape, batch 4: 1,105 -> 959 GFLOP and
    8.29 -> 7.56 s a step on the 2-core CPU (issue 14)."""
    n, h, w, _ = x.shape
    pads = ((1, 0), (0, 1))  # phase 0 reads (i - 1, i), phase 1 reads (i, i + 1)
    dims = ("NHWC", "HWIO", "NHWC")
    rows = []
    for a in (0, 1):
        k_a = _combine_taps(kernel, 0, a)
        phases = [
            jax.lax.conv_general_dilated(
                x, _combine_taps(k_a, 1, b), (1, 1), (pads[a], pads[b]), dimension_numbers=dims
            )
            for b in (0, 1)
        ]
        rows.append(jnp.stack(phases, axis=3))  # [N, H, W, 2 (column phase), F]
    return jnp.stack(rows, axis=2).reshape(n, 2 * h, 2 * w, kernel.shape[-1])
