"""The evaluation protocol of stochastic video prediction (best and mean of N samples per clip).

Every method is scored the same way: condition on `data.context_frames` real frames of
`eval.num_clips` fixed, seeded clips; draw `eval.num_samples` samples of the next
`eval.predict_frames` frames per clip (0: `data.predict_frames`, the training horizon); per
predicted step report PSNR and SSIM of
  best       the best sample per clip (the one with the highest metric averaged over the
             predicted steps, chosen separately for each metric, as in the SVG/SRVP evaluations),
  mean       the mean over samples,
  copy_last  the baseline that repeats the last context frame,
each averaged over clips.
"""

import json
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from clu import metric_writers

from vgen import metrics, train, viz
from vgen.data.pipeline import context_of

SAMPLE_GRID_CLIPS = 8


def eval_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The config evaluation runs with: `data.predict_frames` set to the evaluation horizon
    `eval.predict_frames` when that is > 0 (e.g. train on 10 predicted frames, score 30)."""
    config = ml_collections.ConfigDict(config.to_dict())
    if config.eval.get("predict_frames", 0) > 0:
        config.data.predict_frames = config.eval.predict_frames
    return config


def _sample_fn(config: ml_collections.ConfigDict, method):
    """Jitted (state, context {"video": [B, c, ...], ...}, keys [S]) -> samples
    [S, B, horizon, H, W, C]."""
    horizon = config.data.predict_frames

    def draw(state, context, keys):
        one = lambda key: method.sample(config, state, context, key, horizon)
        return jax.vmap(one)(keys)

    return jax.jit(draw)


def _draw_samples(draw, state, context, key: jax.Array, num_samples: int, chunk: int):
    """num_samples samples in vmapped chunks of `chunk` (the last one padded, then trimmed)."""
    keys = jax.random.split(key, num_samples)
    pad = (-num_samples) % min(chunk, num_samples)
    keys = jnp.concatenate([keys, keys[:pad]]) if pad else keys
    size = min(chunk, num_samples)
    parts = [draw(state, context, keys[i : i + size]) for i in range(0, len(keys), size)]
    return jnp.concatenate(parts)[:num_samples]


@jax.jit
def _scores(samples: jax.Array, truth: jax.Array) -> dict[str, jax.Array]:
    """samples [S, B, T, H, W, C], truth [B, T, H, W, C] -> {"psnr", "ssim"}: [B, S, T]."""
    out = {"psnr": metrics.psnr(samples, truth[None]), "ssim": metrics.ssim(samples, truth[None])}
    return {k: jnp.swapaxes(v, 0, 1) for k, v in out.items()}


def summarize(per_sample: np.ndarray, copy_last: np.ndarray) -> dict[str, list[float]]:
    """per_sample [clips, S, T] and copy_last [clips, T] -> best / mean / copy_last per step."""
    best_index = np.argmax(per_sample.mean(axis=2), axis=1)  # best sample of each clip
    best = per_sample[np.arange(per_sample.shape[0]), best_index]
    return {
        "best": best.mean(axis=0).tolist(),
        "mean": per_sample.mean(axis=(0, 1)).tolist(),
        "copy_last": copy_last.mean(axis=0).tolist(),
    }


def evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
    """Scores the latest checkpoint in `workdir`; writes <workdir>/eval/results.json and plots."""
    config = eval_config(config)
    method, source, state = train.restore_for_inference(config, workdir)
    e, c = config.eval, config.data.context_frames
    clips = source.eval_clips(e.num_clips, split=e.split)
    draw = _sample_fn(config, method)
    key = jax.random.fold_in(jax.random.key(config.seed), 0x5EED)

    started = time.perf_counter()
    per_sample = {"psnr": [], "ssim": []}
    copy_last = {"psnr": [], "ssim": []}
    for start in range(0, e.num_clips, e.batch_size):
        chunk = {k: v[start : start + e.batch_size] for k, v in clips.items()}
        video = chunk["video"]
        truth = video[:, c:]
        samples = _draw_samples(
            draw,
            state,
            context_of(chunk, c),
            jax.random.fold_in(key, start),
            e.num_samples,
            e.sample_chunk,
        )
        scores = _scores(samples, truth)
        baseline = _scores(jnp.broadcast_to(video[None, :, c - 1 : c], truth[None].shape), truth)
        for name in per_sample:
            per_sample[name].append(np.asarray(scores[name]))
            copy_last[name].append(np.asarray(baseline[name])[:, 0])
        if start == 0:
            write_best_and_random(workdir, video, samples, per_sample["psnr"][0], c)

    results = {
        "step": int(jax.device_get(state.step)),
        "num_clips": int(e.num_clips),
        "num_samples": int(e.num_samples),
        "seconds": round(time.perf_counter() - started, 1),
    }
    for name in ("psnr", "ssim"):
        results[name] = summarize(np.concatenate(per_sample[name]), np.concatenate(copy_last[name]))
    write_results(workdir, results)
    print(format_table(results))
    return results


def write_best_and_random(
    workdir: str, video: jax.Array, samples: jax.Array, psnr: np.ndarray, context: int
) -> None:
    """<workdir>/eval/samples.{gif,png}: per clip (columns, up to 8), the ground truth, the best
    sample (highest mean PSNR) and up to 3 other samples (rows), each after the context frames.

    video [B, T, H, W, C], samples [S, B, T - c, H, W, C], psnr [B, S, T - c]."""
    n = min(video.shape[0], SAMPLE_GRID_CLIPS)
    video, samples = np.asarray(video[:n]), np.asarray(samples[:, :n])
    best = np.argmax(psnr[:n].mean(axis=-1), axis=1)
    with_context = lambda frames: np.concatenate([video[:, :context], frames], axis=1)
    rows = [video, with_context(samples[best, np.arange(n)])]
    rows += [with_context(samples[i]) for i in range(min(3, samples.shape[0]))]
    out = os.path.join(workdir, "eval")
    viz.write_gif(os.path.join(out, "samples.gif"), viz.video_grid(rows))
    viz.write_png(os.path.join(out, "samples.png"), viz.filmstrip(rows))


def write_results(workdir: str, results: dict[str, Any]) -> None:
    """<workdir>/eval/results.json (atomically) and per-step curve plots psnr.png, ssim.png."""
    out = os.path.join(workdir, "eval")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "results.json")
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=2)
    os.replace(path + ".tmp", path)
    for name in ("psnr", "ssim"):
        viz.plot_curves(
            os.path.join(out, f"{name}.png"),
            results[name],
            ylabel=name.upper(),
            title=f"step {results['step']}, {results['num_samples']} samples per clip",
        )
    # The same curves in TensorBoard (<workdir>/eval), indexed by predicted frame.
    writer = metric_writers.create_default_writer(out, just_logging=jax.process_index() > 0)
    for t in range(len(results["psnr"]["best"])):
        writer.write_scalars(
            t + 1,
            {
                f"{name}_{kind}": results[name][kind][t]
                for name in ("psnr", "ssim")
                for kind in ("best", "mean", "copy_last")
            },
        )
    writer.close()


def format_table(results: dict[str, Any]) -> str:
    """A plain-text table: one row per predicted step, PSNR and SSIM best / mean / copy-last."""
    head = (
        f"{'step':>4} | {'PSNR best':>9} {'mean':>7} {'copy':>7} | "
        f"{'SSIM best':>9} {'mean':>6} {'copy':>6}"
    )
    lines = [
        f"eval at training step {results['step']}: {results['num_clips']} clips, "
        f"{results['num_samples']} samples each",
        head,
        "-" * len(head),
    ]
    p, s = results["psnr"], results["ssim"]
    for i in range(len(p["best"])):
        lines.append(
            f"{i + 1:>4} | {p['best'][i]:>9.2f} {p['mean'][i]:>7.2f} {p['copy_last'][i]:>7.2f} | "
            f"{s['best'][i]:>9.3f} {s['mean'][i]:>6.3f} {s['copy_last'][i]:>6.3f}"
        )
    return "\n".join(lines)


def write_sample_grids(config: ml_collections.ConfigDict, workdir: str) -> str:
    """`--mode sample`: ground truth above eval.num_samples samples for a few evaluation clips,
    as <workdir>/samples/eval_step_<N>.{gif,png}; returns the GIF's path."""
    config = eval_config(config)
    method, source, state = train.restore_for_inference(config, workdir)
    e, c = config.eval, config.data.context_frames
    clips = source.eval_clips(min(e.num_clips, SAMPLE_GRID_CLIPS), split=e.split)
    video = clips["video"]
    key = jax.random.fold_in(jax.random.key(config.seed), 0x5A4D)
    samples = _draw_samples(
        _sample_fn(config, method), state, context_of(clips, c), key, e.num_samples, e.sample_chunk
    )
    context = np.asarray(video[:, :c])
    rows = [np.asarray(video)] + [np.concatenate([context, np.asarray(s)], 1) for s in samples]
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
