"""The 25-Gaussian experiment (thesis 4.4.5): the command line end to end on a tiny budget,
per-run hyper-parameters inside one vmap, and the summary statistics. (Mode counting itself is
tested in test_gaussians2d.py.)"""

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import REPO, env
from PIL import Image

from vgen.data import gaussians2d as g2d
from vgen.experiments import gaussians2d as exp

FIGURE_MODELS = ["ALI", "GAN + inverse mapping", "GAN + post-hoc inference", "VAE"]


def test_command_line_writes_table_results_and_figure(tmp_path):
    out = tmp_path / "g2d"
    args = ["--runs=2", "--steps=10", "--gen_hidden=32", "--disc_hidden=16"]
    args += ["--num_train=2000", "--num_eval=500"]
    proc = subprocess.run(
        [sys.executable, "-m", "vgen.experiments.gaussians2d", f"--outdir={out}", *args],
        cwd=REPO,
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "13.4 ± 5.8 (min 8, max 25)" in proc.stdout  # the thesis's numbers beside ours

    results = json.loads((out / "results.json").read_text())
    assert results["setup"]["runs"] == 2 and results["setup"]["steps"] == 10
    assert results["setup"]["gen_hidden"] == 32 and results["setup"]["disc_hidden"] == 16
    assert results["thesis"]["gan"] == {"mean": 10.4, "std": 9.2, "min": 1, "max": 22}
    for kind in ("ali", "gan"):
        runs = results["runs"][kind]
        assert len(runs) == 2
        for run in runs:
            assert exp.LR_RANGE[0] <= run["lr"] <= exp.LR_RANGE[1]
            assert exp.B1_RANGE[0] <= run["b1"] <= exp.B1_RANGE[1]
            assert exp.STD_RANGE[0] <= run["std"] <= exp.STD_RANGE[1]
            assert 1 <= run["modes"] <= 25 and 0.0 <= run["high_quality"] <= 1.0
        summary = results["summary"][kind]
        modes = [r["modes"] for r in runs]
        assert summary["min"] == min(modes) and summary["max"] == max(modes)
        assert summary["mean"] == pytest.approx(np.mean(modes))
    assert list(results["figure_models"]) == FIGURE_MODELS
    for numbers in results["figure_models"].values():
        assert set(numbers) == {"modes", "high_quality", "reconstruction_mse"}
    assert results["wall_time_s"] > 0

    with Image.open(out / "fig4_8.png") as img:  # 4 columns of 3 in, 5 rows of 3 in, 80 dpi
        assert img.size == (4 * 3 * 80, 5 * 3 * 80)


def test_each_run_trains_with_its_own_learning_rate():
    """Runs share one vmapped step, but a run with learning rate 0 does not move."""
    data = g2d.Gaussians2DSource(seed=0, num_samples=500).x
    hyper = {"lr": np.array([0.0, 1e-3]), "b1": np.array([0.5, 0.8]), "std": np.full(2, 0.02)}
    model = exp.Model("gan", gen_hidden=16, disc_hidden=8)
    init = lambda k, h: exp._init_model(model, k, h)
    hyper_j = {k: jnp.asarray(v, jnp.float32) for k, v in hyper.items()}
    before = jax.jit(jax.vmap(init))(jax.random.split(jax.random.key(0), 2), hyper_j)
    before = jax.tree.map(np.array, before)  # a copy: the training step donates its input
    after, metrics = exp._train_chunk(model, before, data, jax.random.key(1), 3)
    assert metrics["d_loss"].shape == (2,)
    for name in ("decoder", "disc"):
        pairs = zip(
            jax.tree.leaves(before["params"][name]),
            jax.tree.leaves(after["params"][name]),
            strict=True,
        )
        moved = []
        for b, a in pairs:
            np.testing.assert_array_equal(b[0], a[0])  # lr 0: unchanged
            moved.append(float(np.abs(b[1] - a[1]).max()))
        assert max(moved) > 1e-4


def test_random_hyper_parameters_cover_their_ranges():
    hyper = exp.random_hyper(np.random.default_rng(0), 2000)
    for name, (lo, hi) in [("lr", exp.LR_RANGE), ("b1", exp.B1_RANGE), ("std", exp.STD_RANGE)]:
        assert lo <= hyper[name].min() and hyper[name].max() <= hi
    # log-uniform: the geometric midpoint splits the draws in half
    assert np.mean(hyper["lr"] < np.sqrt(exp.LR_RANGE[0] * exp.LR_RANGE[1])) == pytest.approx(
        0.5, abs=0.05
    )


def test_summary_of_known_mode_counts():
    s = exp.summarize([8, 25, 13, 10])
    assert s == {"mean": 14.0, "std": pytest.approx(np.sqrt(43.5)), "min": 8, "max": 25}
