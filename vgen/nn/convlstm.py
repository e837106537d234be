"""Convolutional LSTM (Shi et al. 2015): a cell for explicit loops and a layer scanned over time."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.conv import PatchConv
from vgen.nn.scan import over_time

Carry = tuple[jax.Array, jax.Array]  # (cell c, hidden h), each [B, H, W, features]


# Grids of at most this many cells (2×2 and smaller) use `PatchConv` for the gates.
SMALL_GRID = 4


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
        kh, kw = self.kernel_size
        if x.shape[1] * x.shape[2] <= SMALL_GRID and kh == kw and not self.weight_norm:
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
