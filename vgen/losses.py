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


def gaussian_kl(
    mu_q: jax.Array, logvar_q: jax.Array, mu_p: jax.Array, logvar_p: jax.Array
) -> jax.Array:
    """Per-element KL(N(mu_q, exp(logvar_q)) || N(mu_p, exp(logvar_p))), same shape as inputs.

    The one KL of the VAEs: SVG-FP passes mu_p = logvar_p = 0 (prior N(0, I)), SVG-LP the
    learned prior's outputs. Sum over the latent axis for the KL of a diagonal Gaussian.
    """
    ratio = (jnp.exp(logvar_q) + jnp.square(mu_q - mu_p)) * jnp.exp(-logvar_p)
    return 0.5 * (logvar_p - logvar_q + ratio - 1.0)


def gaussian_log_likelihood(x: jax.Array, mean: jax.Array, logvar: jax.Array | float) -> jax.Array:
    """Per-element log N(x; mean, exp(logvar)). With a fixed variance this is, up to a constant
    and a scale, minus the squared error: the MSE reconstruction of SVG is this likelihood."""
    return -0.5 * (jnp.log(2.0 * jnp.pi) + logvar + jnp.square(x - mean) * jnp.exp(-logvar))


def ali_generator_loss(data_logits: jax.Array, sample_logits: jax.Array) -> jax.Array:
    """ALI's non-saturating loss of encoder + decoder (thesis Eq. 4.4), per element:
    -log(1 - D(x, G_z(x))) - log D(G_x(z), z), i.e. the discriminator loss with the labels
    swapped. For a GAN the data term does not depend on the generator, so its gradients are
    those of `gan_generator_loss`."""
    return gan_discriminator_loss(sample_logits, data_logits)
