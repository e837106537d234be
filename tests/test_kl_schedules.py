"""Gaussian KL and likelihood against closed forms and Monte Carlo; KL annealing and teacher
forcing schedules against the lab report's definitions (per-epoch tables, written out here)."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from vgen import losses, schedules

# ---------------------------------------------------------------------------- Gaussian KL


def test_kl_to_standard_normal_is_svg_fp_formula():
    """SVG-FP: -0.5 * (1 + logvar - mu^2 - exp(logvar)) per element."""
    mu, logvar = jnp.array([0.0, 1.5, -0.3]), jnp.array([0.0, -1.0, 0.7])
    want = -0.5 * (1 + logvar - mu**2 - jnp.exp(logvar))
    got = losses.gaussian_kl(mu, logvar, jnp.zeros(3), jnp.zeros(3))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert float(got[0]) == 0.0


def test_kl_between_gaussians_is_svg_lp_formula():
    """SVG-LP: log(s2 / s1) + (s1^2 + (mu1 - mu2)^2) / (2 s2^2) - 1/2."""
    rng = np.random.default_rng(0)
    mu1, lv1, mu2, lv2 = (rng.normal(size=(4, 5)) for _ in range(4))
    s1, s2 = np.exp(0.5 * lv1), np.exp(0.5 * lv2)
    want = np.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5
    np.testing.assert_allclose(losses.gaussian_kl(mu1, lv1, mu2, lv2), want, rtol=1e-5, atol=1e-6)


def test_kl_is_zero_iff_equal_and_positive_otherwise():
    mu, lv = jnp.array([0.3, -2.0]), jnp.array([0.5, -1.0])
    np.testing.assert_allclose(losses.gaussian_kl(mu, lv, mu, lv), 0.0, atol=1e-7)
    assert bool(jnp.all(losses.gaussian_kl(mu, lv, mu + 0.1, lv) > 0))
    assert bool(jnp.all(losses.gaussian_kl(mu, lv, mu, lv + 0.1) > 0))


@pytest.mark.parametrize(
    "mu_q, logvar_q, mu_p, logvar_p",
    [(0.5, -0.4, 0.0, 0.0), (-1.0, 0.3, 0.7, -0.5), (2.0, -2.0, 1.5, 0.8)],
)
def test_kl_matches_monte_carlo(mu_q, logvar_q, mu_p, logvar_p):
    """E_q[log q(z) - log p(z)] from 200k samples, within 4 standard errors."""
    z = mu_q + np.exp(0.5 * logvar_q) * jax.random.normal(jax.random.key(0), (200_000,))
    log_ratio = losses.gaussian_log_likelihood(z, mu_q, logvar_q) - losses.gaussian_log_likelihood(
        z, mu_p, logvar_p
    )
    estimate, se = float(jnp.mean(log_ratio)), float(jnp.std(log_ratio)) / np.sqrt(z.size)
    exact = float(losses.gaussian_kl(mu_q, logvar_q, mu_p, logvar_p))
    assert abs(estimate - exact) < 4 * se + 1e-4, (estimate, exact, se)


def test_gaussian_log_likelihood_is_scaled_negative_mse():
    x, m = jnp.array([0.2, 0.9]), jnp.array([0.0, 1.0])
    ll = losses.gaussian_log_likelihood(x, m, 0.0)
    np.testing.assert_allclose(ll, -0.5 * np.log(2 * np.pi) - 0.5 * (x - m) ** 2, rtol=1e-6)
    sigma = 0.3
    ll = losses.gaussian_log_likelihood(x, m, 2 * np.log(sigma))
    want = -np.log(sigma * np.sqrt(2 * np.pi)) - (x - m) ** 2 / (2 * sigma**2)
    np.testing.assert_allclose(ll, want, rtol=1e-5)


# ---------------------------------------------------------------- the lab report's schedules


def lab_kl_table(niter: int, cyclical: bool, cycles: int, ratio: float) -> np.ndarray:
    """The report's kl_annealing class: one β per epoch, written as in the report."""
    if not cyclical:
        cycles = 1
    period = niter / cycles
    step = 1.0 / (period * ratio)
    table = np.ones(niter)
    for c in range(cycles):
        v, i = 0.0, 0
        while v <= 1.0 and int(i + c * period) < niter:
            table[int(i + c * period)] = v
            v += step
            i += 1
    return table


