"""Convolutions computed another way where XLA's CPU convolutions are slow, with
nn.Conv's parameters ("kernel" [kh, kw, C, F], "bias" [F]): the same function, parameter tree
and initial values as the nn.Conv they stand for, so checkpoints do not see the difference.

Measured here (2-core CPU, forward and backward): a 3×3 SAME conv on a 2×2 grid with 256
channels takes 2.0 s through XLA's convolution and 0.09 s as patches × kernel; SVG's encoder
output conv (4×4 VALID on a 4×4×512 map, batch 100) 52 ms against 11 ms as one matmul.
`SkipConv`, a decoder's convolution of [features, skip] that convolves each skip map once,
is in `benchmarks/train_step.py`'s figures for SVG-LP.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.resample import conv3x3_upsampled
from vgen.ops.feature_flow import neighbours


class PatchConv(nn.Module):
    """A SAME-padded, stride-1 convolution (square, odd kernel) as one matmul over gathered
    patches (im2col: `feature_flow.neighbours`), with nn.Conv's parameters ("kernel" [kh, kw,
    C, F], "bias" [F]) and initialisers. The same
    function as nn.Conv; on grids of 2×2 and less XLA's CPU convolution (its gradient) is
    ~20× slower than this (measured at 256 channels)."""

    features: int
    kernel_size: tuple[int, int] = (3, 3)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kh, kw = self.kernel_size
        if kh != kw:
            raise ValueError(f"PatchConv: square kernels only, got {kh}×{kw}")
        b, h, w, c = x.shape
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (kh, kw, c, self.features))
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        # neighbours' offsets run row-major over the kernel, as kernel.reshape flattens it.
        patches = neighbours(x, kh).reshape(b, h, w, kh * kw * c)
        return patches @ kernel.reshape(kh * kw * c, self.features) + bias


class WholeMapConv(nn.Module):
    """A VALID convolution whose kernel covers the whole input map ([B, kh, kw, C] -> [B, 1, 1,
    F]): a linear map of the flattened map, computed as one matmul."""

    features: int
    kernel_size: tuple[int, int]
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kh, kw = self.kernel_size
        if x.shape[1:3] != (kh, kw):
            raise ValueError(f"WholeMapConv: a {kh}×{kw} kernel on a {x.shape[1:3]} map")
        c = x.shape[-1]
        kernel = self.param("kernel", self.kernel_init, (kh, kw, c, self.features))
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        y = x.reshape(x.shape[0], -1) @ kernel.reshape(kh * kw * c, self.features) + bias
        return y[:, None, None, :]


class SkipConv(nn.Module):
    """nn.Conv (stride 1, SAME, the same parameters and initialisers) of the channel
    concatenation [x, skip[skip_index]]: x [N, H, W, Cx], skip [M, H, W, Cs], skip_index [N] int
    (None: M = N and row n reads skip n) -> [N, H, W, features]. skip None: nn.Conv of x.

    Computed as conv(x, kernel[:, :, :Cx]) + conv(skip, kernel[:, :, Cx:])[skip_index]: the
    skip's convolution runs once per distinct map and the concatenation is never built. SVG-LP
    decodes 19 frames a clip from the skips of its 10 context frames: at the KTH shape, batch 4,
    its step fell from 1,225 to 1,105 GFLOP and from 9.17 to 8.29 s on the 2-core CPU (issue
    14)."""

    features: int
    kernel_size: int = 3
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    # x is [N, H/2, W/2, Cx] and stands for upsample2x(x) (3×3 kernels: `conv3x3_upsampled`)
    upsample: bool = False

    @nn.compact
    def __call__(
        self, x: jax.Array, skip: jax.Array | None, skip_index: jax.Array | None = None
    ) -> jax.Array:
        cx, k = x.shape[-1], self.kernel_size
        cs = 0 if skip is None else skip.shape[-1]
        kernel = self.param("kernel", self.kernel_init, (k, k, cx + cs, self.features), jnp.float32)
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)

        def conv(a: jax.Array, w: jax.Array) -> jax.Array:
            dims = ("NHWC", "HWIO", "NHWC")
            return jax.lax.conv_general_dilated(a, w, (1, 1), "SAME", dimension_numbers=dims)

        from_skip = 0.0 if skip is None else conv(skip, kernel[:, :, cx:])
        if skip is not None and skip_index is not None:
            from_skip = from_skip[skip_index]
        if self.upsample:
            if k != 3:
                raise ValueError(f"SkipConv(upsample=True): 3×3 kernels only, got {k}×{k}")
            from_x = conv3x3_upsampled(x, kernel[:, :, :cx])
        else:
            from_x = conv(x, kernel[:, :, :cx])
        return from_x + from_skip + bias
