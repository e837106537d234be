"""The evaluation protocol of stochastic video prediction (best and mean of N samples per clip).

Condition on `data.context_frames` real frames of `eval.num_clips` fixed, seeded clips; draw
`eval.num_samples` samples of the next `eval.predict_frames` frames per clip (0:
`data.predict_frames`, the training horizon); per predicted step report PSNR and SSIM of
  best       the best sample per clip (the one with the highest metric averaged over the
             predicted steps, chosen separately for each metric, as in the SVG/SRVP evaluations),
  mean       the mean over samples,
  copy_last     the baseline that repeats the last context frame,
  mean_context  the baseline that repeats the mean of the context frames (a blurred copy: it
                tells a model that only blurs the last frame from one that predicts motion),
each averaged over clips.

With `eval.lpips` (a network name) LPIPS is scored per step like PSNR (lower is better), and
with `eval.fvd` the FVD of whole clips (context and prediction) is computed for the set of best
samples (highest mean PSNR per clip), of one random sample per clip and of each baseline,
against the real clips: results.json "fvd": {"best", "random", "copy_last"[, "background"],
"mean_context"}.

When the source knows each clip's object and background (ctx.ground_truth, Dynamics), the
same samples are also scored on the object (`object_scores`: object-region PSNR and SSIM,
object position error, the fraction of predictions that show the object), and every score
gets one more baseline, background: the clip's own background with the object erased.

results.json: {"num_clips", "num_samples", "seconds", "psnr": {"best", "mean", "copy_last",
"mean_context"}, "ssim": {...}} (each a list, one value per predicted step); with ground truth
also "background" in "psnr" and "ssim" (before "mean_context"), "object_psnr", "object_ssim",
"position_error" (best is the lowest) and "object_found" ({"mean", "copy_last", "background",
"mean_context"}), and "object_region":
{"dilation", "threshold"}. Files in <workdir>/eval: samples.{gif,png} (ground truth | best |
random samples), one curve plot per score (psnr.png, ssim.png, object_psnr.png, ...), and the
curves in TensorBoard indexed by predicted frame. With `eval.classifier_workdir` (a trained
classifier's run) also "motion_class": how often the classifier recovers the true class of
the real clips and of each predicted set (`vgen.evaluators.motion_class`).
"""

import functools
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vgen import fvd, lpips, metrics, viz
from vgen.data.pipeline import context_of
from vgen.errors import ConfigError
from vgen.evaluators import EvalContext, chunks, motion_class, object_scores
from vgen.sharding import place_clips, to_host

REQUIRES = ("sample",)
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


@functools.partial(jax.jit, static_argnames=("per_channel",))
def _scores(samples: jax.Array, truth: jax.Array, per_channel: bool) -> dict[str, jax.Array]:
    """samples [S, B, T, H, W, C], truth [B, T, H, W, C] -> {"psnr", "ssim"}: [B, S, T]
    (PSNR per channel, averaged, with per_channel: eval.psnr_per_channel)."""
    psnr = metrics.psnr(samples, truth[None], per_channel=per_channel)
    out = {"psnr": psnr, "ssim": metrics.ssim(samples, truth[None])}
    return {k: jnp.swapaxes(v, 0, 1) for k, v in out.items()}


@functools.partial(jax.jit, static_argnames=("dilation", "threshold"))
def _object_scores(samples, truth, ground_truth, *, dilation: int, threshold: float):
    """samples [S, B, T, H, W, C], truth [B, T, H, W, C], ground_truth {"mask", "background"}
    of the predicted frames -> object_scores.scores, each [B, S, T]."""
    out = object_scores.scores(
        samples,
        ground_truth["mask"],
        ground_truth["background"],
        truth,
        dilation=dilation,
        threshold=threshold,
    )
    return {k: jnp.swapaxes(v, 0, 1) for k, v in out.items()}


@functools.partial(jax.jit, static_argnames=("net",))
def _lpips_scores(samples, truth, variables, net: str) -> dict[str, jax.Array]:
    """samples [S, B, T, H, W, C], truth [B, T, H, W, C], variables lpips.weights(net) ->
    {"lpips": [B, S, T]}."""
    truth = jnp.broadcast_to(truth[None], samples.shape)
    distance = lpips.lpips(samples, truth, net, variables)
    return {"lpips": jnp.swapaxes(distance, 0, 1)}


# Scores where lower is better (the best sample is the lowest); every other score: higher.
LOWER_IS_BETTER = {"lpips"} | {k for k, v in object_scores.HIGHER_IS_BETTER.items() if not v}


