"""vgen.nn.resample against the operations it stands for: upsample2x against jax.image.resize's
nearest neighbour, conv3x3_upsampled against the convolution of the upsampled map, max_pool2x2
against nn.max_pool."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.resample import conv3x3_upsampled, max_pool2x2, upsample2x


def test_upsample2x_is_nearest_resize_values_and_gradient():
    x = jax.random.normal(jax.random.key(0), (2, 3, 5, 4))
    resize = lambda x: jax.image.resize(x, (2, 6, 10, 4), "nearest")
    chex.assert_trees_all_equal(upsample2x(x), resize(x))
    # A weighted sum, so that each output pixel's gradient differs.
    w = jax.random.normal(jax.random.key(1), (2, 6, 10, 4))
    grad = lambda f: jax.grad(lambda x: jnp.sum(w * f(x)))(x)
    chex.assert_trees_all_close(grad(upsample2x), grad(resize), atol=1e-6)
    assert upsample2x(jnp.arange(4.0).reshape(1, 2, 2, 1))[0, :, :, 0].tolist() == [
        [0, 0, 1, 1],
        [0, 0, 1, 1],
        [2, 2, 3, 3],
        [2, 2, 3, 3],
    ]


def test_conv3x3_upsampled_is_the_convolution_of_the_upsampled_map():
    x = jax.random.normal(jax.random.key(0), (2, 4, 5, 3))
    kernel = jax.random.normal(jax.random.key(1), (3, 3, 3, 6))

    def reference(x, kernel):
        dims = ("NHWC", "HWIO", "NHWC")
        return jax.lax.conv_general_dilated(
            upsample2x(x), kernel, (1, 1), "SAME", dimension_numbers=dims
        )

    chex.assert_trees_all_close(conv3x3_upsampled(x, kernel), reference(x, kernel), atol=1e-5)
    w = jax.random.normal(jax.random.key(2), (2, 8, 10, 6))
    grad = lambda f: jax.grad(lambda x, k: jnp.sum(w * f(x, k)), argnums=(0, 1))(x, kernel)
    chex.assert_trees_all_close(grad(conv3x3_upsampled), grad(reference), atol=1e-4)


def test_max_pool2x2_is_nn_max_pool_values_and_gradient():
    # Odd height: nn.max_pool (VALID) drops the last row, and so must max_pool2x2.
    x = jax.random.normal(jax.random.key(0), (2, 7, 6, 3))
    reference = lambda x: nn.max_pool(x, (2, 2), strides=(2, 2))
    chex.assert_trees_all_equal(max_pool2x2(x), reference(x))
    w = jax.random.normal(jax.random.key(1), (2, 3, 3, 3))
    grad = lambda f: jax.grad(lambda x: jnp.sum(w * f(x)))(x)
    chex.assert_trees_all_close(grad(max_pool2x2), grad(reference), atol=1e-6)
    x = jnp.array([[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 7.0, 6.0]]).reshape(1, 2, 4, 1)
    assert max_pool2x2(x)[0, :, :, 0].tolist() == [[5.0, 7.0]]
    # The gradient reaches each block's maximum only.
    g = jax.grad(lambda x: jnp.sum(max_pool2x2(x)))(x)[0, :, :, 0]
    assert g.tolist() == [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
