"""The one generic training loop: data -> jitted step -> metrics, samples, checkpoints.

It knows no model: `config.method` names a module of vgen.methods with the `Method` contract
(vgen/methods/__init__.py), and `config.data.name` names a data source. `setup` validates the
config once, for training and for evaluation.
"""

import functools
import json
import os
import signal
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import logging
from clu import metric_writers, metrics, periodic_actions

from vgen import config_lib, evaluators, sharding, viz
from vgen.checkpoint import Checkpointer, all_finite
from vgen.data import make_source
from vgen.data.pipeline import context_of, prefetch
from vgen.errors import NonFiniteLossError
from vgen.methods import get_method

NUM_SAMPLE_CLIPS = 8  # clips shown in the periodic sample grids


def setup(config: ml_collections.ConfigDict):
    """Validates the config (once: common, method and evaluator checks) and returns the method
    module and the data source."""
    method = get_method(config.get("method", ""))
    config_lib.validate(config, method)
    evaluators.check_hooks(config, method)
    return method, make_source(config)


def save_config(config: ml_collections.ConfigDict, workdir: str) -> None:
    """Writes the resolved config (after command-line overrides) to <workdir>/config.json."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "config.json")
    with open(path + ".tmp", "w") as f:
        f.write(config.to_json_best_effort(indent=2))
    os.replace(path + ".tmp", path)


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The config a run in `workdir` was trained with."""
    with open(os.path.join(workdir, "config.json")) as f:
        return ml_collections.ConfigDict(json.load(f))


def init_key(seed: int) -> jax.Array:
    """The key of parameter initialisation. It uses XLA's RngBitGenerator: compiling the
    initialisation of hundreds of parameters with threefry keys takes several times longer
    on CPU, and the values stay deterministic for a given seed, JAX version and backend."""
    return jax.random.key(seed, impl="rbg")


def create_train_state(config, method, source, mesh, rng: jax.Array):
    """Initialises the state replicated over the mesh (shapes from one example batch)."""
    example = source.train_batch(jax.random.key(0), 1)
    init = functools.partial(method.init, config)
    return jax.jit(init, out_shardings=sharding.replicated(mesh))(rng, example)


def abstract_state(config, method, source, mesh):
    """The state's shapes and dtypes (jax.ShapeDtypeStruct leaves, replicated over the mesh),
    from `jax.eval_shape` of `init`: a restore target that runs no initialisation."""
    example = source.train_batch(jax.random.key(0), 1)
    spec = lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype)
    shapes = jax.eval_shape(
        functools.partial(method.init, config), init_key(config.seed), jax.tree.map(spec, example)
    )
    repl = sharding.replicated(mesh)
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=repl), shapes)


def sample_grids(
    config, sample_fn, state, clips: dict[str, jax.Array], rng: jax.Array
) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth above one sample per clip: an animated grid [T, H', W', 3] and a filmstrip.

    `sample_fn(state, context, rng, horizon)` is the method's jitted `sample`."""
    c = config.data.context_frames
    video = clips["video"]
    preds = sample_fn(state, context_of(clips, c), rng, video.shape[1] - c)
    generated = np.concatenate([np.asarray(video[:, :c]), np.asarray(preds)], axis=1)
    rows = [np.asarray(video), generated]
    return viz.video_grid(rows), viz.filmstrip(rows)


def write_samples(workdir: str, step: int, grid: np.ndarray, strip: np.ndarray, writer) -> None:
    """Writes <workdir>/samples/step_<N>.{gif,png} and the filmstrip to TensorBoard."""
    out = os.path.join(workdir, "samples")
    viz.write_gif(os.path.join(out, f"step_{step:07d}.gif"), grid)
    viz.write_png(os.path.join(out, f"step_{step:07d}.png"), strip)
    writer.write_images(step, {"samples": strip[None]})


class _Preemption:
    """Turns SIGTERM into a flag the loop checks after each step, so it can save and stop."""

    def __init__(self):
        self.requested = False
        self._previous = signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum, frame):
        logging.warning("SIGTERM received: saving a checkpoint after this step.")
        self.requested = True

    def restore(self):
        signal.signal(signal.SIGTERM, self._previous)


