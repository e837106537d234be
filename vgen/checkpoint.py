"""Checkpoints with orbax: periodic, keep the last K, resume, and never a half-written one.

Orbax writes each step into a temporary folder and renames it when complete, so a process killed
at any moment (even `kill -9`) leaves only complete `<workdir>/checkpoints/<step>/` folders. A
checkpoint damaged afterwards (a truncated file, a lost metadata file) is reported and skipped:
restore falls back to the newest one it can read, and deletes nothing.
"""

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from etils import epath

from vgen.errors import CheckpointError, WorkdirError
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

    def __init__(self, workdir: str, *, keep: int, create: bool = True):
        """`create`: make `<workdir>/checkpoints` if missing (training); False only reads."""
        self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
        self.manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep,
                create=create,
                enable_async_checkpointing=False,
                read_only=not create,
            ),
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, state: TrainState) -> bool:
        """Saves at `state.step` (the caller decides when); returns whether it saved. A failed
        write (disk full, directory removed) raises WorkdirError; the checkpoints already
        written stay as they were."""
        step = int(jax.device_get(state.step))
        if step in self.manager.all_steps():
            return False
        try:
            return self.manager.save(step, args=ocp.args.StandardSave(state.checkpoint_items()))
        except Exception as e:  # orbax wraps OS errors in its own types
            kept = ", ".join(str(s) for s in sorted(self.manager.all_steps()) if s != step)
            raise WorkdirError(
                f"saving checkpoint {step} in {self.directory} failed ({_cause(e)}); "
                f"the checkpoints already written are intact (steps: {kept or 'none'})"
            ) from e

    def restore(self, state: TrainState, step: int | None = None) -> TrainState:
        """Returns `state` with the arrays of checkpoint `step` (default: the newest readable
        one), each with the sharding of its target leaf. `state` may be abstract
        (jax.ShapeDtypeStruct leaves with shardings, from `jax.eval_shape`).

        Without `step`, a checkpoint that cannot be read is reported in one line and the next
        older one is tried. Raises CheckpointError when there is no checkpoint, when it does
        not fit this config, or when none can be read."""
        steps = sorted(self.manager.all_steps(), reverse=True) if step is None else [step]
        if not steps:
            raise CheckpointError(f"no checkpoint in {self.directory}")
        target = jax.tree.map(_target, state.checkpoint_items())
        failures = []
        for s in steps:
            try:
                # Checked before restoring: a refused restore leaves orbax's aborted reads
                # printing pages of tracebacks at exit.
                mismatch = self._mismatch(s, target)
            except Exception as e:  # unreadable metadata: a damaged checkpoint
                failures.append((s, e))
                logging.warning("Checkpoint %d cannot be read (%s).", s, _cause(e))
                continue
            if mismatch:
                raise CheckpointError(
                    f"checkpoint {s} in {self.directory} does not match this config (was it "
                    f"written by another model or size?): {mismatch}"
                )
            try:
                items = self.manager.restore(s, args=ocp.args.StandardRestore(target))
            except Exception as e:  # a damaged file raises a bare Exception in orbax
                failures.append((s, e))
                logging.warning("Checkpoint %d cannot be read (%s).", s, _cause(e))
                continue
            if failures:
                logging.warning(
                    "Using checkpoint %d, the newest readable one (skipped: %s).",
                    s,
                    ", ".join(str(f) for f, _ in failures),
                )
            return state.replace(**items)
        tried = ", ".join(str(s) for s, _ in failures)
        raise CheckpointError(
            f"no readable checkpoint in {self.directory} (tried steps {tried}; "
            f"step {failures[0][0]}: {_cause(failures[0][1])})"
        )

    def _mismatch(self, step: int, target: Any) -> str | None:
        """How the arrays stored in checkpoint `step` differ from `target`'s (names, shapes,
        dtypes), in words; None when they fit. Reads the checkpoint's metadata only."""
        path = epath.Path(self.directory) / str(step) / "default"
        stored = _leaf_specs(ocp.PyTreeCheckpointHandler().metadata(path).tree)
        wanted = _leaf_specs(target)
        missing = sorted(wanted.keys() - stored.keys())
        if missing:
            return f"it has no {missing[0]} ({len(missing)} arrays missing)"
        extra = sorted(stored.keys() - wanted.keys())
        if extra:
            return f"this config has no {extra[0]} ({len(extra)} arrays more in it)"
        for name, spec in wanted.items():
            if stored[name] != spec:
                (s_shape, s_dtype), (w_shape, w_dtype) = stored[name], spec
                return f"{name} is {s_dtype}{list(s_shape)} in it, {w_dtype}{list(w_shape)} here"
        return None

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


def _cause(error: Exception) -> str:
    """The first line of an error's message, shortened: orbax's can be long."""
    if "No space left on device" in str(error):
        return "no space left on the device"
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    line = line.split(" See full TensorStore details")[0]
    return line if len(line) <= 200 else line[:197] + "..."


def _leaf_specs(tree: Any) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{"params/gen/...": (shape, dtype)} of a tree's arrays; names independent of the
    container types (orbax's metadata stores named tuples as dicts)."""
    out = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        keys = (getattr(k, "key", getattr(k, "name", getattr(k, "idx", k))) for k in path)
        out["/".join(str(k) for k in keys)] = (tuple(leaf.shape), np.dtype(leaf.dtype))
    return out
