"""Checkpoints with orbax: periodic, keep the last K, resume, and never a half-written one.

Orbax writes each step into a temporary folder and renames it when complete, so a process killed
at any moment (even `kill -9`) leaves only complete `<workdir>/checkpoints/<step>/` folders.
"""

import os
from typing import Any

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp

from vgen.errors import CheckpointError
from vgen.train_state import TrainState


def all_finite(tree: Any) -> bool:
    """True when every floating-point leaf of `tree` is finite."""
    leaves = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)]
    return bool(jax.device_get(jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))))


def _target(x: Any) -> jax.ShapeDtypeStruct:
    """The restore target of one leaf: its shape, dtype and sharding."""
    return x if isinstance(x, jax.ShapeDtypeStruct) else ocp.utils.to_shape_dtype_struct(x)


class Checkpointer:
    """Saves and restores a TrainState's arrays under `<workdir>/checkpoints`."""

    def __init__(self, workdir: str, *, keep: int):
        self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
        self.manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep,
                create=True,
                enable_async_checkpointing=False,
            ),
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, state: TrainState) -> bool:
        """Saves at `state.step` (the caller decides when); returns whether it saved."""
        step = int(jax.device_get(state.step))
        if step in self.manager.all_steps():
            return False
        return self.manager.save(step, args=ocp.args.StandardSave(state.checkpoint_items()))

    def restore(self, state: TrainState, step: int | None = None) -> TrainState:
        """Returns `state` with the arrays of checkpoint `step` (default: latest), each with the
        sharding of its target leaf. `state` may be abstract (jax.ShapeDtypeStruct leaves with
        shardings, from `jax.eval_shape`). Raises CheckpointError when there is no checkpoint
        or it does not fit."""
        step = self.latest_step() if step is None else step
        if step is None:
            raise CheckpointError(f"no checkpoint in {self.directory}")
        target = jax.tree.map(_target, state.checkpoint_items())
        try:
            items = self.manager.restore(step, args=ocp.args.StandardRestore(target))
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(
                f"checkpoint {step} in {self.directory} does not match this config "
                f"(was it written by another model or size?): {e}"
            ) from e
        return state.replace(**items)

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()
