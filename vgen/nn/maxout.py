"""Maxout units (Goodfellow et al. 2013), the nonlinearity of ALI's discriminators."""

import jax
import jax.numpy as jnp

# Batch-norm running average of the ALI code: 0.95 * old + 0.05 * batch.
ALI_BN_MOMENTUM = 0.95


def maxout(h: jax.Array, pieces: int) -> jax.Array:
    """Maxout over groups of `pieces` consecutive channels: [..., F * pieces] -> [..., F]."""
    return jnp.max(h.reshape(*h.shape[:-1], h.shape[-1] // pieces, pieces), axis=-1)
