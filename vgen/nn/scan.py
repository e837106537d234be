"""How scans over time are compiled, and the one way a module is scanned over time."""

from typing import Any

import flax.linen as nn
import jax


def time_unroll() -> int | bool:
    """The `unroll` argument of every scan over time.

    XLA:CPU runs convolutions inside a while-loop body far slower than at top level (a ConvLSTM
    layer's backward pass: 757 ms rolled vs 34 ms unrolled, B=16, T=8, 4x4x64), so on CPU time
    loops are unrolled fully; accelerators keep the rolled loop, which compiles faster.
    """
    return True if jax.default_backend() == "cpu" else 1


def over_time(
    target,
    in_axes: Any = 1,
    out_axes: Any = 1,
    variable_broadcast: Any = "params",
    convolutions: bool = True,
    **kw,
):
    """A module class or a `fn(module, carry, *xs)` scanned over time (flax `nn.scan`): the time
    axis of the inputs is `in_axes`, of the stacked outputs `out_axes`; parameters (and
    whatever else `variable_broadcast` names) are shared across steps.

    convolutions=False: the body has none (an LSTM), and the loop stays rolled on every backend.
    Unrolled, SVG-LP's LSTMs were 70 % of its KTH-shape step's HLO (89,552 lines against 26,275
    rolled) and raised the step's peak RSS by 0.2 GB at batch 4 on the 2-core CPU; rolled, the
    step is as fast (9.20 and 9.78 s against 9.28 and 9.64 s unrolled, idle CPU; issue 14)."""
    return nn.scan(
        target,
        variable_broadcast=variable_broadcast,
        split_rngs={"params": False},
        in_axes=in_axes,
        out_axes=out_axes,
        unroll=time_unroll() if convolutions else 1,
        **kw,
    )


def scan_over_time(
    body, in_axes: tuple, variable_broadcast: Any = "params", convolutions: bool = True, **kw
):
    """`body(module, carry, inputs)` scanned over time: `inputs` is one tuple whose axes are
    `in_axes`; outputs are stacked on axis 1. `convolutions`: as in `over_time`."""
    return over_time(body, (in_axes,), 1, variable_broadcast, convolutions, **kw)
