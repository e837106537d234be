"""`--mode eval` and `--mode sample`: restore the latest checkpoint and run the evaluators.

`evaluate` validates the config (once, in `train.setup`), restores the state into its abstract
shape (`jax.eval_shape` of `init`) replicated over the device mesh, loads `eval.num_clips` fixed
evaluation clips and runs each evaluator of `config.eval.evaluators` (vgen.evaluators) on them,
sharding each chunk of `eval.batch_size` clips over the mesh's "data" axis. eval.batch_size
must be divisible by the device count (like train.batch_size); a ragged last chunk (num_clips
not a multiple of eval.batch_size) is replicated instead of sharded, so the numbers do not
depend on the device count. The evaluators' parts of the results are merged into
<workdir>/eval/results.json between "step" and "protocol" (the data and scoring settings).
"""

import json
import os
from typing import Any

import jax
import ml_collections
import numpy as np
from clu import metric_writers

from vgen import evaluators, sharding, train, viz
from vgen.data.pipeline import context_of
from vgen.errors import ConfigError
from vgen.evaluators import prediction
from vgen.methods import get_method

EVAL_SEED, SAMPLE_SEED = 0x5EED, 0x5A4D  # folded into the config's seed
SAMPLE_GRID_CLIPS = prediction.SAMPLE_GRID_CLIPS


def eval_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The config evaluation runs with: `data.predict_frames` set to the evaluation horizon
    `eval.predict_frames` when that is > 0 (e.g. train on 10 predicted frames, score 30)."""
    config = ml_collections.ConfigDict(config.to_dict())
    if config.eval.get("predict_frames", 0) > 0:
        config.data.predict_frames = config.eval.predict_frames
    return config


def evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
    """Runs `config.eval.evaluators` on the latest checkpoint in `workdir`; writes
    <workdir>/eval/results.json (and each evaluator's files) and returns the results."""
    config = eval_config(config)
    method, source = train.setup(config)
    mesh = sharding.make_mesh()
    sharding.check_batch_size(config.eval.batch_size, mesh, "eval.batch_size")
    state = train.restore(config, method, source, workdir, mesh)
    out = os.path.join(workdir, "eval")
    os.makedirs(out, exist_ok=True)
    writer = metric_writers.create_default_writer(out, just_logging=jax.process_index() > 0)
    clips, ground_truth = eval_clips(config, source)
    ctx = evaluators.EvalContext(
        config=config,
        method=method,
        state=state,
        source=source,
        clips=clips,
        ground_truth=ground_truth,
        mesh=mesh,
        workdir=workdir,
        rng=jax.random.fold_in(jax.random.key(config.seed), EVAL_SEED),
        writer=writer,
    )
    results = {"step": int(jax.device_get(state.step))}
    try:
        for name in config.eval.evaluators:
            part = evaluators.get(name).run(ctx)
            clash = sorted(results.keys() & part.keys())
            if clash:
                raise ValueError(f"evaluator {name!r} writes results keys {clash} again")
            results.update(part)
    finally:
        writer.close()
    results["protocol"] = protocol(config)
    write_results(workdir, results)
    return results


def protocol(config: ml_collections.ConfigDict) -> dict[str, Any]:
    """What a score depends on beyond the model, for results.json "protocol" (vgen.report
    compares it with the published protocols)."""
    d, e = config.data, config.eval
    out = {
        "dataset": d.name,
        "resolution": int(d.resolution),
        "context_frames": int(d.context_frames),
        "predict_frames": int(d.predict_frames),
        "split": e.split,
        "psnr_per_channel": bool(e.get("psnr_per_channel", False)),
    }
    for key in ("test_clips", "stochastic", "num_digits"):  # the options that change the task
        if key in d:
            out[key] = d[key]
    return out


def eval_clips(config: ml_collections.ConfigDict, source: Any) -> tuple[dict, dict | None]:
    """The evaluation clips, and their object ground truth {"mask", "background"} when the
    source provides it (None otherwise)."""
    e = config.eval
    if not getattr(source, "PROVIDES_GROUND_TRUTH", False):
        return source.eval_clips(e.num_clips, split=e.split), None
    clips = source.eval_clips(e.num_clips, split=e.split, ground_truth=True)
    truth = {k: clips.pop(k) for k in ("mask", "background")}
    return clips, truth


def write_results(workdir: str, results: dict[str, Any]) -> str:
    """Writes <workdir>/eval/results.json atomically; returns its path."""
    path = os.path.join(workdir, "eval", "results.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=2)
    os.replace(path + ".tmp", path)
    return path


def write_sample_grids(config: ml_collections.ConfigDict, workdir: str) -> str:
    """`--mode sample`: ground truth above eval.num_samples samples for a few evaluation clips,
    as <workdir>/samples/eval_step_<N>.{gif,png}, and the method's own figures (if any) in
    <workdir>/figures/eval_step_<N>/; returns the GIF's path."""
    if not hasattr(get_method(config.method), "sample"):
        raise ConfigError(
            f"--mode sample draws predicted frames, and method {config.method!r} predicts none; "
            "use --mode eval"
        )
    config = eval_config(config)
    method, source, state = train.restore_for_inference(config, workdir)
    e, c = config.eval, config.data.context_frames
    clips = source.eval_clips(min(e.num_clips, SAMPLE_GRID_CLIPS), split=e.split)
    video = clips["video"]
    key = jax.random.fold_in(jax.random.key(config.seed), SAMPLE_SEED)
    draw = prediction.sample_fn(config, method)
    samples = prediction.draw_samples(
        draw, state, context_of(clips, c), key, e.num_samples, e.sample_chunk
    )
    context = np.asarray(video[:, :c])
    rows = [np.asarray(video)]
    rows += [np.concatenate([context, s], 1) for s in sharding.to_host(samples)]
    step = int(jax.device_get(state.step))
    out = os.path.join(workdir, "samples")
    gif = viz.write_gif(os.path.join(out, f"eval_step_{step:07d}.gif"), viz.video_grid(rows))
    viz.write_png(os.path.join(out, f"eval_step_{step:07d}.png"), viz.filmstrip(rows))
    print(f"wrote {gif} and its .png filmstrip ({len(samples)} samples of {len(video)} clips)")
    if hasattr(method, "write_figures"):  # a method's own figures (ALI's grids)
        figures = os.path.join(workdir, "figures", f"eval_step_{step:07d}")
        paths = method.write_figures(config, state, clips, key, figures)
        print(f"wrote {', '.join(sorted(paths.values()))}")
    return str(gif)
