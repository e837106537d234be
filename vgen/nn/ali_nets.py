"""ALI's convolutional networks on frames (thesis ch. 4; the ALI paper's CIFAR-10/SVHN tables
with DCGAN-style strided 4×4 layers), and the blocks RALI's networks (`vgen.nn.rali_nets`)
build from them.

  Encoder        G_z: strided 4×4 convs + batch norm + leaky ReLU down to 4×4, a 4×4 valid conv
                 to 1×1, a Dense to (μ, log σ)
  Decoder        G_x: Dense to 4×4, stride-2 transposed convs + batch norm + leaky ReLU, a 3×3
                 conv, sigmoid
  Discriminator  D(x, z): x branch (strided maxout convs), z branch (two maxout Dense layers),
                 joint maxout layers on their concatenation, one logit; dropout, no batch norm
A label y [B, K] (conditional ALI, Eq. 4.7) is embedded linearly by one Dense per network.

The blocks are plain functions called inside a module's compact `__call__`: their layers belong
to the calling module and are numbered in call order (Conv_0, BatchNorm_0, ...).
"""

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.maxout import ALI_BN_MOMENTUM, maxout

Layer = Callable[[jax.Array], jax.Array]


def down_widths(channels: int, num_down: int) -> list[int]:
    """Feature maps after each stride-2 layer (doubling from `channels`), e.g. 32, 64, 128."""
    return [channels * 2**i for i in range(num_down)]


def down_conv(features: int, init: Callable, use_bias: bool = True) -> nn.Conv:
    """A 4×4 convolution with stride 2 and padding 1: halves H and W."""
    return nn.Conv(features, (4, 4), (2, 2), ((1, 1), (1, 1)), use_bias=use_bias, kernel_init=init)


def batch_norm_act(train: bool, leak: float) -> Layer:
    """A fresh batch norm (ALI's momentum) followed by a leaky ReLU, per call."""
    return lambda h: nn.leaky_relu(
        nn.BatchNorm(use_running_average=not train, momentum=ALI_BN_MOMENTUM)(h), leak
    )


def dropout(train: bool) -> Callable[[float, jax.Array], jax.Array]:
    """drop(rate, h): a fresh dropout layer per call, off unless `train`."""
    return lambda rate, h: nn.Dropout(rate, deterministic=not train)(h)


def conv_down(x: jax.Array, widths: list[int], init: Callable, norm_act: Layer) -> jax.Array:
    """Frames [N, H, W, C] in [0, 1], scaled to [-1, 1], through stride-2 4×4 convs without
    bias, each followed by `norm_act`: [N, H / 2^L, W / 2^L, widths[-1]]."""
    h = x * 2.0 - 1.0
    for width in widths:
        h = norm_act(down_conv(width, init, use_bias=False)(h))
    return h


def conv_up(
    h: jax.Array, widths: list[int], init: Callable, norm_act: Layer, out_channels: int
) -> jax.Array:
    """Stride-2 transposed convs of reversed(widths) without bias, each followed by
    `norm_act`, then a 3×3 conv and a sigmoid: [N, S, S, F] -> [N, S·2^L, S·2^L, out] in [0, 1]."""
    for width in reversed(widths):
        h = nn.ConvTranspose(width, (4, 4), (2, 2), "SAME", use_bias=False, kernel_init=init)(h)
        h = norm_act(h)
    return jax.nn.sigmoid(nn.Conv(out_channels, (3, 3), kernel_init=init)(h))


def maxout_convs(
    x: jax.Array, widths: list[int], pieces: int, init: Callable, drop_in: Layer, drop: Layer
) -> jax.Array:
    """The discriminator's x branch: frames [N, H, W, C] in [0, 1], scaled to [-1, 1] and
    `drop_in`, through strided 4×4 maxout convs (`drop` before all but the first)."""
    h = drop_in(x * 2.0 - 1.0)
    for i, width in enumerate(widths):
        h = h if i == 0 else drop(h)
        h = maxout(down_conv(width * pieces, init)(h), pieces)
    return h


