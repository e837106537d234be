"""Loss functions as pure functions of arrays: GAN losses, reconstruction losses, the Gaussian
KL and likelihoods, the product of experts and the subsampled ELBO of the multimodal VAE."""

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


def feature_log_likelihood(
    features_x: jax.Array, features_recon: jax.Array, batch_ndim: int = 1
) -> jax.Array:
    """log N(Dis_l(x) | Dis_l(x̃), I) per example (VAE-GAN's learned similarity metric):
    features [*batch, ...] (broadcastable) -> [*batch], summed over every axis after the first
    `batch_ndim`."""
    ll = gaussian_log_likelihood(features_x, features_recon, 0.0)
    return jnp.sum(ll, axis=tuple(range(batch_ndim, ll.ndim)))


def feature_nll(features_x: jax.Array, features_recon: jax.Array) -> jax.Array:
    """VAE-GAN's L_like = −log N(Dis_l(x) | Dis_l(x̃), I), summed over feature dims, mean over
    the batch: features [B, ...] (e.g. a discriminator's [B, h, w, c]) -> scalar. Gradients flow
    into both arguments; callers route them."""
    return -jnp.mean(feature_log_likelihood(features_x, features_recon))


def ali_generator_loss(data_logits: jax.Array, sample_logits: jax.Array) -> jax.Array:
    """ALI's non-saturating loss of encoder + decoder (thesis Eq. 4.4), per element:
    -log(1 - D(x, G_z(x))) - log D(G_x(z), z), i.e. the discriminator loss with the labels
    swapped. For a GAN the data term does not depend on the generator, so its gradients are
    those of `gan_generator_loss`."""
    return gan_discriminator_loss(sample_logits, data_logits)


def product_of_experts(
    mu: jax.Array, logvar: jax.Array, mask: jax.Array | None = None
) -> tuple[jax.Array, jax.Array]:
    """Product of Gaussian experts and the N(0, I) prior expert (Wu & Goodman 2018).

    mu, logvar [M, ..., D]: M experts stacked on the leading axis; mask (broadcastable to
    [M, ...], leading axes aligned; None = all present) drops the missing ones. Returns the joint
    (mu, logvar) [..., D]: precision T = 1 + Σ_i T_i with T_i = exp(-logvar_i), mean
    Σ_i T_i mu_i / T. Everything is done on log precisions (logsumexp), so it stays finite for
    tiny or huge variances; with every expert masked it is the prior, N(0, I).
    """
    if mask is None:
        mask = jnp.ones(mu.shape[:1], bool)
    mask = jnp.asarray(mask, bool)
    mask = jnp.broadcast_to(mask.reshape(mask.shape + (1,) * (mu.ndim - mask.ndim)), mu.shape)
    log_precision = jnp.where(mask, -logvar, -jnp.inf)
    prior = jnp.zeros_like(mu[:1])  # log precision of N(0, I)
    log_total = jax.nn.logsumexp(jnp.concatenate([prior, log_precision]), axis=0)
    weights = jnp.exp(log_precision - log_total)  # T_i / T, 0 for missing experts
    return jnp.sum(weights * jnp.where(mask, mu, 0.0), axis=0), -log_total


def subset_posteriors(
    mu: jax.Array, logvar: jax.Array, subsets: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Experts mu, logvar [M, ...] and subsets [S, M] -> each subset's PoE (mu, logvar) [S, ...]."""
    return jax.vmap(lambda mask: product_of_experts(mu, logvar, mask))(subsets)


def elbo_subsets(rng: jax.Array, num_modalities: int, k: int) -> jax.Array:
    """The modality subsets of the subsampled ELBO (Wu & Goodman 2018): bool [1 + M + k, M].

    Row 0 is every modality, rows 1..M each single modality, then k subsets drawn uniformly
    from the non-empty ones (from `rng`, so a step's subsets are reproducible)."""
    m = num_modalities
    codes = jax.random.randint(rng, (k,), 1, 2**m)  # a non-empty subset as an m-bit number
    drawn = (codes[:, None] >> jnp.arange(m)) & 1
    return jnp.concatenate([jnp.ones((1, m), bool), jnp.eye(m, dtype=bool), drawn.astype(bool)])


def subsampled_elbo(
    log_likelihood: jax.Array,
    kl: jax.Array,
    subsets: jax.Array,
    lambdas: jax.Array,
    beta: jax.Array | float,
) -> jax.Array:
    """Σ_s ELBO(X_s) with ELBO(X) = Σ_{i in X} λ_i log p(x_i | z) - β KL(q(z | X) || p(z)).

    log_likelihood [S, M, ...]: log p(x_i | z_s) of modality i under subset s's sample (entries
    of modalities outside the subset are ignored); kl [S, ...]: KL of subset s's joint posterior;
    subsets [S, M] bool (`elbo_subsets`); lambdas [M]. Returns [...] (e.g. per clip).
    """
    s, m = subsets.shape
    weights = (subsets * jnp.asarray(lambdas)).reshape(s, m, *(1,) * (kl.ndim - 1))
    recon = jnp.sum(jnp.where(weights != 0, weights * log_likelihood, 0.0), axis=(0, 1))
    return recon - beta * jnp.sum(kl, axis=0)


def modality_rows(num_modalities: int, num_subsets: int) -> list[list[int]]:
    """The rows of `elbo_subsets(rng, M, k)` (S = 1 + M + k of them) that may hold each modality,
    known statically: row 0 (all), row 1 + i (modality i alone) and every drawn row (whether it
    holds i is known only at run time; `subsampled_elbo` ignores the entries where it does not)."""
    drawn = list(range(1 + num_modalities, num_subsets))
    return [[0, 1 + i, *drawn] for i in range(num_modalities)]


def scatter_rows(per_modality: list[jax.Array], num_subsets: int) -> jax.Array:
    """Per-modality values [S_i, ...] on the rows of `modality_rows` -> [S, M, ...], zeros
    elsewhere: the layout of `subsampled_elbo`'s log_likelihood."""
    rows = modality_rows(len(per_modality), num_subsets)
    first = per_modality[0]
    out = jnp.zeros((num_subsets, len(per_modality), *first.shape[1:]), first.dtype)
    for i, values in enumerate(per_modality):
        out = out.at[jnp.array(rows[i]), i].set(values)
    return out


def subsampled_elbo_of_rows(
    log_likelihood: list[jax.Array],
    kl: jax.Array,
    subsets: jax.Array,
    lambdas: jax.Array,
    beta: jax.Array | float,
) -> jax.Array:
    """`subsampled_elbo` with each modality's log p(x_i | z) given only on its rows of
    `modality_rows` ([S_i, ...] each, as a model decodes them)."""
    return subsampled_elbo(
        scatter_rows(log_likelihood, subsets.shape[0]), kl, subsets, lambdas, beta
    )
