"""SVG's fully connected LSTMs (vgen.nn.lstm): the frame predictor and the Gaussian LSTM, scanned
over time from a random state, equal the LSTM equations computed by hand in NumPy from their own
parameters (embedding, stacked cells, heads, reparameterisation), final state included."""

import jax
import numpy as np
import pytest

from vgen.nn import lstm

B, T, D, HIDDEN = 3, 5, 6, 8


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def dense(p: dict, x: np.ndarray) -> np.ndarray:
    return x @ p["kernel"] + p.get("bias", 0.0)


def hand_cell(p: dict, carry: tuple, x: np.ndarray) -> tuple:
    """One LSTM cell (Hochreiter & Schmidhuber; flax's gate names): carry (c, h) -> (c, h).
    i = σ(W_ii x + W_hi h + b_i), f = σ(...), g = tanh(...), o = σ(...),
    c' = f c + i g, h' = o tanh(c')."""
    c, h = carry
    gate = lambda k: dense(p["i" + k], x) + dense(p["h" + k], h)
    i, f, g, o = sigmoid(gate("i")), sigmoid(gate("f")), np.tanh(gate("g")), sigmoid(gate("o"))
    c = f * c + i * g
    return c, o * np.tanh(c)


def hand_stack(p: dict, carry: tuple, x: np.ndarray) -> tuple[tuple, np.ndarray]:
    """Linear embedding, then the stacked cells, each fed the hidden state of the one below."""
    h = dense(p["embed"], x)
    new = []
    for i, state in enumerate(carry):
        state = hand_cell(p[f"cell_{i}"], state, h)
        new.append(state)
        h = state[1]
    return tuple(new), h


def random_params(params: dict, seed: int) -> dict:
    """Every parameter redrawn from N(0, 0.5²): SVG's N(0, 0.02) initial weights would leave the
    gates near 0.5 and the cells nearly linear."""
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    return tree.unflatten(
        [0.5 * jax.random.normal(k, leaf.shape) for k, leaf in zip(keys, leaves, strict=True)]
    )


def random_carry(layers: int, seed: int) -> tuple:
    keys = iter(jax.random.split(jax.random.key(seed), 2 * layers))
    return tuple(
        (jax.random.normal(next(keys), (B, HIDDEN)), jax.random.normal(next(keys), (B, HIDDEN)))
        for _ in range(layers)
    )


def as_numpy(tree):
    return jax.tree.map(lambda a: np.asarray(a, np.float64), tree)


def assert_close(got, expected):
    jax.tree.map(lambda g, e: np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5), got, expected)


def test_zero_carry():
    carry = lstm.zero_carry(B, HIDDEN, 2)
    assert len(carry) == 2 and all(len(state) == 2 for state in carry)
    for a in jax.tree.leaves(carry):
        assert a.shape == (B, HIDDEN) and not np.any(a)


@pytest.mark.parametrize("layers", [1, 2])
def test_predictor_equals_hand_computation(layers):
    xs = jax.random.normal(jax.random.key(0), (B, T, D))
    carry = random_carry(layers, 1)
    params = lstm.LSTM(7, HIDDEN, layers).init(jax.random.key(2), carry, xs[:, 0])
    params = random_params(params, 3)
    final, ys = lstm.over_time(lstm.LSTM)(7, HIDDEN, layers).apply(params, carry, xs)
    assert ys.shape == (B, T, 7)

    p, state, expected = as_numpy(params["params"]), as_numpy(carry), []
    for t in range(T):
        state, h = hand_stack(p["stack"], state, np.asarray(xs[:, t], np.float64))
        expected.append(np.tanh(dense(p["out"], h)))
    assert_close(ys, np.stack(expected, axis=1))
    assert_close(final, state)


@pytest.mark.parametrize("layers", [1, 2])
def test_gaussian_lstm_equals_hand_computation(layers):
    xs = jax.random.normal(jax.random.key(0), (B, T, D))
    eps = jax.random.normal(jax.random.key(1), (B, T, 4))
    carry = random_carry(layers, 2)
    cell = lstm.GaussianLSTM(4, HIDDEN, layers)
    params = random_params(cell.init(jax.random.key(3), carry, xs[:, 0], eps[:, 0]), 4)
    final, (z, mu, logvar) = lstm.over_time(lstm.GaussianLSTM)(4, HIDDEN, layers).apply(
        params, carry, xs, eps
    )
    assert z.shape == mu.shape == logvar.shape == (B, T, 4)

    p, state, expected = as_numpy(params["params"]), as_numpy(carry), []
    for t in range(T):
        state, h = hand_stack(p["stack"], state, np.asarray(xs[:, t], np.float64))
        m, lv = dense(p["mu"], h), dense(p["logvar"], h)
        expected.append((m + np.exp(0.5 * lv) * np.asarray(eps[:, t], np.float64), m, lv))
    assert_close((z, mu, logvar), tuple(np.stack(e, axis=1) for e in zip(*expected, strict=True)))
    assert_close(final, state)
