"""The evaluation protocol of stochastic video prediction (best and mean of N samples per clip).

Condition on `data.context_frames` real frames of `eval.num_clips` fixed, seeded clips; draw
`eval.num_samples` samples of the next `eval.predict_frames` frames per clip (0:
`data.predict_frames`, the training horizon); per predicted step report PSNR and SSIM of
  best       the best sample per clip (the one with the highest metric averaged over the
             predicted steps, chosen separately for each metric, as in the SVG/SRVP evaluations),
  mean       the mean over samples,
  copy_last  the baseline that repeats the last context frame,
each averaged over clips.

results.json: {"num_clips", "num_samples", "seconds", "psnr": {"best", "mean", "copy_last"},
"ssim": {...}} (each a list, one value per predicted step). Files in <workdir>/eval:
samples.{gif,png} (ground truth | best | random samples), psnr.png, ssim.png, and the curves in
TensorBoard indexed by predicted frame.
"""

import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vgen import metrics, viz
from vgen.data.pipeline import context_of
from vgen.evaluators import EvalContext, chunks
from vgen.sharding import to_host

REQUIRES: tuple[str, ...] = ()  # `sample` is part of every method
SAMPLE_GRID_CLIPS = 8


def sample_fn(config: ml_collections.ConfigDict, method):
    """Jitted (state, context {"video": [B, c, ...], ...}, keys [S]) -> samples
    [S, B, horizon, H, W, C] (sharded like the context's batch axis)."""
    horizon = config.data.predict_frames

    def draw(state, context, keys):
        one = lambda key: method.sample(config, state, context, key, horizon)
        return jax.vmap(one)(keys)

    return jax.jit(draw)


def draw_samples(draw, state, context, key: jax.Array, num_samples: int, chunk: int):
    """num_samples samples in vmapped chunks of `chunk` (the last one padded, then trimmed)."""
    keys = jax.random.split(key, num_samples)
    pad = (-num_samples) % min(chunk, num_samples)
    keys = jnp.concatenate([keys, keys[:pad]]) if pad else keys
    size = min(chunk, num_samples)
    parts = [draw(state, context, keys[i : i + size]) for i in range(0, len(keys), size)]
    return jnp.concatenate(parts, axis=0)[:num_samples]


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


def run(ctx: EvalContext) -> dict[str, Any]:
    """Scores best / mean / copy-last per predicted step; writes the grids, curves and table."""
    e, c = ctx.config.eval, ctx.config.data.context_frames
    draw = sample_fn(ctx.config, ctx.method)
    started = time.perf_counter()
    per_sample = {"psnr": [], "ssim": []}
    copy_last = {"psnr": [], "ssim": []}
    for start, chunk in chunks(ctx):
        video = chunk["video"]
        truth = video[:, c:]
        key = jax.random.fold_in(ctx.rng, start)
        context = context_of(chunk, c)
        samples = draw_samples(draw, ctx.state, context, key, e.num_samples, e.sample_chunk)
        scores = _scores(samples, truth)
        baseline = _scores(jnp.broadcast_to(video[None, :, c - 1 : c], truth[None].shape), truth)
        for name in per_sample:
            per_sample[name].append(to_host(scores[name]))
            copy_last[name].append(to_host(baseline[name])[:, 0])
        if start == 0:
            write_best_and_random(ctx.outdir, video, samples, per_sample["psnr"][0], c)

    results = {
        "num_clips": int(e.num_clips),
        "num_samples": int(e.num_samples),
        "seconds": round(time.perf_counter() - started, 1),
    }
    for name in ("psnr", "ssim"):
        results[name] = summarize(np.concatenate(per_sample[name]), np.concatenate(copy_last[name]))
    step = int(jax.device_get(ctx.state.step))
    write_curves(ctx, results, step)
    print(format_table(results, step))
    return results


def write_best_and_random(
    outdir: str, video: jax.Array, samples: jax.Array, psnr: np.ndarray, context: int
) -> None:
    """<outdir>/samples.{gif,png}: per clip (columns, up to 8), the ground truth, the best
    sample (highest mean PSNR) and up to 3 other samples (rows), each after the context frames.

    video [B, T, H, W, C], samples [S, B, T - c, H, W, C], psnr [B, S, T - c]."""
    n = min(video.shape[0], SAMPLE_GRID_CLIPS)
    video, samples = to_host(video)[:n], to_host(samples)[:, :n]
    best = np.argmax(psnr[:n].mean(axis=-1), axis=1)
    with_context = lambda frames: np.concatenate([video[:, :context], frames], axis=1)
    rows = [video, with_context(samples[best, np.arange(n)])]
    rows += [with_context(samples[i]) for i in range(min(3, samples.shape[0]))]
    viz.write_gif(os.path.join(outdir, "samples.gif"), viz.video_grid(rows))
    viz.write_png(os.path.join(outdir, "samples.png"), viz.filmstrip(rows))


def write_curves(ctx: EvalContext, results: dict[str, Any], step: int) -> None:
    """Per-step curve plots psnr.png, ssim.png, and the same curves in TensorBoard, indexed by
    predicted frame."""
    for name in ("psnr", "ssim"):
        viz.plot_curves(
            os.path.join(ctx.outdir, f"{name}.png"),
            results[name],
            ylabel=name.upper(),
            title=f"step {step}, {results['num_samples']} samples per clip",
        )
    for t in range(len(results["psnr"]["best"])):
        ctx.writer.write_scalars(
            t + 1,
            {
                f"{name}_{kind}": results[name][kind][t]
                for name in ("psnr", "ssim")
                for kind in ("best", "mean", "copy_last")
            },
        )


def format_table(results: dict[str, Any], step: int) -> str:
    """A plain-text table: one row per predicted step, PSNR and SSIM best / mean / copy-last."""
    head = (
        f"{'step':>4} | {'PSNR best':>9} {'mean':>7} {'copy':>7} | "
        f"{'SSIM best':>9} {'mean':>6} {'copy':>6}"
    )
    lines = [
        f"eval at training step {step}: {results['num_clips']} clips, "
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
