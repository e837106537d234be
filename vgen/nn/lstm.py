"""The fully connected LSTMs of SVG (Denton & Fergus 2018): frame predictor, posterior and prior.

Each module is one time step, `(carry, inputs) -> (carry, outputs)`, so that a method can step it
inside its own scan over time next to other per-step work; `over_time` (vgen.nn.scan) scans one
on its own.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.scan import over_time  # noqa: F401  (re-exported: lstm.over_time(LSTM) scans a cell)
from vgen.ops.gaussian import reparameterize

Carry = tuple[tuple[jax.Array, jax.Array], ...]  # per layer (cell c, hidden h), each [B, hidden]

# SVG initialises every linear and convolutional weight from N(0, 0.02) (utils.init_weights).
SVG_INIT = nn.initializers.normal(0.02)


def zero_carry(batch: int, hidden: int, layers: int, dtype=jnp.float32) -> Carry:
    """The zero state of a `layers`-deep stack of `hidden`-unit cells for `batch` sequences."""
    zeros = jnp.zeros((batch, hidden), dtype)
    return tuple((zeros, zeros) for _ in range(layers))


class _Stack(nn.Module):
    """Linear embedding, then `layers` stacked LSTM cells: x [B, D] -> top hidden [B, hidden]."""

    hidden: int
    layers: int

    @nn.compact
    def __call__(self, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        h = nn.Dense(self.hidden, kernel_init=SVG_INIT, name="embed")(x)
        new_carry = []
        for i in range(self.layers):
            state, h = nn.OptimizedLSTMCell(self.hidden, name=f"cell_{i}")(carry[i], h)
            new_carry.append(state)
        return tuple(new_carry), h


class LSTM(nn.Module):
    """SVG's deterministic LSTM step (the frame predictor): embed -> LSTM cells -> linear -> tanh.

    The tanh output matches the encoder's tanh, so the predicted embedding lives where the
    decoder's inputs do.
    """

    features: int
    hidden: int = 256
    layers: int = 2

    @nn.compact
    def __call__(self, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        """carry, x [B, D] -> (carry, y [B, features] in (-1, 1))."""
        carry, h = _Stack(self.hidden, self.layers, name="stack")(carry, x)
        return carry, jnp.tanh(nn.Dense(self.features, kernel_init=SVG_INIT, name="out")(h))


class GaussianLSTM(nn.Module):
    """SVG's Gaussian LSTM step (posterior q(z_t | x_{1:t}) or prior p(z_t | x_{1:t-1})):
    embed -> LSTM cells -> linear heads for mu and logvar -> reparameterised z."""

    features: int
    hidden: int = 256
    layers: int = 1
    logvar_bias: float = 0.0  # initial bias of the logvar head (0: PyTorch's Linear, SVG's)

    @nn.compact
    def __call__(
        self, carry: Carry, x: jax.Array, eps: jax.Array
    ) -> tuple[Carry, tuple[jax.Array, jax.Array, jax.Array]]:
        """carry, x [B, D], eps [B, features] ~ N(0, I) -> (carry, (z, mu, logvar)), each
        [B, features]."""
        carry, h = _Stack(self.hidden, self.layers, name="stack")(carry, x)
        mu = nn.Dense(self.features, kernel_init=SVG_INIT, name="mu")(h)
        logvar = nn.Dense(
            self.features,
            kernel_init=SVG_INIT,
            bias_init=nn.initializers.constant(self.logvar_bias),
            name="logvar",
        )(h)
        return carry, (reparameterize(mu, logvar, eps), mu, logvar)
