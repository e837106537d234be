"""Evaluators run by `--mode eval`, chosen by `config.eval.evaluators` (a tuple of names).

The contract: an evaluator is a module with

    REQUIRES: tuple[str, ...]        the method hooks it calls beyond the required contract
                                     (e.g. ("reconstruct",)); checked when training or
                                     evaluation starts, so a config that asks for an evaluator
                                     its method cannot serve fails at once
    run(ctx: EvalContext) -> dict    scores the restored state on ctx.clips, writes its own
                                     files under <workdir>/eval and returns its part of
                                     <workdir>/eval/results.json

`vgen.evaluate.evaluate` restores the checkpoint once, runs the chosen evaluators in order and
merges their parts into results.json next to "step" (two evaluators may not return the same
key). "prediction" returns the protocol's top-level keys (num_clips, num_samples, seconds,
psnr, ssim); every other evaluator returns one key, its own name, holding a dict.

Built-ins:
  prediction      best-of-N video prediction scores (PSNR / SSIM per predicted step)
  reconstruction  scores of the method's `reconstruct` hook (MSE, PSNR, SSIM), targets above
                  reconstructions
  figures         the method's own figures (`write_figures`), listed by path
  classification  a classifier's error per split and its confusion matrix (`classify`)

Adding a score (object-aware Dynamics scores, LPIPS / FVD, a classifier's accuracy) is one
module here with REQUIRES and run(ctx), and one line in EVALUATORS. Chunk the clips with
`chunks(ctx)` (sharded over the mesh like training batches) and draw randomness from
`rng_for(ctx, name)`.
"""

import dataclasses
import importlib
import os
import zlib
from collections.abc import Iterator
from typing import Any

import jax
import ml_collections
from jax.sharding import Mesh

from vgen import sharding
from vgen.errors import ConfigError

# The one place where evaluator names map to modules.
EVALUATORS = {
    "prediction": "vgen.evaluators.prediction",
    "reconstruction": "vgen.evaluators.reconstruction",
    "figures": "vgen.evaluators.figures",
    "classification": "vgen.evaluators.classification",
}


@dataclasses.dataclass(frozen=True)
class EvalContext:
    """What every evaluator gets.

    config   the evaluation config (`data.predict_frames` = the evaluation horizon)
    method   the method module; state its restored TrainState, replicated over `mesh`
    source   the data source; clips its `eval.num_clips` evaluation clips {"video":
             [N, T, H, W, C], ...} (host NumPy / JAX arrays, the same on every host)
    ground_truth  what a source that renders its clips knows about them (Dynamics): {"mask":
             [N, T, H, W, 1] object coverage, "background": [N, T, H, W, C] the clip
             without its object}; None for other sources
    mesh     the device mesh ("data" axis)
    workdir  the run directory; evaluators write under <workdir>/eval
    rng      the evaluation key (per evaluator: `rng_for`)
    writer   a clu metric writer on <workdir>/eval (TensorBoard)
    """

    config: ml_collections.ConfigDict
    method: Any
    state: Any
    source: Any
    clips: dict[str, Any]
    ground_truth: dict[str, Any] | None
    mesh: Mesh
    workdir: str
    rng: jax.Array
    writer: Any

    @property
    def outdir(self) -> str:
        return os.path.join(self.workdir, "eval")


def get(name: str) -> Any:
    """The evaluator module registered as `name`."""
    if name not in EVALUATORS:
        raise ConfigError(f"unknown evaluator {name!r}; known: {', '.join(EVALUATORS)}")
    return importlib.import_module(EVALUATORS[name])


def check_hooks(config: ml_collections.ConfigDict, method: Any) -> None:
    """ConfigError when an evaluator of `config.eval.evaluators` needs a hook the method lacks."""
    for name in config.eval.evaluators:
        missing = [h for h in get(name).REQUIRES if not hasattr(method, h)]
        if missing:
            raise ConfigError(
                f"eval.evaluators has {name!r}, which needs the method hook "
                f"{', '.join(missing)}, but method {config.method!r} does not define it: "
                f"remove {name!r} from eval.evaluators"
            )


def rng_for(ctx: EvalContext, name: str) -> jax.Array:
    """The key of evaluator `name`: ctx.rng folded with a hash of the name."""
    return jax.random.fold_in(ctx.rng, zlib.crc32(name.encode()) & 0x7FFFFFFF)


def chunks(
    ctx: EvalContext, clips: dict[str, Any] | None = None
) -> Iterator[tuple[int, dict[str, jax.Array]]]:
    """(start, chunk) over ctx.clips (or `clips`) in chunks of `eval.batch_size` clips, each
    placed on the mesh: sharded on "data" (a ragged last chunk that the device count does not
    divide is replicated instead, so results do not depend on the device count)."""
    clips = ctx.clips if clips is None else clips
    n, size = clips["video"].shape[0], ctx.config.eval.batch_size
    for start in range(0, n, size):
        chunk = {k: v[start : start + size] for k, v in clips.items()}
        yield start, sharding.place_clips(chunk, ctx.mesh)
