"""What single-guess predictors built from Dynamics's ground truth reach on the evaluation's scores.

python -m vgen.experiments.dynamics_bounds [--config=configs/ffgan_dynamics.py]

Two predictors that know what no model is given, each one deterministic guess per clip:
  constant_velocity  the true object of the last context frame (its coverage and colour, cut out
                     with the renderer's mask and background), moved on at its last velocity
                     (the change of its centroid between the last two context frames) over the
                     clip's true background: sharp, the right look, the background intact, the
                     motion extrapolated in a straight line
  true_path          the same object moved to the true centroid at every step: only the
                     object's change of look (rotation, a shape's turn) is missing
They are scored like a model's sample by the "prediction" evaluator (full-frame PSNR and the
object scores of `vgen.evaluators.object_scores`) on the config's evaluation clips, next to
the evaluator's baselines, and printed as one table per score (columns: predicted step). What
they show: whether the object-aware bar of issue 12 is within reach of a predictor that makes
one guess (as FF-GAN does when its samples do not differ), and how far a prediction that keeps
the background and moves a sharp object in a straight line gets.
"""

import sys
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from vgen import config_lib, metrics
from vgen.data import make_source
from vgen.errors import ArgumentParser, ConfigError
from vgen.evaluate import eval_clips
from vgen.evaluators import object_scores
from vgen.evaluators.prediction import CURVES, baselines


def shift(image: jax.Array, offset: jax.Array) -> jax.Array:
    """image [H, W, C] moved by offset [2] (rows, columns) pixels, bilinear, zero outside."""
    h, w = image.shape[:2]
    rows, cols = jnp.meshgrid(jnp.arange(h), jnp.arange(w), indexing="ij")
    coords = [rows - offset[0], cols - offset[1]]
    move = lambda channel: jax.scipy.ndimage.map_coordinates(channel, coords, order=1, cval=0.0)
    return jax.vmap(move, in_axes=-1, out_axes=-1)(image)


def _composite(obj: jax.Array, cover: jax.Array, background: jax.Array, offset: jax.Array):
    """The object (premultiplied colour obj [H, W, C], coverage cover [H, W, 1]) moved by
    offset over background [H, W, C]."""
    return shift(obj, offset) + (1.0 - shift(cover, offset)) * background


@jax.jit
def _moved(video, mask, background, offsets):
    """The last context frame's object moved by offsets [B, N, 2] over the backgrounds of the
    N frames after it: [B, N, H, W, C]. video, mask, background: [B, c + N, ...]."""
    n = offsets.shape[1]
    c = video.shape[1] - n
    last, cover = video[:, c - 1], mask[:, c - 1]
    obj = last - (1.0 - cover) * background[:, c - 1]  # video = obj + (1 - mask) * background
    per_step = jax.vmap(_composite, in_axes=(None, None, 0, 0))
    return jax.vmap(per_step)(obj, cover, background[:, c:], offsets)


def constant_velocity(video, mask, background, context: int) -> jax.Array:
    """video [B, T, H, W, C], mask [B, T, H, W, 1], background [B, T, H, W, C] -> the object of
    frame context-1 moved on at its last velocity, frames context..T-1 [B, T - context, ...]."""
    positions = object_scores.true_positions(mask)
    velocity = positions[:, context - 1] - positions[:, context - 2]
    steps = jnp.arange(1, video.shape[1] - context + 1, dtype=velocity.dtype)
    return _moved(video, mask, background, steps[None, :, None] * velocity[:, None])


def true_path(video, mask, background, context: int) -> jax.Array:
    """As constant_velocity, with the object moved to its true centroid at each step."""
    positions = object_scores.true_positions(mask)
    offsets = positions[:, context:] - positions[:, context - 1 : context]
    return _moved(video, mask, background, offsets)


def score_table(config, clips: dict, truth: dict) -> dict[str, dict[str, list[float]]]:
    """{score: {predictor or baseline: [T - c] mean over clips}} for "psnr" and the object
    scores, of both predictors and the evaluator's baselines."""
    c = config.data.context_frames
    video, mask, background = clips["video"], truth["mask"], truth["background"]
    future = video[:, c:]
    predictions = {
        "constant_velocity": constant_velocity(video, mask, background, c),
        "true_path": true_path(video, mask, background, c),
        **baselines(video, c, background[:, c:]),
    }
    out: dict[str, dict[str, list[float]]] = {}
    for name, frames in predictions.items():
        scores = object_scores.scores(
            frames,
            mask[:, c:],
            background[:, c:],
            future,
            dilation=config.eval.object_dilation,
            threshold=config.eval.object_threshold,
        )
        scores["psnr"] = metrics.psnr(frames, future)
        for score, value in scores.items():
            out.setdefault(score, {})[name] = np.asarray(value).mean(0).tolist()
    return {k: out[k] for k in CURVES if k in out}


def format_table(table: dict[str, dict[str, list[float]]]) -> str:
    lines = []
    for score, rows in table.items():
        form = CURVES[score][1]
        lines.append(f"{score} ({CURVES[score][0]}); columns: predicted step")
        width = max(len(n) for n in rows) + 2
        for name, values in rows.items():
            lines.append(f"  {name:<{width}}" + "".join(f"{form.format(x):>8}" for x in values))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m vgen.experiments.dynamics_bounds", description=__doc__)
    parser.add_argument(
        "--config", default="configs/ffgan_dynamics.py", help="a Dynamics config: PATH[:ARG]"
    )
    args = parser.parse_args(argv)
    try:
        path, _, arg = args.config.partition(":")
        config = config_lib.load_config_file(path, arg or None)
        source = make_source(config)
        clips, truth = eval_clips(config, source)
        if truth is None:
            raise ValueError(f"{args.config}: data.name {config.data.name!r} has no ground truth")
    except (OSError, ValueError, ConfigError) as e:
        print(f"vgen: error: {e}", file=sys.stderr)
        return 1
    n, c = config.eval.num_clips, config.data.context_frames
    print(f"{args.config}: {n} {config.eval.split} clips, {c} context frames")
    print(format_table(score_table(config, clips, truth)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
