"""The MLPs of the ALI authors' 2-D mixture experiment (`experiments/ali_mixture.py`,
`gan_mixture.py`; thesis 4.4.5), used by `vgen.experiments.gaussians2d`.

  BatchNormMLP  decoder: depth × (Dense without bias, batch norm, ReLU), a Dense with bias
  GaussianMLP   encoder: the same stack to (μ, log σ) (the reparameterised Gaussian of Eq. 4.2)
  NoiseInputMLP encoder: the same stack on [x, ε] to z (the change of variables of Eq. 4.3, the
                ALI code's COVConditional, which its mixture experiment uses)
  MaxoutMLP     discriminator: maxout layers on the concatenated inputs and a linear logit
Batch-norm running averages use ALI's momentum (0.95).
"""

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.maxout import ALI_BN_MOMENTUM, maxout


def _bn_relu_stack(
    h: jax.Array, depth: int, hidden: int, out: int, init: Callable, train: bool
) -> jax.Array:
    """depth × (Dense(hidden) without bias, batch norm, ReLU), then a Dense(out) with bias."""
    for _ in range(depth):
        h = nn.Dense(hidden, use_bias=False, kernel_init=init)(h)
        h = nn.relu(nn.BatchNorm(use_running_average=not train, momentum=ALI_BN_MOMENTUM)(h))
    return nn.Dense(out, kernel_init=init)(h)


class BatchNormMLP(nn.Module):
    """[B, D_in] -> [B, out]."""

    depth: int
    out: int
    hidden: int
    kernel_init: Callable = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, h: jax.Array, train: bool) -> jax.Array:
        return _bn_relu_stack(h, self.depth, self.hidden, self.out, self.kernel_init, train)


class GaussianMLP(nn.Module):
    """[B, D_in] -> μ, log σ, each [B, out]."""

    depth: int
    out: int
    hidden: int
    kernel_init: Callable = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, h: jax.Array, train: bool) -> tuple[jax.Array, jax.Array]:
        mu, log_sigma = jnp.split(
            _bn_relu_stack(h, self.depth, self.hidden, 2 * self.out, self.kernel_init, train),
            2,
            axis=-1,
        )
        return mu, log_sigma


class NoiseInputMLP(nn.Module):
    """[B, D_in] -> z [B, out]: the stack on [x, ε], ε ~ N(0, I) [B, noise_dim] drawn from the
    "noise" rng stream (ε = 0, the median code, when the call has no such stream)."""

    depth: int
    out: int
    hidden: int
    noise_dim: int
    kernel_init: Callable = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, h: jax.Array, train: bool) -> jax.Array:
        shape = (*h.shape[:-1], self.noise_dim)
        if self.has_rng("noise"):
            eps = jax.random.normal(self.make_rng("noise"), shape, h.dtype)
        else:
            eps = jnp.zeros(shape, h.dtype)
        h = jnp.concatenate([h, eps], axis=-1)
        return _bn_relu_stack(h, self.depth, self.hidden, self.out, self.kernel_init, train)


class MaxoutMLP(nn.Module):
    """`depth` maxout layers (`hidden` units of `pieces` pieces) and a linear logit on the
    concatenated inputs, e.g. D(x) or D(x, z): -> [B]. `train` is accepted for the joint
    discriminator's call (`vgen.ali_game`) and unused: no dropout, no batch norm."""

    hidden: int
    depth: int = 3
    pieces: int = 5
    kernel_init: Callable = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, *inputs: jax.Array, train: bool = False) -> jax.Array:
        h = jnp.concatenate(inputs, axis=-1)
        for _ in range(self.depth):
            h = maxout(
                nn.Dense(self.hidden * self.pieces, kernel_init=self.kernel_init)(h), self.pieces
            )
        return nn.Dense(1, kernel_init=self.kernel_init)(h)[..., 0]
