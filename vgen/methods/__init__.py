"""Model families. Each module exports the same small interface, chosen by `config.method`.

init(config, rng, example_batch) -> TrainState
train_step(config, state, batch, rng) -> (TrainState, metrics)
eval_step(config, state, batch, rng) -> metrics
sample(config, state, context, rng, horizon) -> video [B, horizon, H, W, C]
write_figures(config, state, batch, rng, outdir) -> {name: path}   optional: a method's own
    figures, written by the loop with each sample grid and by `--mode sample`

`context` is the batch with its video cut to the context frames (`vgen.data.pipeline.context_of`):
{"video": [B, c, H, W, C]} plus, where the data has them, "cond" [B, c + horizon, D] (the
condition of every frame, future included) and "label" [B].
"""

import importlib
from types import ModuleType

from vgen.errors import ConfigError

# The one place where method names map to modules.
METHODS = {
    "ali": "vgen.methods.ali",
    "ffgan": "vgen.methods.ffgan",
    "mvae": "vgen.methods.mvae",
    "rali": "vgen.methods.rali",
    "svg": "vgen.methods.svg",
    "vaegan": "vgen.methods.vaegan",
}


def get_method(name: str) -> ModuleType:
    """Imports the method module named by `config.method`."""
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; known methods: {', '.join(sorted(METHODS))}")
    return importlib.import_module(METHODS[name])