def _average_collection(names) -> type[metrics.Collection]:
    return metrics.Collection.create(**{n: metrics.Average.from_output(n) for n in names})


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> Any:
    """Trains `config.method` for `config.train.num_steps`, resuming from <workdir>/checkpoints.

    Returns the final TrainState.
    """
    # --- setup
    method, source = setup(config)
    save_config(config, workdir)
    writer = metric_writers.create_default_writer(workdir, just_logging=jax.process_index() > 0)
    t = config.train

    # --- mesh
    mesh = sharding.make_mesh()
    sharding.check_batch_size(t.batch_size, mesh)
    repl, batch_sh = sharding.replicated(mesh), sharding.batch_sharded(mesh)

    # --- randomness: one key per purpose, folded with the step so a resumed run is identical
    data_rng, step_rng, sample_rng = jax.random.split(jax.random.key(config.seed), 3)
    init_rng = init_key(config.seed)

    # --- state and checkpoint
    ckpt = Checkpointer(workdir, keep=t.keep_checkpoints)
    if ckpt.latest_step() is None:
        state = create_train_state(config, method, source, mesh, init_rng)
    else:
        state = ckpt.restore(abstract_state(config, method, source, mesh))
        logging.info("Resumed from checkpoint at step %d.", ckpt.latest_step())
    start = int(jax.device_get(state.step))

    # --- steps
    train_step = jax.jit(
        functools.partial(method.train_step, config),
        in_shardings=(repl, batch_sh, repl),
        out_shardings=(repl, repl),
        donate_argnums=0,
    )
    eval_step = jax.jit(functools.partial(method.eval_step, config))
    sample_fn = jax.jit(functools.partial(method.sample, config), static_argnums=3)
    val_clips = source.eval_clips(t.batch_size, split="val")
    sample_clips = jax.tree.map(lambda x: x[:NUM_SAMPLE_CLIPS], val_clips)
    local_batch = sharding.local_batch_size(t.batch_size)
    process_data_rng = jax.random.fold_in(data_rng, jax.process_index())

    # --- loop
    hooks = [periodic_actions.ReportProgress(num_train_steps=t.num_steps, writer=writer)]
    preemption = _Preemption()
    accumulated, collection = None, None
    last_good = ckpt.latest_step()
    logging.info("Training %s from step %d to %d.", config.method, start, t.num_steps)

    def make_batch(step: int) -> dict[str, jax.Array]:
        batch = source.train_batch(jax.random.fold_in(process_data_rng, step), local_batch)
        return sharding.shard_batch(batch, mesh)

    steps = range(start + 1, t.num_steps + 1)
    batches = prefetch(make_batch, steps, depth=t.prefetch)
    try:
        for step, batch in zip(steps, batches, strict=True):
            with jax.profiler.StepTraceAnnotation("train", step_num=step):
                state, step_metrics = train_step(state, batch, jax.random.fold_in(step_rng, step))
            if collection is None:
                collection = _average_collection(step_metrics)
            update = collection.single_from_model_output(**step_metrics)
            accumulated = update if accumulated is None else accumulated.merge(update)
            for hook in hooks:
                hook(step)

            last = step == t.num_steps
            if step % t.log_every == 0 or last or preemption.requested:
                scalars = accumulated.compute()
                bad = [k for k, v in scalars.items() if not np.isfinite(v)]
                if bad:
                    raise NonFiniteLossError(
                        f"non-finite {', '.join(bad)} in the steps up to {step}; "
                        f"the last good checkpoint (step {last_good}) is kept in {ckpt.directory}"
                    )
                val = eval_step(state, val_clips, jax.random.fold_in(sample_rng, step))
                scalars.update({k: float(v) for k, v in val.items()})
                writer.write_scalars(step, scalars)
                accumulated = None

            if step % t.sample_every == 0 or last:
                grid, strip = sample_grids(config, sample_fn, state, sample_clips, sample_rng)
                write_samples(workdir, step, grid, strip, writer)
                if hasattr(method, "write_figures"):  # a method's own figures (ALI's grids)
                    figures = os.path.join(workdir, "figures", f"step_{step:07d}")
                    method.write_figures(config, state, sample_clips, sample_rng, figures)

            if step % t.checkpoint_every == 0 or last or preemption.requested:
                if not all_finite(state.checkpoint_items()):
                    raise NonFiniteLossError(
                        f"non-finite parameters at step {step}; the last good checkpoint "
                        f"(step {last_good}) is kept in {ckpt.directory}"
                    )
                if ckpt.save(state):
                    last_good = step
            if preemption.requested:
                logging.warning("Stopped by SIGTERM at step %d; checkpoint saved.", step)
                break
    finally:
        batches.close()
        preemption.restore()
        writer.flush()
        ckpt.close()
    return state


def restore(config: ml_collections.ConfigDict, method, source, workdir: str, mesh) -> Any:
    """The state of the latest checkpoint in `workdir`, replicated over `mesh` (restored into
    the abstract state, so nothing is initialised)."""
    ckpt = Checkpointer(workdir, keep=config.train.keep_checkpoints)
    try:
        return ckpt.restore(abstract_state(config, method, source, mesh))
    finally:
        ckpt.close()


def restore_for_inference(config: ml_collections.ConfigDict, workdir: str, mesh=None):
    """(method, source, state) of the latest checkpoint in `workdir`, after `setup`; the state
    is replicated over `mesh` (default: all devices)."""
    method, source = setup(config)
    mesh = sharding.make_mesh() if mesh is None else mesh
    return method, source, restore(config, method, source, workdir, mesh)
