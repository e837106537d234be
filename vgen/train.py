"""The one generic training loop: data -> jitted step -> metrics, samples, checkpoints.

It knows no model: `config.method` names a module of vgen.methods with the `Method` contract
(vgen/methods/__init__.py), and `config.data.name` names a data source. `setup` validates the
config once, for training and for evaluation.
"""

import contextlib
import functools
import json
import os
import signal
import threading
import time
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import logging
from clu import metric_writers, metrics, periodic_actions
from jax.experimental import multihost_utils

from vgen import config_lib, evaluators, executables, heap, sharding, viz
from vgen import workdir as workdir_lib
from vgen.checkpoint import Checkpointer, all_finite
from vgen.data import make_source
from vgen.data.pipeline import context_of, prefetch
from vgen.errors import ConfigError, NonFiniteLossError
from vgen.methods import get_method

NUM_SAMPLE_CLIPS = 8  # clips shown in the periodic sample grids


def setup(config: ml_collections.ConfigDict):
    """Validates the config (once: common, method and evaluator checks) and returns the method
    module and the data source (wrapped by the method's optional `wrap_source` hook, e.g. to
    add cached optical flow)."""
    method = get_method(config.get("method", ""))
    config_lib.validate(config, method)
    evaluators.check_hooks(config, method)
    source = make_source(config)
    if hasattr(method, "wrap_source"):
        source = method.wrap_source(config, source)
    return method, source


def save_config(config: ml_collections.ConfigDict, workdir: str) -> None:
    """Writes the resolved config (after command-line overrides) to <workdir>/config.json."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "config.json")
    with open(path + ".tmp", "w") as f:
        f.write(config.to_json_best_effort(indent=2))
    os.replace(path + ".tmp", path)


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The config a run in `workdir` was trained with. Fields added to the method's (or its
    dataset's) defaults after the run was written take their default values."""
    with open(os.path.join(workdir, "config.json")) as f:
        config = ml_collections.ConfigDict(json.load(f))
    defaults = get_method(config.get("method", "")).default_config()
    if config.get("data", {}).get("name"):
        config_lib.set_data(defaults, config.data.name)
    config_lib.fill_missing(config, defaults)
    return config


def init_key(seed: int) -> jax.Array:
    """The key of parameter initialisation. It uses XLA's RngBitGenerator: compiling the
    initialisation of hundreds of parameters with threefry keys takes several times longer
    on CPU, and the values stay deterministic for a given seed, JAX version and backend."""
    return jax.random.key(seed, impl="rbg")


def create_train_state(config, method, source, mesh, rng: jax.Array):
    """Initialises the state replicated over the mesh (shapes from one example batch)."""
    example = source.train_batch(jax.random.key(0), 1)
    init = functools.partial(method.init, config)
    state = jax.jit(init, out_shardings=sharding.replicated(mesh))(rng, example)
    heap.release_free_memory(collect_garbage=True)  # init's executable, used once
    return state


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


class Interrupted(Exception):
    """SIGTERM came and the work in progress did not finish within the grace period."""


class _Preemption:
    """SIGTERM -> save a checkpoint after the current step and stop.

    Python runs a signal handler only between bytecodes, so a long wait in XLA (compiling, a
    long step, an evaluation) would hold the signal back for minutes. `wait` therefore runs such
    work in a worker thread while the main thread polls: once SIGTERM has come, work that does
    not finish within GRACE_S seconds is abandoned (`Interrupted`) and the run stops with its
    last checkpoint intact, well inside a cluster's grace period (SLURM's default is 30 s).
    """

    GRACE_S = 5.0

    def __init__(self):
        self.requested_at = None
        self._previous = signal.signal(signal.SIGTERM, self._handle)

    @property
    def requested(self) -> bool:
        return self.requested_at is not None

    def _handle(self, signum, frame):
        logging.warning("SIGTERM received: saving a checkpoint after this step.")
        self.requested_at = time.monotonic()

    def agreed(self) -> bool:
        """Whether to stop after this step, the same answer in every process: SIGTERM reaching
        any one process stops them all at the same step, and all save it (one process leaving
        alone would leave the others waiting in their next collective). With several processes
        this is a small all-gather per step, called by all of them at the same point."""
        if jax.process_count() == 1:
            return self.requested
        flags = multihost_utils.process_allgather(np.asarray(self.requested, np.int32))
        return bool(np.any(flags))

    def wait(self, fn, *args):
        """fn(*args), run in a worker thread; raises Interrupted as described above."""
        box = {}

        def work():
            try:
                box["out"] = fn(*args)
            except BaseException as e:  # re-raised in the main thread
                box["error"] = e

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
            if self.requested and time.monotonic() - self.requested_at > self.GRACE_S:
                raise Interrupted
        if "error" in box:
            raise box["error"]
        return box["out"]

    def restore(self):
        signal.signal(signal.SIGTERM, self._previous)


