"""vgen.nn.conv: convolutions as matmuls, the same parameters, initial values and function as
the nn.Conv they stand for."""

import chex
import flax.linen as nn
import jax
import numpy as np
import pytest

from vgen.nn.conv import PatchConv, WholeMapConv


def _same_as(module, conv, x):
    params = module.init(jax.random.key(1), x)
    conv_params = conv.init(jax.random.key(1), x)
    chex.assert_trees_all_equal_shapes(params, conv_params)
    chex.assert_trees_all_close(params, conv_params)
    np.testing.assert_allclose(module.apply(params, x), conv.apply(params, x), atol=1e-5)


@pytest.mark.parametrize("grid", [1, 2])
def test_patch_conv_equals_nn_conv_on_small_grids(grid):
    """PatchConv (a 2×2 or 1×1 ConvLSTM's gates) is nn.Conv with SAME padding."""
    x = jax.random.normal(jax.random.key(0), (3, grid, grid, 5))
    _same_as(PatchConv(8), nn.Conv(8, (3, 3), padding="SAME"), x)


def test_whole_map_conv_equals_valid_conv():
    """WholeMapConv (the encoders' 4×4 -> 1×1 output) is nn.Conv with VALID padding."""
    x = jax.random.normal(jax.random.key(0), (3, 4, 4, 6))
    init = nn.initializers.normal(0.02)
    conv = nn.Conv(7, (4, 4), padding="VALID", kernel_init=init)
    _same_as(WholeMapConv(7, (4, 4), init), conv, x)
    with pytest.raises(ValueError, match="a 4×4 kernel on a"):
        WholeMapConv(7, (4, 4)).init(jax.random.key(0), x[:, :2, :2])
