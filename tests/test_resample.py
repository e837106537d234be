"""vgen.nn.resample.upsample2x against jax.image.resize's nearest neighbour."""

import chex
import jax
import jax.numpy as jnp

from vgen.nn.resample import upsample2x


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
