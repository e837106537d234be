"""Frame encoders and decoders of SVG (Denton & Fergus 2018): DCGAN-64 and VGG-64 variants.

An encoder maps a frame [B, R, R, C] to a vector [B, dim] in (-1, 1) plus its per-block features
(the skip connections); the mirrored decoder maps a vector and those features back to a frame in
(0, 1). At R = 64 the layers are SVG's; a smaller R keeps the first log2(R) - 2 blocks, so every
resolution reaches a 4×4 map before the last 4×4 convolution (R = 32: 3 blocks, R = 16: 2).

  dcgan  block i: 4×4 stride-2 conv to channels * 2^i, BN, leaky ReLU; skip after the block
         (at R / 2^(i+1)); decoder: 4×4 stride-2 transposed convs.
  vgg    block i: 2, 2, 3, 3 3×3 convs (VGG16 up to its 4th pool) of channels * 2^i, BN, leaky
         ReLU, skip before the 2×2 max pool (at R / 2^i); decoder: nearest ×2 upsampling and the
         same convs in reverse order.
Widths double per block up to 8 × channels (SVG: channels = 64, so 64 ... 512).
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.conv import SkipConv, WholeMapConv
from vgen.nn.lstm import SVG_INIT
from vgen.nn.resample import max_pool2x2

ARCHITECTURES = ("dcgan", "vgg")
_VGG_CONVS = (2, 2, 3, 3)  # 3×3 convs per VGG16 block before each pool


def num_blocks(resolution: int) -> int:
    """Down blocks that take a `resolution`² frame to 4×4; `resolution` a power of two >= 8."""
    n = round(math.log2(resolution)) - 2
    if resolution < 8 or 2 ** (n + 2) != resolution:
        raise ValueError(f"frame resolution must be a power of two >= 8, got {resolution}")
    return n


def block_width(channels: int, i: int) -> int:
    """Channels of block i: channels * 2^i, capped at 8 * channels as in SVG."""
    return channels * min(2**i, 8)


def _vgg_convs(i: int) -> int:
    return _VGG_CONVS[min(i, len(_VGG_CONVS) - 1)]


def _bn(train: bool, name: str | None = None) -> nn.BatchNorm:
    # PyTorch's BatchNorm momentum 0.1 is flax's 0.9 (the weight of the old running average).
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, name=name)


class ConvBlock(nn.Module):
    """Conv, batch norm, leaky ReLU(0.2): SVG's vgg_layer (3×3, stride 1) and dcgan_conv (4×4,
    stride 2); `transpose` gives dcgan_upconv (4×4 stride-2 transposed conv)."""

    features: int
    train: bool
    kernel: int = 3
    stride: int = 1
    transpose: bool = False

    @nn.compact
    def __call__(
        self,
        x: jax.Array,
        skip: jax.Array | None = None,
        skip_index: jax.Array | None = None,
        upsample: bool = False,
    ) -> jax.Array:
        """x [N, H, W, C] -> [N, H', W', features]; upsample: of upsample2x(x); with a skip
        (3×3 stride-1 only), of the channel concatenation [x, skip[skip_index]] (`SkipConv`)."""
        if skip is not None or upsample:
            if self.stride != 1 or self.transpose:
                raise ValueError("ConvBlock: a skip or upsample needs stride 1, not transposed")
            conv = SkipConv(self.features, self.kernel, SVG_INIT, upsample, name="Conv_0")
            x = conv(x, skip, skip_index)
        else:
            conv = nn.ConvTranspose if self.transpose else nn.Conv
            x = conv(
                self.features,
                (self.kernel, self.kernel),
                strides=(self.stride, self.stride),
                padding="SAME",
                kernel_init=SVG_INIT,
            )(x)
        return nn.leaky_relu(_bn(self.train)(x), 0.2)


class Encoder(nn.Module):
    """Frame [B, R, R, C] in [0, 1] -> (h [B, dim] in (-1, 1), skips: one map per block)."""

    arch: str
    dim: int
    channels: int = 64

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> tuple[jax.Array, list[jax.Array]]:
        n = num_blocks(x.shape[1])
        skips = []
        for i in range(n):
            width = block_width(self.channels, i)
            if self.arch == "dcgan":
                x = ConvBlock(width, train, kernel=4, stride=2, name=f"block_{i}")(x)
                skips.append(x)
            elif self.arch == "vgg":
                for j in range(_vgg_convs(i)):
                    x = ConvBlock(width, train, name=f"block_{i}_{j}")(x)
                skips.append(x)
                x = max_pool2x2(x)
            else:
                raise ValueError(f"unknown encoder {self.arch!r}; known: {ARCHITECTURES}")
        # 4×4 -> 1×1 with a valid 4×4 conv, then batch norm and tanh (SVG's c5); one matmul.
        h = WholeMapConv(self.dim, (4, 4), kernel_init=SVG_INIT, name="out")(x)
        h = jnp.tanh(_bn(train, name="out_bn")(h))
        return h.reshape(h.shape[0], self.dim), skips


class Decoder(nn.Module):
    """(h [B, dim], skips of an Encoder of the same arch/channels) -> frame [B, R, R, out] in
    (0, 1); R follows from the number of skips. Each block reads the matching skip,
    concatenated; a decoder without skip connections gets [None] * num_blocks(R)."""

    arch: str
    out_channels: int
    channels: int = 64

    @nn.compact
    def __call__(
        self,
        h: jax.Array,
        skips: list[jax.Array],
        train: bool,
        skip_index: jax.Array | None = None,
    ) -> jax.Array:
        """skip_index [N] int: row n decodes with skip row skip_index[n] (skips then [M, ...]:
        each distinct map once); None: with row n."""
        n = len(skips)
        top = block_width(self.channels, n - 1)
        # 1×1 -> 4×4: a 4×4 transposed conv on a 1×1 map is a linear map to 4×4×top (SVG's upc1).
        x = nn.Dense(16 * top, kernel_init=SVG_INIT, name="in")(h).reshape(-1, 4, 4, top)
        x = nn.leaky_relu(_bn(train, name="in_bn")(x), 0.2)
        for i in reversed(range(n)):
            if self.arch == "dcgan":
                if skips[i] is not None:
                    skip = skips[i] if skip_index is None else skips[i][skip_index]
                    x = jnp.concatenate([x, skip], axis=-1)
                if i > 0:
                    width = block_width(self.channels, i - 1)
                    x = ConvBlock(width, train, 4, 2, transpose=True, name=f"block_{i}")(x)
                else:
                    x = nn.ConvTranspose(
                        self.out_channels,
                        (4, 4),
                        strides=(2, 2),
                        padding="SAME",
                        kernel_init=SVG_INIT,
                        name="out",
                    )(x)
            elif self.arch == "vgg":
                convs = _vgg_convs(i)
                for j in range(convs):
                    if j < convs - 1:
                        width = block_width(self.channels, i)
                    elif i > 0:
                        width = block_width(self.channels, i - 1)
                    else:
                        break  # the last conv of block 0 is the output conv below
                    first = j == 0  # of upsample2x(x) and the skip
                    skip = skips[i] if first else None
                    block = ConvBlock(width, train, name=f"block_{i}_{j}")
                    x = block(x, skip, skip_index, upsample=first)
                if i == 0:
                    x = nn.Conv(
                        self.out_channels, (3, 3), padding="SAME", kernel_init=SVG_INIT, name="out"
                    )(x)
            else:
                raise ValueError(f"unknown decoder {self.arch!r}; known: {ARCHITECTURES}")
        return jax.nn.sigmoid(x)


def skip_shapes(arch: str, resolution: int, channels: int) -> list[tuple[int, int, int]]:
    """(H, W, C) of each skip map an Encoder returns for `resolution`² frames."""
    shapes = []
    for i in range(num_blocks(resolution)):
        r = resolution // 2 ** (i + 1 if arch == "dcgan" else i)
        shapes.append((r, r, block_width(channels, i)))
    return shapes
