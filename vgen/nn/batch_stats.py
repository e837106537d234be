"""Applying a module whose batch norm keeps running statistics ("batch_stats")."""

from collections.abc import Callable
from typing import Any

import flax.linen as nn


def apply_with_stats(
    module: nn.Module,
    params: Any,
    batch_stats: Any,
    *args: Any,
    train: bool,
    method: Callable | None = None,
) -> tuple[Any, Any]:
    """module.apply (or its `method`) on args with `train=train` -> (output, batch stats):
    in training mode batch norm uses the batch's statistics and returns the updated running
    averages; otherwise it reads the running averages, returned unchanged."""
    variables = {"params": params, "batch_stats": batch_stats}
    if not train:
        return module.apply(variables, *args, train=False, method=method), batch_stats
    out, new = module.apply(variables, *args, train=True, method=method, mutable=["batch_stats"])
    return out, new["batch_stats"]
