"""The reparameterised Gaussian sample shared by every model with a latent (ALI, VAEs, SVG)."""

import jax
import jax.numpy as jnp


def reparameterize(mu: jax.Array, logvar: jax.Array, eps: jax.Array) -> jax.Array:
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) drawn by the caller (thesis Eq. 4.2):
    a sample of N(mu, exp(logvar)) that is differentiable in mu and logvar."""
    return mu + jnp.exp(0.5 * logvar) * eps


def sample_gaussian(mu: jax.Array, logvar: jax.Array, rng: jax.Array) -> jax.Array:
    """`reparameterize` with eps ~ N(0, I) drawn from `rng`."""
    return reparameterize(mu, logvar, jax.random.normal(rng, mu.shape, mu.dtype))