def summarize(
    per_sample: np.ndarray, baselines: dict[str, np.ndarray], higher_is_better: bool = True
) -> dict[str, list[float]]:
    """per_sample [clips, S, T] and baselines {name: [clips, T]} -> best / mean / each
    baseline per step, averaged over clips. The best sample of a clip is the one with the best
    score averaged over the steps (the highest, or the lowest for an error)."""
    overall = per_sample.mean(axis=2)
    best_index = np.argmax(overall if higher_is_better else -overall, axis=1)
    best = per_sample[np.arange(per_sample.shape[0]), best_index]
    out = {"best": best.mean(axis=0).tolist(), "mean": per_sample.mean(axis=(0, 1)).tolist()}
    out.update({name: b.mean(axis=0).tolist() for name, b in baselines.items()})
    return out


def baselines(video: jax.Array, context: int, background: jax.Array | None = None) -> dict:
    """The cheap predictions of clips video [B, T, H, W, C] from their first `context` frames,
    each [B, T - context, H, W, C]: "copy_last", "background" (given the clips' backgrounds of
    the predicted frames [B, T - context, H, W, C]) and "mean_context"."""
    shape = video[:, context:].shape
    out = {"copy_last": jnp.broadcast_to(video[:, context - 1 : context], shape)}
    if background is not None:
        out["background"] = background
    out["mean_context"] = jnp.broadcast_to(jnp.mean(video[:, :context], 1, keepdims=True), shape)
    return out


def chunk_scores(ctx: EvalContext, chunk: dict, samples: jax.Array, start: int) -> dict:
    """Every score of one chunk: {score: {"samples": [B, S, T], baseline: [B, T]}} (host)."""
    c, e = ctx.config.data.context_frames, ctx.config.eval
    video = chunk["video"]
    truth = video[:, c:]
    score_fns = [functools.partial(_scores, per_channel=e.psnr_per_channel)]
    if net := e.lpips:
        score_fns.append(lambda p, t: _lpips_scores(p, t, lpips.weights(net), net=net))
    background = None
    if ctx.ground_truth is not None:
        size = video.shape[0]
        future = {k: v[start : start + size, c:] for k, v in ctx.ground_truth.items()}
        future = place_clips(future, ctx.mesh)
        background = future["background"]
        score_fns.append(
            lambda p, t: _object_scores(
                p, t, future, dilation=e.object_dilation, threshold=e.object_threshold
            )
        )
    predictions = {"samples": samples}
    predictions.update({k: v[None] for k, v in baselines(video, c, background).items()})
    out = {}
    for name, prediction in predictions.items():
        for fn in score_fns:
            for score, value in fn(prediction, truth).items():
                value = to_host(value)
                out.setdefault(score, {})[name] = value if name == "samples" else value[:, 0]
    if e.fvd or e.classifier_workdir:
        sets = clip_sets(to_host(video), to_host(samples), out["psnr"]["samples"])
        sets.update({k: to_host(v)[0] for k, v in predictions.items() if k != "samples"})
        if e.fvd:
            out["clips"] = sets
        if e.classifier_workdir:
            real, predicted = sets["real"], {k: v for k, v in sets.items() if k != "real"}
            classifier = motion_class.load(e.classifier_workdir)
            out["motion_class"] = motion_class.predicted_classes(classifier, real, predicted)
            out["motion_class"]["label"] = to_host(chunk["label"])
    return out


def best_by_psnr(psnr: np.ndarray) -> np.ndarray:
    """psnr [B, S, T] -> per clip the index of the sample with the highest mean PSNR [B]."""
    return np.argmax(psnr.mean(axis=-1), axis=1)


def clip_sets(video: np.ndarray, samples: np.ndarray, psnr: np.ndarray) -> dict:
    """The chunk's clips for FVD and the motion-class score: "real" [B, T, ...], and the
    predicted frames [B, T - c, ...] of "best" (the best-PSNR sample) and "random" (sample 0:
    the samples are independent draws). samples [S, B, T - c, ...], psnr [B, S, T - c]."""
    best = samples[best_by_psnr(psnr), np.arange(video.shape[0])]
    return {"real": video, "best": best, "random": samples[0]}


def fvd_scores(clips: dict[str, np.ndarray], c: int, window: int) -> dict[str, float]:
    """FVD of every predicted set (whole clips: the real context, then the prediction) against
    the real clips. clips: {"real": [N, T, ...], name: [N, T - c, ...] or [N, T, ...]}."""
    real = clips.pop("real")
    reference = fvd.embed(real, window)
    out = {}
    for name, predicted in clips.items():
        whole = np.concatenate([real[:, :c], predicted], axis=1)
        out[name] = fvd.frechet_distance(reference, fvd.embed(whole, window))
    return out


