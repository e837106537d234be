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


def _epoch(step: jax.Array, steps_per_epoch: int) -> jax.Array:
    return jnp.asarray(step, jnp.int32) // max(int(steps_per_epoch), 1)


def kl_weight(
    step: jax.Array,
    *,
    kind: str,
    num_steps: int,
    cycles: int = 1,
    ratio: float = 0.5,
    steps_per_epoch: int = 1,
) -> jax.Array:
    """KL annealing factor in [0, 1] (Fu et al. 2019, as defined by the lab report's table).

    The report tabulates one value per epoch over `niter` epochs; here an epoch is
    `steps_per_epoch` steps and niter = num_steps // steps_per_epoch (steps_per_epoch=1: per step).
      "constant":   1.
      "monotonic":  one cycle: rises linearly from 0 over the first `ratio` of training, then 1.
      "cyclical":   `cycles` cycles of length period = niter / cycles; each starts at 0 and rises
                    with slope 1 / (period * ratio) to 1, where it stays until the cycle ends.
    Epoch e of cycle c sits at position i = ceil(e - c * period) in it and gets min(1, i / (period
    * ratio)), as the report's table, whose cycle c fills entries int(i + c * period).
    """
    if kind == "constant":
        return jnp.ones((), jnp.float32)
    if kind not in ("monotonic", "cyclical"):
        raise ValueError(f"unknown KL schedule {kind!r}; use constant, monotonic or cyclical")
    cycles = 1 if kind == "monotonic" else int(cycles)
    niter = max(int(num_steps) // max(int(steps_per_epoch), 1), 1)
    period = niter / cycles
    e = _epoch(step, steps_per_epoch).astype(jnp.float32)
    c = jnp.clip(jnp.ceil((e + 1.0) / period) - 1.0, 0.0, cycles - 1)
    i = jnp.maximum(jnp.ceil(e - c * period), 0.0)
    return jnp.minimum(i / (period * ratio), 1.0)


def teacher_forcing_ratio(
    step: jax.Array,
    *,
    start: int,
    decay: float,
    lower_bound: float,
    init: float = 1.0,
    steps_per_epoch: int = 1,
) -> jax.Array:
    """Probability of feeding the ground-truth frame (the lab report's teacher forcing ratio).

    `init` until epoch `start`; the report lowers it by `decay` at the end of every epoch
    >= start, clipped at `lower_bound`, so epoch e trains with
        max(lower_bound, init - decay * max(0, e - start)).
    The report's decay, 1 / (niter - start - 1), reaches init - 1 in the last epoch.
    An epoch is `steps_per_epoch` steps (1: the schedule moves every step).
    """
    e = _epoch(step, steps_per_epoch).astype(jnp.float32)
    ratio = init - decay * jnp.maximum(e - start, 0.0)
    return jnp.maximum(ratio, lower_bound).astype(jnp.float32)
