"""A classifier's error on the train, validation and test splits, and its confusion matrix.

results.json "classification": {"num_clips": {split: n}, "error": {split: fraction wrong},
"confusion": [K, K] counts on `eval.split` (rows: true class, columns: predicted),
"classes": the class names}. Each split is scored on its first `eval.num_clips` fixed
evaluation clips (fewer where the split is smaller). Files in <workdir>/eval: confusion.png.
"""

import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from vgen import viz
from vgen.evaluators import EvalContext, chunks
from vgen.sharding import to_host

REQUIRES = ("classify",)
SPLITS = ("train", "val", "test")


def class_predictor(method: Any, config: Any) -> Callable[[Any, jax.Array], jax.Array]:
    """The jitted (state, video [B, T, H, W, C]) -> predicted class [B] of a method with the
    `classify` hook."""
    return jax.jit(
        lambda state, video: jnp.argmax(method.classify(config, state, {"video": video}), -1)
    )


def predictions(ctx: EvalContext, predict: Callable, video: np.ndarray) -> np.ndarray:
    """The predicted class [N] of each clip of video [N, T, H, W, C], chunked over the mesh."""
    parts = chunks(ctx, {"video": video})
    return np.concatenate([to_host(predict(ctx.state, chunk["video"])) for _, chunk in parts])


def confusion(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """[K, K] counts: row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def run(ctx: EvalContext) -> dict[str, Any]:
    e, k = ctx.config.eval, ctx.config.model.num_classes
    predict = class_predictor(ctx.method, ctx.config)
    errors, sizes, matrix = {}, {}, None
    for split in SPLITS:
        if split == e.split:
            clips = ctx.clips
        else:
            n = min(int(e.num_clips), ctx.source.split_size(split))
            clips = ctx.source.eval_clips(n, split=split)
        labels = np.asarray(clips["label"])
        predicted = predictions(ctx, predict, clips["video"])
        errors[split] = float(np.mean(predicted != labels))
        sizes[split] = int(labels.shape[0])
        if split == e.split:
            matrix = confusion(labels, predicted, k)
    names = list(getattr(ctx.source, "CLASS_NAMES", [str(i) for i in range(k)]))
    step = int(jax.device_get(ctx.state.step))
    viz.plot_confusion(
        os.path.join(ctx.outdir, "confusion.png"),
        matrix,
        names,
        title=f"{ctx.config.model.arch}, {e.split} split, step {step}",
    )
    print(
        "classification error: "
        + ", ".join(f"{s} {100 * errors[s]:.1f} % ({sizes[s]} clips)" for s in SPLITS)
    )
    return {
        "classification": {
            "num_clips": sizes,
            "error": errors,
            "confusion": matrix.tolist(),
            "classes": names,
        }
    }
