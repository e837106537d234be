"""ConvLSTM: the layer equals the gate equations of Shi et al. (2015) computed by hand in NumPy
from the layer's own parameters (with SVG's forget-gate bias of +1 and, optionally, weight
normalisation), the cell stepped by hand equals the scanned layer, and it carries memory."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vgen.nn.convlstm import ConvLSTM, ConvLSTMCell


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def conv_same(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Cross-correlation with zero "SAME" padding, as lax.conv: x [B, H, W, C], kernel
    [kh, kw, C, F] (odd sizes), bias [F] -> [B, H, W, F]."""
    kh, kw = kernel.shape[:2]
    b, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    out = np.zeros((b, h, w, kernel.shape[-1]))
    for dy in range(kh):
        for dx in range(kw):
            out += padded[:, dy : dy + h, dx : dx + w] @ kernel[dy, dx]
    return out + bias


def hand_convlstm(xs: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """xs [B, T, H, W, C] from a zero state -> h_t [B, T, H, W, F], in float64:
    [i, f, g, o] = conv([x_t, h_{t-1}]) + b,  c_t = σ(f + 1) c_{t-1} + σ(i) tanh(g),
    h_t = σ(o) tanh(c_t)."""
    features = kernel.shape[-1] // 4
    c = np.zeros((*xs.shape[:1], *xs.shape[2:4], features))
    h = np.zeros_like(c)
    out = []
    for t in range(xs.shape[1]):
        z = conv_same(np.concatenate([xs[:, t], h], axis=-1), kernel, bias)
        i, f, g, o = (z[..., k * features : (k + 1) * features] for k in range(4))
        c = sigmoid(f + 1.0) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        out.append(h)
    return np.stack(out, axis=1)


def effective_kernel(cell_params: dict) -> np.ndarray:
    """The convolution's kernel; with weight norm, scale * kernel / ||kernel|| per output
    feature (the norm over the other axes)."""
    kernel = np.asarray(cell_params["gates"]["kernel"], np.float64)
    if "WeightNorm_0" not in cell_params:
        return kernel
    scale = np.asarray(cell_params["WeightNorm_0"]["gates/kernel/scale"], np.float64)
    return scale * kernel / np.sqrt((kernel**2).sum(axis=(0, 1, 2)))


@pytest.mark.parametrize("weight_norm", [False, True])
def test_layer_equals_hand_computed_gates(weight_norm):
    xs = jax.random.normal(jax.random.key(0), (2, 4, 5, 6, 3))
    layer = ConvLSTM(4, weight_norm=weight_norm)
    params = layer.init(jax.random.key(1), xs)
    cell = params["params"]["cell"]
    assert cell["gates"]["kernel"].shape == (3, 3, 3 + 4, 4 * 4)
    # Random biases and scales: the +1 forget bias and the scale must be where they belong.
    cell = jax.tree.map(lambda p: p + jax.random.uniform(jax.random.key(2), p.shape) - 0.5, cell)
    params = {"params": {"cell": cell}}
    ys = layer.apply(params, xs)
    chex.assert_shape(ys, (2, 4, 5, 6, 4))
    kernel = effective_kernel(cell)
    expected = hand_convlstm(np.asarray(xs, np.float64), kernel, np.asarray(cell["gates"]["bias"]))
    np.testing.assert_allclose(ys, expected, rtol=1e-4, atol=1e-5)


def test_cell_stepped_by_hand_equals_the_layer():
    xs = jax.random.normal(jax.random.key(0), (2, 5, 6, 6, 3))
    layer = ConvLSTM(4)
    params = layer.init(jax.random.key(1), xs)
    ys = layer.apply(params, xs)
    cell_params = {"params": params["params"]["cell"]}
    carry = ConvLSTMCell.zero_carry((2, 6, 6), 4)
    chex.assert_trees_all_equal(carry, (jnp.zeros((2, 6, 6, 4)),) * 2)
    for t in range(5):
        carry, y = ConvLSTMCell(4).apply(cell_params, carry, xs[:, t])
        chex.assert_trees_all_close(y, ys[:, t], carry[1], atol=1e-5)


def test_output_depends_on_the_past():
    xs = jax.random.normal(jax.random.key(0), (1, 4, 5, 5, 2))
    layer = ConvLSTM(3, weight_norm=True)
    params = layer.init(jax.random.key(1), xs)
    changed = xs.at[:, 0].add(1.0)
    a, b = layer.apply(params, xs), layer.apply(params, changed)
    assert float(jnp.abs(a[:, 3] - b[:, 3]).max()) > 1e-4  # the last step remembers step 0