def lab_tfr_table(niter: int, start: int, lower_bound: float, init: float = 1.0) -> np.ndarray:
    """The ratio each epoch trains with; the report lowers it after every epoch >= start."""
    tfr, decay, out = init, 1.0 / (niter - start - 1), []
    for epoch in range(niter):
        out.append(tfr)
        if epoch >= start:
            tfr = max(tfr - decay, lower_bound)
    return np.array(out)


@pytest.mark.parametrize(
    "niter, cycles, ratio", [(300, 3, 0.5), (100, 4, 0.25), (10, 3, 0.5), (37, 5, 0.7), (50, 1, 1)]
)
def test_cyclical_kl_matches_report(niter, cycles, ratio):
    want = lab_kl_table(niter, True, cycles, ratio)
    f = jax.jit(
        lambda s: schedules.kl_weight(
            s, kind="cyclical", num_steps=niter, cycles=cycles, ratio=ratio
        )
    )
    got = np.array([float(f(s)) for s in range(niter)])
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("niter, ratio", [(300, 0.5), (40, 0.25), (7, 1.0)])
def test_monotonic_kl_matches_report(niter, ratio):
    want = lab_kl_table(niter, False, 99, ratio)
    got = schedules.kl_weight(jnp.arange(niter), kind="monotonic", num_steps=niter, ratio=ratio)
    np.testing.assert_allclose(got, want, atol=1e-5)
    last = 1.0 if ratio < 1 else (niter - 1) / niter  # ratio 1: the last epoch is below 1
    assert float(got[0]) == 0.0 and float(got[-1]) == pytest.approx(last)


def test_kl_schedule_per_step_is_per_epoch_table():
    """With steps_per_epoch = 10 each epoch's value holds for its 10 steps."""
    table = lab_kl_table(12, True, 3, 0.5)
    got = schedules.kl_weight(
        jnp.arange(120), kind="cyclical", num_steps=120, cycles=3, ratio=0.5, steps_per_epoch=10
    )
    np.testing.assert_allclose(got, np.repeat(table, 10), atol=1e-5)


def test_constant_kl_and_unknown_kind():
    assert float(schedules.kl_weight(123, kind="constant", num_steps=10)) == 1.0
    with pytest.raises(ValueError, match="unknown KL schedule"):
        schedules.kl_weight(0, kind="linear", num_steps=10)


@pytest.mark.parametrize("niter, start, lower_bound", [(300, 11, 0.0), (50, 0, 0.2), (20, 5, 0.5)])
def test_teacher_forcing_matches_report(niter, start, lower_bound):
    want = lab_tfr_table(niter, start, lower_bound)
    train = ml_collections.ConfigDict(
        dict(
            tf_init=1.0,
            tf_start=start,
            tf_decay=1.0 / (niter - start - 1),
            tf_lower_bound=lower_bound,
            steps_per_epoch=3,
        )
    )
    f = jax.jit(lambda s: schedules.teacher_forcing_ratio(train, s))
    got = np.array([float(f(3 * e + 2)) for e in range(niter)])  # the last step of each epoch
    np.testing.assert_allclose(got, want, atol=1e-5)
    if lower_bound == 0.0:
        assert abs(got[-1]) < 1e-5  # the report's decay reaches 0 in the last epoch
    assert not schedules.always_teacher_forced(train)
    train.tf_decay = 0.0
    assert schedules.always_teacher_forced(train)
