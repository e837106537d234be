"""vgen.nn.conv: convolutions as matmuls, the same parameters, initial values and function as
the nn.Conv they stand for."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vgen.nn.conv import PatchConv, SkipConv, WholeMapConv


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


def test_skip_conv_is_nn_conv_of_the_concatenation_values_and_gradients():
    """SkipConv(x, skip, index) = nn.Conv(concat[x, skip[index]]): same parameters, initial
    values, outputs and gradients, with the skip's convolution on its distinct maps only."""
    x = jax.random.normal(jax.random.key(0), (5, 6, 6, 3))
    skip = jax.random.normal(jax.random.key(1), (2, 6, 6, 4))
    index = jnp.array([0, 1, 1, 0, 1])
    conv = nn.Conv(8, (3, 3), padding="SAME")
    params = SkipConv(8).init(jax.random.key(2), x, skip, index)
    conv_params = conv.init(jax.random.key(2), jnp.concatenate([x, skip[index]], -1))
    chex.assert_trees_all_equal(params, conv_params)

    def loss(f):
        return lambda params, x, skip: jnp.sum(jnp.sin(f(params, x, skip)))

    ours = loss(lambda p, x, s: SkipConv(8).apply(p, x, s, index))
    theirs = loss(lambda p, x, s: conv.apply(p, jnp.concatenate([x, s[index]], -1)))
    np.testing.assert_allclose(ours(params, x, skip), theirs(params, x, skip), rtol=1e-5)
    grads = [jax.grad(f, argnums=(0, 1, 2))(params, x, skip) for f in (ours, theirs)]
    chex.assert_trees_all_close(*grads, atol=1e-4)
    # Without an index, row n reads skip n.
    same = jnp.concatenate([x[:2], skip], -1)
    np.testing.assert_allclose(
        SkipConv(8).apply(params, x[:2], skip, None), conv.apply(params, same), atol=1e-5
    )


@pytest.mark.parametrize("options", [dict(stride=2), dict(transpose=True, kernel=4, stride=2)])
def test_a_conv_block_with_a_skip_refuses_stride_and_transpose(options):
    """ConvBlock's skip and upsample paths are 3×3 stride-1 convolutions: other options are an
    error, not silently dropped."""
    from vgen.nn.encoders import ConvBlock

    x = jnp.ones((2, 4, 4, 3))
    block = ConvBlock(8, train=True, **options)
    with pytest.raises(ValueError, match="stride 1"):
        block.init(jax.random.key(0), x, skip=x)
    with pytest.raises(ValueError, match="stride 1"):
        block.init(jax.random.key(0), x, upsample=True)
