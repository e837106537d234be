"""Convolutional LSTM (Shi et al. 2015): a cell for explicit loops and a layer scanned over time."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.scan import over_time

Carry = tuple[jax.Array, jax.Array]  # (cell c, hidden h), each [B, H, W, features]


# Grids of at most this many cells (2×2 and smaller) use `PatchConv` for the gates.
SMALL_GRID = 4


class PatchConv(nn.Module):
    """A SAME-padded, stride-1 convolution as one matmul over gathered patches (im2col), with
    nn.Conv's parameters ("kernel" [kh, kw, C, F], "bias" [F]) and initialisers. The same
    function as nn.Conv; on grids of 2×2 and less XLA's CPU convolution (its gradient) is
    ~20× slower than this (measured at 256 channels)."""

    features: int
    kernel_size: tuple[int, int] = (3, 3)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kh, kw = self.kernel_size
        c = x.shape[-1]
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (kh, kw, c, self.features))
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        _, h, w, _ = x.shape
        padded = jnp.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
        patches = [padded[:, i : i + h, j : j + w] for i in range(kh) for j in range(kw)]
        return jnp.concatenate(patches, -1) @ kernel.reshape(kh * kw * c, -1) + bias


class ConvLSTMCell(nn.Module):
    """One ConvLSTM step: gates from a single convolution over [x, h].

    The forget gate bias starts at 1 so that early training keeps memory (Jozefowicz et al. 2015).
    """

    features: int
    kernel_size: tuple[int, int] = (3, 3)
    weight_norm: bool = False

    @nn.compact
    def __call__(self, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        """carry (c, h) [B, H, W, F], x [B, H, W, C] -> (new carry, h [B, H, W, F])."""
        c, h = carry
        if x.shape[1] * x.shape[2] <= SMALL_GRID and not self.weight_norm:
            conv = PatchConv(4 * self.features, self.kernel_size, name="gates")
        else:
            conv = nn.Conv(4 * self.features, self.kernel_size, padding="SAME", name="gates")
        if self.weight_norm:
            conv = nn.WeightNorm(conv)
        gates = conv(jnp.concatenate([x, h], axis=-1))
        i, f, g, o = jnp.split(gates, 4, axis=-1)
        c = jax.nn.sigmoid(f + 1.0) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (c, h), h

    @staticmethod
    def zero_carry(batch_shape: tuple[int, ...], features: int, dtype=jnp.float32) -> Carry:
        """Zero state for inputs of spatial shape `batch_shape` = (B, H, W)."""
        zeros = jnp.zeros((*batch_shape, features), dtype)
        return zeros, zeros


class ConvLSTM(nn.Module):
    """A ConvLSTM layer over a sequence: [B, T, H, W, C] -> [B, T, H, W, features]."""

    features: int
    kernel_size: tuple[int, int] = (3, 3)
    weight_norm: bool = False

    @nn.compact
    def __call__(self, xs: jax.Array) -> jax.Array:
        scan = over_time(ConvLSTMCell)
        carry = ConvLSTMCell.zero_carry(xs.shape[:1] + xs.shape[2:4], self.features, xs.dtype)
        _, ys = scan(self.features, self.kernel_size, self.weight_norm, name="cell")(carry, xs)
        return ys
