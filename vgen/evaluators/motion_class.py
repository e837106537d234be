"""The motion-class score (issue: does a generator keep the *kind* of motion?): a trained
classifier (`vgen.methods.classifier`, its run in `eval.classifier_workdir`) labels whole clips
(the real context, then a prediction) and its accuracy against the true class is reported for
the real clips and for each predicted set, next to each other.

Used by the "prediction" evaluator when `eval.classifier_workdir` is set: results.json
"motion_class": {"accuracy": {"real", "best", "random", "copy_last"[, "background"],
"mean_context"}, "num_clips", "classifier": {"workdir", "arch", "step"}}. "best" is the
best-PSNR sample of each clip, "random" sample 0 (the samples are independent draws), as for
FVD.
"""

import dataclasses
import functools
import os
from typing import Any

import jax
import ml_collections
import numpy as np

from vgen.errors import ConfigError
from vgen.evaluators import classification


@dataclasses.dataclass(frozen=True)
class Classifier:
    config: ml_collections.ConfigDict
    state: Any
    predict: Any  # jitted: (state, video [B, T, H, W, C]) -> classes [B]
    step: int


@functools.cache
def load(workdir: str) -> Classifier:
    """The trained classifier of the run in `workdir` (its config.json and latest checkpoint)."""
    from vgen import train
    from vgen.methods import get_method

    workdir = os.path.expanduser(workdir)
    if not os.path.isfile(os.path.join(workdir, "config.json")):
        raise ConfigError(f"eval.classifier_workdir: no trained run in {workdir} (no config.json)")
    config = train.load_config(workdir)
    method = get_method(config.method)
    if not hasattr(method, "classify"):
        raise ConfigError(
            f"eval.classifier_workdir: {workdir} holds a {config.method!r} run, not a classifier"
        )
    _, _, state = train.restore_for_inference(config, workdir)
    predict = classification.class_predictor(method, config)
    return Classifier(config, state, predict, int(jax.device_get(state.step)))


def check_compatible(classifier: Classifier, config: ml_collections.ConfigDict) -> None:
    """ConfigError unless the classifier reads clips like the evaluated ones (same dataset,
    resolution and number of frames)."""
    d, k = config.data, classifier.config.data
    ours = (d.name, int(d.resolution), int(d.context_frames + d.predict_frames))
    theirs = (k.name, int(k.resolution), int(k.context_frames + k.predict_frames))
    if ours != theirs:
        raise ConfigError(
            "eval.classifier_workdir: the classifier reads (dataset, resolution, frames) = "
            f"{theirs}, the evaluated clips are {ours}"
        )


def predicted_classes(
    classifier: Classifier, real: np.ndarray, predicted: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """real [B, T, ...] and {set: predicted frames [B, T - c, ...]} -> {set or "real": [B]}."""
    c = real.shape[1] - next(iter(predicted.values())).shape[1]
    out = {"real": np.asarray(classifier.predict(classifier.state, real))}
    for name, frames in predicted.items():
        whole = np.concatenate([real[:, :c], frames], axis=1)
        out[name] = np.asarray(classifier.predict(classifier.state, whole))
    return out


def summarize(labels: np.ndarray, classes: dict[str, np.ndarray], workdir: str) -> dict:
    """results.json's "motion_class" from the true labels [N] and each set's classes [N]."""
    classifier = load(workdir)
    return {
        "accuracy": {name: float(np.mean(c == labels)) for name, c in classes.items()},
        "num_clips": int(labels.shape[0]),
        "classifier": {
            "workdir": workdir,
            "arch": classifier.config.model.arch,
            "step": classifier.step,
        },
    }
