"""vgen.nn.resample.upsample2x against jax.image.resize's nearest neighbour."""

import chex
import jax
import jax.numpy as jnp

from vgen.nn.resample import conv3x3_upsampled, upsample2x


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
