"""Model families. Each module implements the `Method` contract below, chosen by `config.method`.

`context` is the batch with its video cut to the context frames (`vgen.data.pipeline.context_of`):
{"video": [B, c, H, W, C]} plus, where the data has them, "cond" [B, c + horizon, D] (the
condition of every frame, future included) and "label" [B].

A method module holds its model composition, its steps and its defaults; networks live in
`vgen.nn`, losses in `vgen.losses`, Algorithm 1's adversarial update in `vgen.adversarial`. No
method imports another method. `tests/test_method_contract.py` checks every registered method
against this contract with its `:tiny` config, so a new method needs no new test code to be
covered: add its module here, in METHODS, and a config in configs/.
"""

import importlib
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import jax
import ml_collections

from vgen.config_lib import Check
from vgen.errors import ConfigError
from vgen.train_state import TrainState

Batch = dict[str, jax.Array]


@runtime_checkable
class Method(Protocol):
    """What a method module must define (module-level functions and constants)."""

    # Declarative config checks, run once by `config_lib.validate` before training or eval.
    CONFIG_CHECKS: tuple[Check, ...]

    def default_config(self) -> ml_collections.ConfigDict:
        """The common fields plus the method's model, optimiser and training defaults."""

    def init(self, config: ml_collections.ConfigDict, rng: jax.Array, batch: Batch) -> TrainState:
        """The initial state for batches like `batch` (its shapes only)."""

    def train_step(
        self, config: ml_collections.ConfigDict, state: TrainState, batch: Batch, rng: jax.Array
    ) -> tuple[TrainState, dict[str, jax.Array]]:
        """One update (all of a GAN's networks); scalar metrics. Jitted by the loop."""

    def eval_step(
        self, config: ml_collections.ConfigDict, state: TrainState, batch: Batch, rng: jax.Array
    ) -> dict[str, jax.Array]:
        """Scalar validation metrics on a batch of validation clips."""


REQUIRED = tuple(Method.__annotations__) + tuple(
    name for name, value in vars(Method).items() if callable(value) and not name.startswith("_")
)

# Optional hooks, used where a method defines them:
#   sample(config, state, context, rng, horizon) -> the `horizon` frames after the context,
#       [B, horizon, H, W, C] in [0, 1]: every generative model has it (the loop's sample
#       grids, `--mode sample` and the "prediction" evaluator use it); classifiers do not
#   classify(config, state, batch) -> class logits [B, K] of batch["video"] (the
#       "classification" evaluator)
#   validate_config(config)                  checks that cannot be declared as CONFIG_CHECKS
#   reconstruct(config, state, batch, rng) -> (target, reconstruction), both [B, T', H, W, C]:
#       what an encoder-decoder model reconstructs of the batch (the "reconstruction"
#       evaluator scores it)
#   write_figures(config, state, batch, rng, outdir) -> {name: path}: the method's own figures,
#       written by the loop with each sample grid and by `--mode sample`
#   wrap_source(config, source) -> the data source the method trains and is scored on, e.g.
#       with cached optical flow added to its batches (the two-stream classifier)
OPTIONAL_HOOKS = (
    "sample",
    "classify",
    "validate_config",
    "reconstruct",
    "write_figures",
    "wrap_source",
)

# The one place where method names map to modules.
METHODS = {
    "ali": "vgen.methods.ali",
    "classifier": "vgen.methods.classifier",
    "ffgan": "vgen.methods.ffgan",
    "mvae": "vgen.methods.mvae",
    "rali": "vgen.methods.rali",
    "svg": "vgen.methods.svg",
    "vaegan": "vgen.methods.vaegan",
}


def get_method(name: str) -> Any:
    """Imports the method module named by `config.method`."""
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; known methods: {', '.join(sorted(METHODS))}")
    return importlib.import_module(METHODS[name])


def missing_hooks(module: ModuleType) -> list[str]:
    """The names of the `Method` contract that `module` lacks."""
    return sorted(n for n in REQUIRED if not hasattr(module, n))
