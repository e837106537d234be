"""A test double: FF-GAN whose parameters turn NaN from step 3 on (for the NaN-handling test)."""

import jax
import jax.numpy as jnp

from vgen.methods.ffgan import CONFIG_CHECKS, default_config, eval_step, init, sample  # noqa: F401
from vgen.methods.ffgan import train_step as _train_step

POISON_STEP = 3


def train_step(config, state, batch, rng):
    state, metrics = _train_step(config, state, batch, rng)
    poison = jnp.where(state.step >= POISON_STEP, jnp.nan, 1.0)
    params = jax.tree.map(lambda p: p * poison, state.params)
    metrics = {**metrics, "g_loss": metrics["g_loss"] * poison}
    return state.replace(params=params), metrics
