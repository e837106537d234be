"""Schedules as pure functions of the training step (jittable: `step` may be a traced array)."""

import jax
import jax.numpy as jnp


def curriculum_length(step: jax.Array, *, start: int, end: int, every: int) -> jax.Array:
    """Number of active predicted frames: `start`, plus one every `every` steps, capped at `end`.

    `every` <= 0 disables the curriculum (always `end`).
    """
    if every <= 0:
        return jnp.asarray(end, jnp.int32)
    grown = start + jnp.asarray(step, jnp.int32) // every
    return jnp.clip(grown, min(start, end), end).astype(jnp.int32)
