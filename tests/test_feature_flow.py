"""Tests of the feature-flow operator F, its baselines and the flow correlation (vgen.ops)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vgen.ops import feature_flow as ff_lib
from vgen.ops.feature_flow import feature_flow_reference, flow_kappa

# Jitted once per shape: eager dispatch of the κ² unrolled slices costs more than compiling.
feature_flow = jax.jit(ff_lib.feature_flow)
feature_flow_naive = jax.jit(ff_lib.feature_flow_naive)
flow_correlation = jax.jit(ff_lib.flow_correlation, static_argnames=("kappa", "patch"))


def _normal(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    # NumPy, not jax.random: eager jax.random compiles anew for every shape, which dominates here.
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _inputs(seed: int, shape: tuple[int, int, int, int], kappa: int):
    """Random fixels and a random softmax flow (logits scaled up so shares are uneven)."""
    fixels = _normal(seed, shape)
    logits = 2.0 * _normal(seed + 1000, (*shape[:3], kappa * kappa))
    flow = np.exp(logits - logits.max(-1, keepdims=True))
    return jnp.asarray(fixels), jnp.asarray(flow / flow.sum(-1, keepdims=True))


def _one_hot_flow(shape: tuple[int, int, int], kappa: int, dk: int, dl: int) -> jax.Array:
    """Flow sending all mass of every fixel to offset (dk, dl)."""
    xi = kappa // 2
    flow = np.zeros((*shape, kappa * kappa), np.float32)
    flow[..., (dk + xi) * kappa + (dl + xi)] = 1.0
    return jnp.asarray(flow)


CASES = [(3, (2, 7, 7, 4)), (3, (2, 8, 6, 3)), (5, (2, 7, 7, 3)), (5, (1, 8, 6, 5))]


@pytest.mark.parametrize("kappa,shape", CASES)
def test_matches_loop_reference_and_naive(kappa, shape):
    fixels, flow = _inputs(kappa + shape[1], shape, kappa)
    expected = feature_flow_reference(np.asarray(fixels), np.asarray(flow))
    out = feature_flow(fixels, flow)
    assert out.shape == shape and out.dtype == jnp.float32
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(feature_flow_naive(fixels, flow), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kappa,shape", [(3, (2, 7, 7, 4)), (5, (2, 8, 6, 3))])
def test_gradients_match_naive(kappa, shape):
    fixels, flow = _inputs(7, shape, kappa)
    weights = jnp.asarray(_normal(3, shape))

    def functional(op):
        return lambda x, f: jnp.sum(weights * op(x, f))

    grads = jax.jit(jax.grad(functional(feature_flow), argnums=(0, 1)))(fixels, flow)
    grads_naive = jax.jit(jax.grad(functional(feature_flow_naive), argnums=(0, 1)))(fixels, flow)
    assert grads[0].shape == fixels.shape and grads[1].shape == flow.shape
    assert float(jnp.abs(grads[1]).max()) > 0.1  # not trivially zero
    chex.assert_trees_all_close(grads, grads_naive, rtol=1e-5, atol=1e-5)


def test_flow_gradient_is_scaled_correlation():
    # d/dflow <G, F(x, flow)> at (i', j', o) = Σ_c x[i', j', c] G[i'+k, j'+l, c].
    fixels, flow = _inputs(11, (2, 6, 7, 4), 3)
    target = jnp.asarray(_normal(12, fixels.shape))
    grad_flow = jax.jit(jax.grad(lambda f: jnp.sum(target * feature_flow(fixels, f))))(flow)
    expected = fixels.shape[-1] * flow_correlation(fixels, target, kappa=3)
    np.testing.assert_allclose(grad_flow, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kappa", [3, 5])
def test_mass_conserved_away_from_border(kappa):
    xi = kappa // 2
    fixels, flow = _inputs(5, (2, 9, 8, 3), kappa)
    # Fixels within ξ of the border are zero, so no mass can leave the grid.
    inner = jnp.zeros(fixels.shape[1:3]).at[xi:-xi, xi:-xi].set(1.0)
    fixels = fixels * inner[None, :, :, None]
    out = feature_flow(fixels, flow)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), fixels.sum(axis=(1, 2)), rtol=1e-5, atol=1e-5)
    assert not np.allclose(out, fixels, atol=1e-3)  # mass did move


@pytest.mark.parametrize("kappa", [1, 3, 5])
def test_identity_when_mass_stays(kappa):
    fixels, _ = _inputs(2, (2, 7, 6, 3), 3)
    flow = _one_hot_flow(fixels.shape[:3], kappa, 0, 0)
    np.testing.assert_allclose(feature_flow(fixels, flow), fixels, rtol=0, atol=0)


@pytest.mark.parametrize(
    "kappa,dk,dl", [(3, 0, 1), (3, 1, 0), (3, -1, 1), (5, 0, 1), (5, 1, 0), (5, 2, -2)]
)
def test_one_hot_offset_moves_a_fixel(kappa, dk, dl):
    fixels = jnp.zeros((1, 7, 8, 2)).at[0, 3, 4].set(jnp.array([1.5, -2.0]))
    out = feature_flow(fixels, _one_hot_flow(fixels.shape[:3], kappa, dk, dl))
    # (0, 1) moves one column right, (1, 0) one row down.
    expected = jnp.zeros_like(fixels).at[0, 3 + dk, 4 + dl].set(jnp.array([1.5, -2.0]))
    np.testing.assert_array_equal(out, expected)


def test_mass_leaving_the_grid_is_lost():
    fixels = jnp.zeros((1, 5, 5, 2)).at[0, 2, 4].set(1.0).at[0, 4, 1].set(2.0)
    right = feature_flow(fixels, _one_hot_flow((1, 5, 5), 3, 0, 1))
    np.testing.assert_array_equal(right, jnp.zeros_like(fixels).at[0, 4, 2].set(2.0))
    down = feature_flow(fixels, _one_hot_flow((1, 5, 5), 3, 1, 0))
    np.testing.assert_array_equal(down, jnp.zeros_like(fixels).at[0, 3, 4].set(1.0))
    # With random flows and mass on the border some of it leaves.
    x, f = _inputs(9, (2, 6, 6, 3), 5)
    x = jnp.abs(x)
    assert np.all(np.asarray(feature_flow(x, f).sum(axis=(1, 2))) < np.asarray(x.sum(axis=(1, 2))))


def test_eager_jit_and_bfloat16():
    fixels, flow = _inputs(4, (2, 5, 4, 3), 3)
    np.testing.assert_allclose(
        ff_lib.feature_flow(fixels, flow), feature_flow(fixels, flow), atol=1e-6
    )

    fixels, flow = _inputs(4, (2, 8, 6, 8), 5)
    out_bf16 = feature_flow(fixels.astype(jnp.bfloat16), flow.astype(jnp.bfloat16))
    assert out_bf16.dtype == jnp.bfloat16
    np.testing.assert_allclose(
        out_bf16.astype(jnp.float32), feature_flow(fixels, flow), rtol=3e-2, atol=3e-2
    )
    grads = jax.jit(jax.grad(lambda x, f: jnp.sum(feature_flow(x, f) ** 2), argnums=(0, 1)))(
        fixels.astype(jnp.bfloat16), flow.astype(jnp.bfloat16)
    )
    assert grads[0].dtype == grads[1].dtype == jnp.bfloat16


def test_forward_mode_and_second_order():
    fixels, flow = _inputs(6, (1, 6, 5, 3), 3)
    tangents = _inputs(8, (1, 6, 5, 3), 3)
    # F is bilinear: its jvp is F(dx, f) + F(x, df).
    _, jvp = jax.jit(lambda p, t: jax.jvp(feature_flow, p, t))((fixels, flow), tangents)
    expected = feature_flow(tangents[0], flow) + feature_flow(fixels, tangents[1])
    np.testing.assert_allclose(jvp, expected, rtol=1e-5, atol=1e-5)

    def grad_penalty(op):
        return lambda f: jnp.sum(jax.grad(lambda x: jnp.sum(op(x, f) ** 2))(fixels) ** 2)

    chex.assert_trees_all_close(
        jax.jit(jax.grad(grad_penalty(feature_flow)))(flow),
        jax.jit(jax.grad(grad_penalty(feature_flow_naive)))(flow),
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.parametrize(
    "fixels_shape,flow_shape,match",
    [
        ((1, 4, 4, 2), (1, 4, 4, 8), "not a perfect square"),
        ((1, 4, 4, 2), (1, 4, 4, 4), "must be odd"),
        ((1, 4, 4, 2), (1, 4, 4, 16), "must be odd"),
        ((1, 4, 4, 2), (1, 4, 4, 0), "not a perfect square"),
        ((1, 4, 4, 2), (2, 4, 4, 9), "agree on B, H, W"),
        ((1, 4, 4, 2), (1, 4, 5, 9), "agree on B, H, W"),
        ((4, 4, 2), (4, 4, 9), r"\[B, H, W, C\]"),
    ],
)
def test_bad_shapes_raise(fixels_shape, flow_shape, match):
    for op in (ff_lib.feature_flow, ff_lib.feature_flow_naive, feature_flow):
        with pytest.raises(ValueError, match=match):
            op(jnp.zeros(fixels_shape), jnp.zeros(flow_shape))
    with pytest.raises(ValueError, match=match):
        feature_flow_reference(np.zeros(fixels_shape), np.zeros(flow_shape))


def test_flow_kappa():
    assert [flow_kappa(n) for n in (1, 9, 25, 49)] == [1, 3, 5, 7]


def _correlation_reference(prev, curr, kappa, patch):
    prev, curr = np.asarray(prev, np.float64), np.asarray(curr, np.float64)
    b_, h, w, c = prev.shape
    xi, p = kappa // 2, patch // 2
    out = np.zeros((b_, h, w, kappa * kappa))

    def at(a, b, i, j):
        return a[b, i, j] if 0 <= i < h and 0 <= j < w else np.zeros(c)

    for b in range(b_):
        for i in range(h):
            for j in range(w):
                for dk in range(-xi, xi + 1):
                    for dl in range(-xi, xi + 1):
                        total = 0.0
                        for m in range(-p, p + 1):
                            for n in range(-p, p + 1):
                                total += at(prev, b, i + m, j + n) @ at(
                                    curr, b, i + dk + m, j + dl + n
                                )
                        out[b, i, j, (dk + xi) * kappa + (dl + xi)] = total / (c * patch * patch)
    return out


@pytest.mark.parametrize("patch", [1, 3])
def test_flow_correlation_matches_loop_reference(patch):
    prev = jnp.asarray(_normal(patch, (2, 5, 6, 3)))
    curr = jnp.asarray(_normal(patch + 1, (2, 5, 6, 3)))
    out = flow_correlation(prev, curr, kappa=3, patch=patch)
    assert out.shape == (2, 5, 6, 9)
    np.testing.assert_allclose(out, _correlation_reference(prev, curr, 3, patch), atol=1e-5)


@pytest.mark.parametrize("dk,dl", [(0, 1), (1, 0), (-1, -1)])
def test_flow_correlation_peaks_at_the_motion(dk, dl):
    kappa = 3
    prev = jnp.asarray(_normal(0, (1, 10, 10, 32)))
    # Every fixel moved by (dk, dl): curr[i + dk, j + dl] = prev[i, j].
    curr = jnp.roll(prev, (dk, dl), axis=(1, 2))
    scores = flow_correlation(prev, curr, kappa)
    best = np.asarray(jnp.argmax(scores, axis=-1))[0, 1:-1, 1:-1]  # away from the wrap-around
    np.testing.assert_array_equal(best, (dk + 1) * kappa + (dl + 1))
    # F with the matching one-hot flow turns prev into curr (away from the wrap-around).
    moved = feature_flow(prev, jax.nn.one_hot(jnp.argmax(scores, axis=-1), kappa * kappa))
    np.testing.assert_allclose(moved[0, 2:-2, 2:-2], curr[0, 2:-2, 2:-2], atol=1e-6)


def test_flow_correlation_bad_arguments():
    x = jnp.zeros((1, 4, 4, 2))
    flow_correlation = ff_lib.flow_correlation
    with pytest.raises(ValueError, match="kappa"):
        flow_correlation(x, x, kappa=2)
    with pytest.raises(ValueError, match="patch"):
        flow_correlation(x, x, kappa=3, patch=2)
    with pytest.raises(ValueError, match="one shape"):
        flow_correlation(x, jnp.zeros((1, 4, 5, 2)), kappa=3)
