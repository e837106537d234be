"""The 25-Gaussian grid and mode counting, on sample sets whose answer is known exactly."""

import jax
import numpy as np
import pytest

from vgen.data import gaussians2d as g


def test_grid_matches_the_ali_experiment():
    centers = g.grid_centers()
    assert centers.shape == (25, 2)
    assert sorted(set(centers[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(c) for c in centers.tolist()}) == 25


def test_count_modes_exact_on_known_sets():
    centers, std = g.grid_centers(), 0.05
    # 3 points exactly on each of 7 centres, plus one far-off point nearest to centre 0.
    chosen = centers[[0, 3, 6, 9, 12, 18, 24]]
    samples = np.concatenate([np.repeat(chosen, 3, axis=0), [[-4.5, -4.5]]])
    out = g.count_modes(samples, centers, std)
    assert out["modes"] == 7
    assert out["high_quality"] == pytest.approx(21 / 22)
    assert out["populated_modes"] == 7  # each holds 3 of the 21 high-quality samples


def test_populated_modes_need_a_share_of_the_high_quality_samples():
    centers, std = g.grid_centers(), 0.05
    # 200 samples on centre 0, 2 on centre 1 (< 1% of 202), 3 on centre 2 (>= 1%), and 50
    # samples half-way between centres 3 and 4: every one of those is low quality.
    between = np.repeat([(centers[3] + centers[4]) / 2], 50, axis=0)
    samples = np.concatenate(
        [np.repeat(centers[[0]], 200, 0), np.repeat(centers[[1]], 2, 0),
         np.repeat(centers[[2]], 3, 0), between]
    )  # fmt: skip
    out = g.count_modes(samples, centers, std)
    assert out["modes"] == 4  # the smear reaches a fourth mode ...
    assert out["populated_modes"] == 2  # ... but only centres 0 and 2 hold >= 1% of 205
    assert out["high_quality"] == pytest.approx(205 / 255)
    smear = g.count_modes(between, centers, std)
    assert smear["high_quality"] == 0.0 and smear["populated_modes"] == 0


def test_every_mode_covered_by_the_data_itself():
    centers = g.grid_centers()
    x, comp = g.sample(jax.random.key(0), 10_000, centers, 0.05)
    out = g.count_modes(np.asarray(x), centers, 0.05)
    assert out["modes"] == 25
    assert out["high_quality"] > 0.98  # 3 sigma in 2-D holds ~98.9% of the mass
    assigned = g.responsibilities(np.asarray(x), centers, 0.05).argmax(1)
    assert np.mean(assigned == np.asarray(comp)) > 0.999


def test_responsibilities_are_distributions_and_finite_far_away():
    r = g.responsibilities(np.array([[0.1, 0.0], [1e3, -1e3]]), g.grid_centers(), 0.05)
    np.testing.assert_allclose(r.sum(1), 1.0)
    assert np.isfinite(r).all()


def test_source_is_deterministic_and_batches():
    a, b = (
        g.Gaussians2DSource(seed=1, num_samples=500),
        g.Gaussians2DSource(seed=1, num_samples=500),
    )
    np.testing.assert_array_equal(np.asarray(a.x), np.asarray(b.x))
    batch = a.train_batch(jax.random.key(0), 32)
    assert batch["x"].shape == (32, 2) and batch["label"].shape == (32,)


def test_bad_samples_raise():
    with pytest.raises(ValueError, match=r"\[N, 2\]"):
        g.count_modes(np.zeros((4, 3)), g.grid_centers(), 0.05)
    with pytest.raises(ValueError, match="NaN"):
        g.count_modes(np.array([[np.nan, 0.0]]), g.grid_centers(), 0.05)