def maxout_dense(h: jax.Array, features: int, pieces: int, init: Callable, drop: Layer):
    """A maxout Dense layer on drop(h): [..., D] -> [..., features]."""
    return maxout(nn.Dense(features * pieces, kernel_init=init)(drop(h)), pieces)


def embed(y: jax.Array | None, features: int, std: float) -> list[jax.Array]:
    """[linear embedding of the one-hot (or mixed) label y [B, K]], or [] without a label."""
    if y is None:
        return []
    return [nn.Dense(features, kernel_init=nn.initializers.normal(std), name="embed_y")(y)]


class Encoder(nn.Module):
    """G_z: frames [B, H, W, C] in [0, 1] (and labels [B, K]) -> μ, log σ [B, z_dim]."""

    channels: int
    num_down: int
    z_dim: int
    embed_dim: int
    init_std: float
    leak: float

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None, train: bool):
        init = nn.initializers.normal(self.init_std)
        norm_act = batch_norm_act(train, self.leak)
        h = conv_down(x, down_widths(self.channels, self.num_down), init, norm_act)
        h = nn.Conv(2 * h.shape[-1], (4, 4), padding="VALID", use_bias=False, kernel_init=init)(h)
        h = norm_act(h).reshape(x.shape[0], -1)
        h = jnp.concatenate([h, *embed(y, self.embed_dim, self.init_std)], axis=-1)
        mu, log_sigma = jnp.split(nn.Dense(2 * self.z_dim, kernel_init=init)(h), 2, axis=-1)
        return mu, log_sigma


class Decoder(nn.Module):
    """G_x: latents [B, z_dim] (and labels [B, K]) -> frames [B, H, W, C] in [0, 1]."""

    channels: int
    num_down: int
    out_channels: int
    embed_dim: int
    init_std: float
    leak: float

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None, train: bool) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        norm_act = batch_norm_act(train, self.leak)
        widths = down_widths(self.channels, self.num_down)
        h = jnp.concatenate([z, *embed(y, self.embed_dim, self.init_std)], axis=-1)
        h = nn.Dense(16 * 2 * widths[-1], use_bias=False, kernel_init=init)(h)
        h = norm_act(h).reshape(z.shape[0], 4, 4, 2 * widths[-1])
        return conv_up(h, widths, init, norm_act, self.out_channels)


class Discriminator(nn.Module):
    """D: frames [B, H, W, C], latents [B, z_dim] (and labels [B, K]) -> logits [B]."""

    channels: int
    num_down: int
    embed_dim: int
    pieces: int
    init_std: float
    dropout_input: float
    dropout_hidden: float

    @nn.compact
    def __call__(self, x: jax.Array, z: jax.Array, y: jax.Array | None, train: bool):
        init = nn.initializers.normal(self.init_std)
        drop = dropout(train)
        drop_in = lambda h: drop(self.dropout_input, h)
        drop_hidden = lambda h: drop(self.dropout_hidden, h)
        k = self.pieces
        widths = down_widths(self.channels, self.num_down)
        top = 2 * widths[-1]

        hx = maxout_convs(x, widths, k, init, drop_in, drop_hidden)
        hx = maxout(nn.Conv(top * k, (4, 4), padding="VALID", kernel_init=init)(drop_hidden(hx)), k)

        hz = maxout_dense(z, top, k, init, drop_in)
        hz = maxout_dense(hz, top, k, init, drop_hidden)

        h = jnp.concatenate(
            [hx.reshape(x.shape[0], -1), hz, *embed(y, self.embed_dim, self.init_std)], axis=-1
        )
        for _ in range(2):
            h = maxout_dense(h, 2 * top, k, init, drop_hidden)
        return nn.Dense(1, kernel_init=init)(drop_hidden(h))[..., 0]
