"""Loss functions as pure functions of arrays: GAN losses, reconstruction losses."""

import jax
import jax.numpy as jnp


def masked_mean(x: jax.Array, mask: jax.Array) -> jax.Array:
    """Mean of `x` over the entries where `mask` (broadcastable to x) is 1."""
    mask = jnp.broadcast_to(mask, x.shape).astype(x.dtype)
    return jnp.sum(x * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def gan_discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """Per-element -log D(x) - log(1 - D(G(z))) with D = sigmoid(logit), same shape as inputs."""
    return jax.nn.softplus(-real_logits) + jax.nn.softplus(fake_logits)


def gan_generator_loss(fake_logits: jax.Array) -> jax.Array:
    """The non-saturating generator loss -log D(G(z)) per element (Goodfellow et al. 2014)."""
    return jax.nn.softplus(-fake_logits)


def discriminator_accuracy(logits: jax.Array, is_real: bool) -> jax.Array:
    """1 where the discriminator classifies correctly (logit > 0 means "real"), else 0."""
    return (logits > 0).astype(jnp.float32) if is_real else (logits <= 0).astype(jnp.float32)


def squared_error(x: jax.Array, y: jax.Array) -> jax.Array:
    """Per-frame mean squared error over the trailing (H, W, C) axes: [..., H, W, C] -> [...]."""
    return jnp.mean(jnp.square(x - y), axis=(-3, -2, -1))
