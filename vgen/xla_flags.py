"""XLA:CPU options that vgen sets before JAX starts its backend (issue 14).

From jaxlib 0.10, XLA:CPU hands convolutions to YNNPACK by default. On the 2-core AVX-512 CPU
that vgen is developed on, YNNPACK's convolution gradients were the slowest part of every train
step: at SVG-LP's KTH shape (batch 4) they took 66 % of the step, and the step ran at 12.5 s
against 9.3 s with XNNPACK's convolutions and dots (YNNPACK kept for dots only), and with a
smaller peak memory (`python benchmarks/train_step.py`). The losses agree to float tolerance
(the golden-loss tests run with these options; `tests/conftest.py`).

`apply()` adds the options to ``XLA_FLAGS`` unless that already names them, so a user's own
value wins; ``VGEN_XLA_CPU_FLAGS=off`` leaves ``XLA_FLAGS`` alone. It must run before JAX's first
computation (XLA reads the variable once); `vgen.main` and the benchmarks call it first thing.
They affect only XLA:CPU's compilation: GPU and TPU programs are unchanged.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# Older jaxlibs do not know these flags, and XLA aborts on a flag it does not know.
MIN_JAXLIB = (0, 10)

CPU_FLAGS = (
    "--xla_cpu_experimental_ynn_fusion_type=individual_dot",
    "--xla_cpu_experimental_xnn_fusion_type=individual_convolution,individual_dot",
)


def _jaxlib_version() -> tuple[int, ...]:
    import jaxlib.version

    return tuple(jaxlib.version.__version_info__[:2])


def apply(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Appends the CPU_FLAGS that ``environ["XLA_FLAGS"]`` does not set; returns those added."""
    if environ.get("VGEN_XLA_CPU_FLAGS", "").lower() == "off":
        return []
    if _jaxlib_version() < MIN_JAXLIB:
        return []
    current = environ.get("XLA_FLAGS", "")
    added = [f for f in CPU_FLAGS if f.split("=", 1)[0] not in current]
    if added:
        environ["XLA_FLAGS"] = " ".join([current, *added]).strip()
    return added
