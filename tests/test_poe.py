"""Product-of-experts fusion and the subsampled ELBO of the multimodal VAE (Wu & Goodman 2018)."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np

from vgen import losses


def test_two_experts_and_the_prior_match_the_closed_form():
    mu = jnp.array([[0.5, -1.0], [2.0, 0.3]])
    logvar = jnp.array([[0.2, -1.5], [-0.7, 1.1]])
    t1, t2 = np.exp(-logvar[0]), np.exp(-logvar[1])
    total = 1.0 + t1 + t2
    want_mu = (t1 * mu[0] + t2 * mu[1]) / total
    got_mu, got_logvar = losses.product_of_experts(mu, logvar)
    np.testing.assert_allclose(got_mu, want_mu, rtol=1e-6)
    np.testing.assert_allclose(got_logvar, -np.log(total), rtol=1e-6)


def test_masked_experts_are_dropped_and_all_masked_is_the_prior():
    rng = np.random.default_rng(0)
    mu, logvar = jnp.asarray(rng.normal(size=(3, 4, 5))), jnp.asarray(rng.normal(size=(3, 4, 5)))
    only_first = losses.product_of_experts(mu, logvar, jnp.array([True, False, False]))
    chex.assert_trees_all_close(only_first, losses.product_of_experts(mu[:1], logvar[:1]))
    prior_mu, prior_logvar = losses.product_of_experts(mu, logvar, jnp.zeros(3, bool))
    np.testing.assert_array_equal(prior_mu, 0.0)
    np.testing.assert_array_equal(prior_logvar, 0.0)
    # A per-example mask [M, B]: example 1 has only expert 2, the others every expert.
    mask = jnp.ones((3, 4), bool).at[:2, 1].set(False)
    got = losses.product_of_experts(mu, logvar, mask)
    chex.assert_trees_all_close(
        jax.tree.map(lambda a: a[1], got), losses.product_of_experts(mu[2:, 1], logvar[2:, 1])
    )
    chex.assert_trees_all_close(
        jax.tree.map(lambda a: a[0], got), losses.product_of_experts(mu[:, 0], logvar[:, 0])
    )


def test_invariant_to_expert_order():
    rng = np.random.default_rng(1)
    mu, logvar = jnp.asarray(rng.normal(size=(4, 6))), jnp.asarray(rng.normal(size=(4, 6)))
    mask = jnp.array([True, False, True, True])
    want = losses.product_of_experts(mu, logvar, mask)
    for order in itertools.permutations(range(4)):
        order = jnp.array(order)
        chex.assert_trees_all_close(
            losses.product_of_experts(mu[order], logvar[order], mask[order]), want, rtol=1e-6
        )


def test_finite_values_and_gradients_at_extreme_log_variances():
    mu = jnp.array([[1.0, -2.0, 3.0], [0.5, 0.5, 0.5]])
    logvar = jnp.array([[-200.0, 90.0, 0.0], [150.0, -120.0, -300.0]])
    for mask in (None, jnp.array([True, False]), jnp.array([False, True])):
        out = losses.product_of_experts(mu, logvar, mask)
        assert all(bool(jnp.all(jnp.isfinite(a))) for a in out)

        def loss(mu, logvar, mask=mask):
            joint_mu, joint_logvar = losses.product_of_experts(mu, logvar, mask)
            return jnp.sum(joint_mu) + jnp.sum(joint_logvar)

        grads = jax.grad(loss, argnums=(0, 1))(mu, logvar)
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)
    # A near-certain expert dominates; an expert with a huge variance is the prior's.
    joint_mu, joint_logvar = losses.product_of_experts(mu, logvar)
    np.testing.assert_allclose(joint_mu[0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(joint_logvar[0], -200.0, rtol=1e-6)
    np.testing.assert_allclose(joint_mu[2], 0.5, rtol=1e-6)  # logvar -300 beats 0 and the prior


def test_elbo_subsets_rows_and_reproducibility():
    subsets = losses.elbo_subsets(jax.random.key(0), 3, 5)
    chex.assert_shape(subsets, (9, 3))
    np.testing.assert_array_equal(subsets[0], True)
    np.testing.assert_array_equal(subsets[1:4], np.eye(3, dtype=bool))
    assert bool(jnp.all(jnp.any(subsets[4:], axis=1)))  # never empty
    chex.assert_trees_all_equal(subsets, losses.elbo_subsets(jax.random.key(0), 3, 5))
    many = losses.elbo_subsets(jax.random.key(1), 3, 700)[4:]
    codes = np.asarray(many) @ np.array([1, 2, 4])
    counts = np.bincount(codes, minlength=8)
    assert counts[0] == 0 and counts[1:].min() > 60  # all 7 non-empty subsets, about 100 each


def test_subsampled_elbo_by_hand():
    """Two modalities, subsets {a, b}, {a}, {b}: the slides' ELBO(x_a, x_b) + ELBO(x_a) +
    ELBO(x_b), with λ = (2, 0.5), β = 0.1 and one clip."""
    ll = jnp.array([[-1.0, -2.0], [-3.0, -40.0], [-50.0, -4.0]])[..., None]  # [S, M, B=1]
    kl = jnp.array([0.5, 1.0, 2.0])[:, None]
    subsets = jnp.array([[True, True], [True, False], [False, True]])
    got = losses.subsampled_elbo(ll, kl, subsets, jnp.array([2.0, 0.5]), 0.1)
    joint = 2 * -1.0 + 0.5 * -2.0 - 0.1 * 0.5
    only_a = 2 * -3.0 - 0.1 * 1.0  # -40 belongs to b, which is not in the subset
    only_b = 0.5 * -4.0 - 0.1 * 2.0
    np.testing.assert_allclose(got, [joint + only_a + only_b], rtol=1e-6)
    # Ignored entries may be anything, even non-finite.
    ll = ll.at[1, 1].set(jnp.nan)
    np.testing.assert_allclose(
        losses.subsampled_elbo(ll, kl, subsets, jnp.array([2.0, 0.5]), 0.1), got, rtol=1e-6
    )