def run(ctx: EvalContext) -> dict[str, Any]:
    """Scores best / mean / baselines per predicted step; writes the grids, curves and table."""
    e, c = ctx.config.eval, ctx.config.data.context_frames
    if e.classifier_workdir:
        motion_class.check_compatible(motion_class.load(e.classifier_workdir), ctx.config)
        if "label" not in ctx.clips:
            raise ConfigError("eval.classifier_workdir: the evaluated clips have no class labels")
    draw = sample_fn(ctx.config, ctx.method)
    started = time.perf_counter()
    parts = []
    for start, chunk in chunks(ctx):
        key = jax.random.fold_in(ctx.rng, start)
        context = context_of(chunk, c)
        samples = draw_samples(draw, ctx.state, context, key, e.num_samples, e.sample_chunk)
        parts.append(chunk_scores(ctx, chunk, samples, start))
        if start == 0:
            psnr = parts[0]["psnr"]["samples"]
            write_best_and_random(ctx.outdir, chunk["video"], samples, psnr, c)

    results = {
        "num_clips": int(e.num_clips),
        "num_samples": int(e.num_samples),
        "seconds": round(time.perf_counter() - started, 1),
    }
    for score in sorted(set(parts[0]) - {"clips", "motion_class"}, key=list(CURVES).index):
        joined = {k: np.concatenate([p[score][k] for p in parts]) for k in parts[0][score]}
        per_sample = joined.pop("samples")
        results[score] = summarize(
            per_sample, joined, higher_is_better=score not in LOWER_IS_BETTER
        )
    if "object_found" in results:  # a fraction, not a score to pick the best sample by
        results["object_found"].pop("best")
        results["object_region"] = {
            "dilation": int(e.object_dilation),
            "threshold": float(e.object_threshold),
        }
    if e.fvd:
        clips = {k: np.concatenate([p["clips"][k] for p in parts]) for k in parts[0]["clips"]}
        results["fvd"] = fvd_scores(clips, c, e.fvd_window)
    if e.classifier_workdir:
        classes = {
            k: np.concatenate([p["motion_class"][k] for p in parts])
            for k in parts[0]["motion_class"]
        }
        labels = classes.pop("label")
        results["motion_class"] = motion_class.summarize(labels, classes, e.classifier_workdir)
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
    best = best_by_psnr(psnr[:n])
    with_context = lambda frames: np.concatenate([video[:, :context], frames], axis=1)
    rows = [video, with_context(samples[best, np.arange(n)])]
    rows += [with_context(samples[i]) for i in range(min(3, samples.shape[0]))]
    viz.write_gif(os.path.join(outdir, "samples.gif"), viz.video_grid(rows))
    viz.write_png(os.path.join(outdir, "samples.png"), viz.filmstrip(rows))


# The per-step scores, their axis labels and table formats, in the order they are shown.
CURVES = {
    "psnr": ("PSNR (dB)", "{:.2f}"),
    "ssim": ("SSIM", "{:.3f}"),
    "lpips": ("LPIPS", "{:.3f}"),
    "object_psnr": ("object-region PSNR (dB)", "{:.2f}"),
    "object_ssim": ("object-region SSIM", "{:.3f}"),
    "position_error": ("object position error (pixels)", "{:.2f}"),
    "object_found": ("fraction with the object found", "{:.2f}"),
}


def write_curves(ctx: EvalContext, results: dict[str, Any], step: int) -> None:
    """One curve plot per score (<score>.png: best, mean and the baselines per predicted step)
    and the same curves in TensorBoard as <score>_<kind>, indexed by predicted frame."""
    names = [name for name in CURVES if name in results]
    for name in names:
        viz.plot_curves(
            os.path.join(ctx.outdir, f"{name}.png"),
            results[name],
            ylabel=CURVES[name][0],
            title=f"step {step}, {results['num_samples']} samples per clip",
        )
    for t in range(len(results["psnr"]["best"])):
        ctx.writer.write_scalars(
            t + 1,
            {
                f"{name}_{kind}": values[t]
                for name in names
                for kind, values in results[name].items()
            },
        )


def format_table(results: dict[str, Any], step: int) -> str:
    """A plain-text table: one row per score and kind (best, mean, each baseline), one column
    per predicted step."""
    rows = [
        (f"{n} {k}", CURVES[n][1], v) for n in CURVES if n in results for k, v in results[n].items()
    ]
    label = max(len(r[0]) for r in rows) + 2
    steps = len(results["psnr"]["best"])
    lines = [
        f"eval at training step {step}: {results['num_clips']} clips, "
        f"{results['num_samples']} samples each; columns: predicted step",
        " " * label + "".join(f"{t + 1:>8}" for t in range(steps)),
    ]
    lines += [
        f"{name:<{label}}" + "".join(f"{fmt.format(x):>8}" for x in v) for name, fmt, v in rows
    ]
    if "fvd" in results:
        lines.append(
            "FVD (whole clips): " + ", ".join(f"{k} {v:.1f}" for k, v in results["fvd"].items())
        )
    if "motion_class" in results:
        accuracy = results["motion_class"]["accuracy"]
        lines.append(
            "motion class recovered (whole clips): "
            + ", ".join(f"{k} {100 * v:.1f} %" for k, v in accuracy.items())
        )
    return "\n".join(lines)
