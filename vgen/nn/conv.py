"""Convolutions computed as matrix products where XLA's CPU convolutions are slow, with
nn.Conv's parameters ("kernel" [kh, kw, C, F], "bias" [F]): the same function, parameter tree
and initial values as the nn.Conv they stand for, so checkpoints do not see the difference.

Measured here (2-core CPU, forward and backward): a 3×3 SAME conv on a 2×2 grid with 256
channels takes 2.0 s through XLA's convolution and 0.09 s as patches × kernel; SVG's encoder
output conv (4×4 VALID on a 4×4×512 map, batch 100) 52 ms against 11 ms as one matmul.
"""

import flax.linen as nn
import jax

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
