"""ConvLSTM: the scanned layer equals the cell applied step by step, and it carries memory."""

import chex
import jax
import jax.numpy as jnp

from vgen.nn.convlstm import ConvLSTM, ConvLSTMCell


def test_layer_matches_cell_loop():
    xs = jax.random.normal(jax.random.key(0), (2, 5, 6, 6, 3))
    layer = ConvLSTM(4)
    params = layer.init(jax.random.key(1), xs)
    ys = layer.apply(params, xs)
    chex.assert_shape(ys, (2, 5, 6, 6, 4))

    cell = ConvLSTMCell(4)
    cell_params = {"params": params["params"]["cell"]}
    carry = ConvLSTMCell.zero_carry((2, 6, 6), 4)
    for t in range(5):
        carry, y = cell.apply(cell_params, carry, xs[:, t])
        chex.assert_trees_all_close(y, ys[:, t], atol=1e-5)


def test_output_depends_on_the_past():
    xs = jax.random.normal(jax.random.key(0), (1, 4, 5, 5, 2))
    layer = ConvLSTM(3, weight_norm=True)
    params = layer.init(jax.random.key(1), xs)
    changed = xs.at[:, 0].add(1.0)
    a, b = layer.apply(params, xs), layer.apply(params, changed)
    assert float(jnp.abs(a[:, 3] - b[:, 3]).max()) > 1e-4  # the last step remembers step 0
