"""Schedules as pure functions of the training step (jittable: `step` may be a traced array)."""

import jax
import jax.numpy as jnp
import ml_collections

from vgen.config_lib import (
    Check,
    require,
    require_at_least,
    require_choice,
)

KL_SCHEDULES = ("constant", "monotonic", "cyclical")


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


def teacher_forcing_ratio(train: ml_collections.ConfigDict, step: jax.Array) -> jax.Array:
    """Probability of feeding the ground-truth frame at `step` (the lab report's teacher forcing
    ratio), from train.tf_init, tf_start, tf_decay, tf_lower_bound and steps_per_epoch.

    tf_init until epoch tf_start; the report lowers it by tf_decay at the end of every epoch
    >= tf_start, clipped at tf_lower_bound, so epoch e trains with
        max(tf_lower_bound, tf_init - tf_decay * max(0, e - tf_start)).
    The report's decay, 1 / (niter - start - 1), reaches init - 1 in the last epoch.
    An epoch is `steps_per_epoch` steps (1: the schedule moves every step).
    """
    e = _epoch(step, train.steps_per_epoch).astype(jnp.float32)
    ratio = train.tf_init - train.tf_decay * jnp.maximum(e - train.tf_start, 0.0)
    return jnp.maximum(ratio, train.tf_lower_bound).astype(jnp.float32)


def beta(train: ml_collections.ConfigDict, step: jax.Array) -> jax.Array:
    """The VAEs' KL weight at `step`: train.beta times the `kl_weight` factor of the schedule
    train.kl_schedule (with train.kl_cycles, kl_ratio, steps_per_epoch, num_steps)."""
    factor = kl_weight(
        step,
        kind=train.kl_schedule,
        num_steps=train.num_steps,
        cycles=train.kl_cycles,
        ratio=train.kl_ratio,
        steps_per_epoch=train.steps_per_epoch,
    )
    return train.beta * factor


def always_teacher_forced(train: ml_collections.ConfigDict) -> bool:
    """Whether `teacher_forcing_ratio` is 1 throughout: a static property of the config."""
    return train.tf_init >= 1.0 and (train.tf_decay == 0 or train.tf_lower_bound >= 1.0)


# Checks of the fields `beta` and `teacher_forcing_ratio` read (part of a method's CONFIG_CHECKS).
BETA_CHECKS: tuple[Check, ...] = (
    require_at_least(0, "train.beta"),
    require_choice("train.kl_schedule", KL_SCHEDULES),
    require_at_least(1, "train.kl_cycles", "train.steps_per_epoch"),
    require(lambda c: 0 < c.train.kl_ratio <= 1, "train.kl_ratio must be in (0, 1]"),
)
TEACHER_FORCING_CHECKS: tuple[Check, ...] = (
    require(lambda c: 0 <= c.train.tf_init <= 1, "train.tf_init must be in [0, 1]"),
    require(lambda c: 0 <= c.train.tf_lower_bound <= 1, "train.tf_lower_bound must be in [0, 1]"),
    require_at_least(0, "train.tf_decay", "train.tf_start"),
)
