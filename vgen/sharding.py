"""Data parallelism: a 1-D device mesh with a "data" axis, batch sharded, parameters replicated.

The same code runs on one CPU, several local devices and several hosts: after
`initialize_distributed()`, `jax.devices()` lists every host's devices and each host feeds its
own slice of the global batch.
"""

import os
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from vgen.errors import ConfigError

DATA_AXIS = "data"


def initialize_distributed() -> None:
    """Joins a multi-host job when launched as one; must run before anything touches a device.

    - JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID set (launch/ scripts): as
      given.
    - Inside a SLURM step of several tasks, or with VGEN_DISTRIBUTED=auto (launch/tpu_pod.sh on
      a TPU pod): `jax.distributed.initialize()` without arguments, which reads them from the
      cluster (SLURM's variables; the TPU VM's metadata).
    - Otherwise one process alone.
    """
    env = os.environ
    if env.get("JAX_COORDINATOR_ADDRESS"):
        missing = [v for v in ("JAX_NUM_PROCESSES", "JAX_PROCESS_ID") if not env.get(v)]
        if missing:
            raise ConfigError(
                f"JAX_COORDINATOR_ADDRESS is set but {', '.join(missing)} is not: set all three "
                "to run as one process of a multi-host job (see launch/)"
            )
        # CPU processes exchange gradients through gloo; accelerators use their own collectives.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(
            coordinator_address=env["JAX_COORDINATOR_ADDRESS"],
            num_processes=int(env["JAX_NUM_PROCESSES"]),
            process_id=int(env["JAX_PROCESS_ID"]),
        )
    elif env.get("VGEN_DISTRIBUTED") == "auto" or _in_multi_task_slurm_step(env):
        jax.distributed.initialize()
    elif env.get("VGEN_DISTRIBUTED", "") not in ("", "off"):
        raise ConfigError(f"VGEN_DISTRIBUTED={env['VGEN_DISTRIBUTED']!r}: use auto or off")


def _in_multi_task_slurm_step(env) -> bool:
    """Inside `srun` with more than one task (what JAX's SLURM detection reads is all there)."""
    needed = ("SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_PROCID", "SLURM_LOCALID")
    return all(v in env for v in needed) and int(env.get("SLURM_NTASKS", "1")) > 1


def make_mesh() -> Mesh:
    """All devices of all hosts on one "data" axis."""
    return Mesh(np.asarray(jax.devices()), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over the "data" axis, the rest replicated."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def check_batch_size(batch_size: int, mesh: Mesh, what: str = "train.batch_size") -> None:
    if batch_size % mesh.size:
        raise ConfigError(
            f"{what} ({batch_size}) must be divisible by the number of devices ({mesh.size})"
        )


def local_batch_size(global_batch_size: int) -> int:
    """This host's share of the global batch."""
    return global_batch_size // jax.process_count()


def shard_batch(batch: dict[str, Any], mesh: Mesh) -> dict[str, jax.Array]:
    """Places this host's part of a batch (leading axis) as global arrays sharded over "data"."""
    sharding = batch_sharded(mesh)
    if jax.process_count() == 1:
        return jax.device_put(batch, sharding)
    return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), batch
    )


def place_clips(clips: dict[str, Any], mesh: Mesh) -> dict[str, jax.Array]:
    """Places clips that every host holds in full (evaluation clips [B, ...]) as global arrays:
    sharded over "data" when the device count divides B, else replicated (a ragged last chunk),
    so every clip's values are the same on any number of devices."""
    size = jax.tree.leaves(clips)[0].shape[0]
    spec = batch_sharded(mesh) if size % mesh.size == 0 else replicated(mesh)

    def place(x: Any) -> jax.Array:
        x = np.asarray(x)
        return jax.make_array_from_callback(x.shape, spec, lambda index: x[index])

    return jax.tree.map(place, clips)


def to_host(x: jax.Array) -> np.ndarray:
    """The whole of a global array as NumPy on this host (gathered from the other hosts when
    some of its shards live there)."""
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)