class Abandoned(Exception):
    """The run stops after SIGTERM with work still running in a worker thread (the message says
    what was saved); `train_and_evaluate` releases the workdir and ends the process at once."""


def _average_collection(names) -> type[metrics.Collection]:
    return metrics.Collection.create(**{n: metrics.Average.from_output(n) for n in names})


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> Any:
    """Trains `config.method` for `config.train.num_steps`, resuming from <workdir>/checkpoints.

    Nothing is written into `workdir` before the config is known to fit its checkpoints; the
    workdir is locked while training. Returns the final TrainState.
    """
    method, source = setup(config)
    workdir_lib.prepare(workdir)
    lock = workdir_lib.Lock(workdir) if jax.process_index() == 0 else contextlib.nullcontext()
    try:
        with lock:
            ckpt = Checkpointer(workdir, keep=config.train.keep_checkpoints)
            try:
                return _train(config, workdir, method, source, ckpt)
            finally:
                ckpt.close()
    except Abandoned as stop:
        # A worker thread may still be inside XLA, which a normal interpreter exit would wait
        # for: end the process now that the checkpoints, logs and lock are settled.
        logging.warning("%s", stop)
        logging.flush()
        os._exit(0)


def _train(config, workdir: str, method, source, ckpt: Checkpointer) -> Any:
    t = config.train

    # --- mesh
    mesh = sharding.make_mesh()
    sharding.check_batch_size(t.batch_size, mesh)
    repl, batch_sh = sharding.replicated(mesh), sharding.batch_sharded(mesh)

    # --- randomness: one key per purpose, folded with the step so a resumed run is identical
    data_rng, step_rng, sample_rng = jax.random.split(jax.random.key(config.seed), 3)
    init_rng = init_key(config.seed)

    # --- state: restoring checks the config against the checkpoints before anything is written
    if ckpt.latest_step() is None:
        state = create_train_state(config, method, source, mesh, init_rng)
    else:
        state = ckpt.restore(abstract_state(config, method, source, mesh))
        logging.info("Resumed from checkpoint at step %d.", int(jax.device_get(state.step)))
    start = int(jax.device_get(state.step))
    if start > t.num_steps:
        raise ConfigError(
            f"train.num_steps={t.num_steps} is below the step of the checkpoint restored from "
            f"{ckpt.directory} ({start}); raise it to train further"
        )
    if start == t.num_steps:
        logging.warning("Already trained to train.num_steps=%d: nothing to do.", start)
        return state
    save_config(config, workdir)
    writer = metric_writers.create_default_writer(workdir, just_logging=jax.process_index() > 0)

    # --- steps
    train_step = jax.jit(
        functools.partial(method.train_step, config),
        in_shardings=(repl, batch_sh, repl),
        out_shardings=(repl, repl),
        donate_argnums=0,
    )
    eval_step = jax.jit(functools.partial(method.eval_step, config))
    # Methods that predict frames (all but classifiers) also get periodic sample grids.
    predicts = hasattr(method, "sample")
    sample_fn = predicts and jax.jit(functools.partial(method.sample, config), static_argnums=3)
    val_clips = source.eval_clips(t.batch_size, split="val")
    sample_clips = jax.tree.map(lambda x: x[:NUM_SAMPLE_CLIPS], val_clips)
    local_batch = sharding.local_batch_size(t.batch_size)
    process_data_rng = jax.random.fold_in(data_rng, jax.process_index())

    # --- loop
    hooks = [periodic_actions.ReportProgress(num_train_steps=t.num_steps, writer=writer)]
    preemption = _Preemption()
    accumulated, collection = None, None
    # The checkpoint the run resumed from (not the newest on disk, which may be damaged).
    last_good = start if ckpt.latest_step() is not None else None
    logging.info("Training %s from step %d to %d.", config.method, start, t.num_steps)

    def make_batch(step: int) -> dict[str, jax.Array]:
        batch = source.train_batch(jax.random.fold_in(process_data_rng, step), local_batch)
        return sharding.shard_batch(batch, mesh)

    compiled_step = None

    def run_step(state, batch, step: int):
        nonlocal compiled_step
        rng = jax.random.fold_in(step_rng, step)
        if compiled_step is None:
            # Compiled ahead of the first call so that the memory the compiler freed goes back to
            # the OS before the step's buffers are allocated (vgen/heap.py).
            args, directory = (state, batch, rng), executables.directory()
            key = executables.step_key("train_step", config, args) if directory else ""
            compiled_step, _ = executables.load_or_compile(train_step, args, key, directory)
            heap.release_free_memory()
        with jax.profiler.StepTraceAnnotation("train", step_num=step):
            out = compiled_step(state, batch, rng)
        return jax.block_until_ready(out)

    def validate(state, step: int) -> dict[str, float]:
        val = eval_step(state, val_clips, jax.random.fold_in(sample_rng, step))
        return {k: float(v) for k, v in val.items()}

    def samples(state, step: int) -> None:
        if predicts:
            grid, strip = sample_grids(config, sample_fn, state, sample_clips, sample_rng)
            write_samples(workdir, step, grid, strip, writer)
        if hasattr(method, "write_figures"):  # a method's own figures (ALI's grids)
            figures = os.path.join(workdir, "figures", f"step_{step:07d}")
            method.write_figures(config, state, sample_clips, sample_rng, figures)

    def save(state, step: int) -> None:
        nonlocal last_good
        if not all_finite(state.checkpoint_items()):
            raise NonFiniteLossError(
                f"non-finite parameters at step {step}; the last good checkpoint "
                f"(step {last_good}) is kept in {ckpt.directory}"
            )
        if ckpt.save(state):
            last_good = step

    steps = range(start + 1, t.num_steps + 1)
    batches = prefetch(make_batch, steps, depth=t.prefetch)
    step, stage = start, "step"
    try:
        for step, batch in zip(steps, batches, strict=True):
            clock, stage = time.perf_counter(), "step"
            state, step_metrics = preemption.wait(run_step, state, batch, step)
            if step == start + 1:
                seconds = time.perf_counter() - clock
                logging.info("First step done in %.1f s (compilation included).", seconds)
            if collection is None:
                collection = _average_collection(step_metrics)
            update = collection.single_from_model_output(**step_metrics)
            accumulated = update if accumulated is None else accumulated.merge(update)
            for hook in hooks:
                hook(step)

            last = step == t.num_steps
            stopping = preemption.agreed()
            if step % t.log_every == 0 or last or stopping:
                scalars = accumulated.compute()
                bad = [k for k, v in scalars.items() if not np.isfinite(v)]
                if bad:
                    raise NonFiniteLossError(
                        f"non-finite {', '.join(bad)} in the steps up to {step}; "
                        f"the last good checkpoint (step {last_good}) is kept in {ckpt.directory}"
                    )
                if not stopping:
                    stage = "validation"
                    scalars.update(preemption.wait(validate, state, step))
                writer.write_scalars(step, scalars)
                accumulated = None

            if (step % t.sample_every == 0 or last) and not stopping:
                stage = "sampling"
                preemption.wait(samples, state, step)

            if step % t.checkpoint_every == 0 or last or stopping:
                save(state, step)
            if stopping:
                logging.warning("Stopped by SIGTERM at step %d; checkpoint saved.", step)
                break
    except Interrupted:
        if stage == "step":
            # The state's buffers went to the step still running (donated): nothing to save.
            kept = f"checkpoint {last_good} is intact" if last_good else "no checkpoint was saved"
            message = f"while step {step} was still running; {kept}"
        else:
            save(state, step)
            message = f"during the {stage} at step {step}; checkpoint {step} saved"
        raise Abandoned(f"Stopped by SIGTERM {message}.") from None
    finally:
        batches.close()
        preemption.restore()
        writer.flush()
    return state


def restore(config: ml_collections.ConfigDict, method, source, workdir: str, mesh) -> Any:
    """The state of the latest checkpoint in `workdir`, replicated over `mesh` (restored into
    the abstract state, so nothing is initialised). Reads only: creates nothing in `workdir`."""
    workdir_lib.require_run(workdir)
    ckpt = Checkpointer(workdir, keep=config.train.keep_checkpoints, create=False)
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
