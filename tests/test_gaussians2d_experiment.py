"""The 25-Gaussian experiment (thesis 4.4.5): the command line end to end on a tiny budget,
per-run hyper-parameters inside one vmap, and the summary statistics. (Mode counting itself is
tested in test_gaussians2d.py.)"""

import json
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import REPO, env
from PIL import Image

from vgen import adversarial, ali_game
from vgen.data import gaussians2d as g2d
from vgen.experiments import gaussians2d as exp

FIGURE_MODELS = ["ALI", "GAN + inverse mapping", "GAN + post-hoc inference", "VAE"]
# Thesis 4.4.5: "ALI models covered 13.4 ± 5.8 modes on average (min: 8, max: 25) while GAN
# models covered 10.4 ± 9.2 modes on average (min: 1, max: 22)."
THESIS_445 = {
    "ali": {"mean": 13.4, "std": 5.8, "min": 8, "max": 25},
    "gan": {"mean": 10.4, "std": 9.2, "min": 1, "max": 22},
}
THESIS_TEXT = {"ali": "13.4 ± 5.8 (min 8, max 25)", "gan": "10.4 ± 9.2 (min 1, max 22)"}


def _in_order(row: str, cells: list[str]) -> bool:
    """Whether the cells appear in the row in this order, each after the one before."""
    at = 0
    for cell in cells:
        at = row.find(cell, at)
        if at < 0:
            return False
        at += len(cell)
    return True


def _row(table: str, kind: str) -> str:
    """The line of the printed mode-coverage table for ALI or GAN."""
    (row,) = [line for line in table.splitlines() if line.startswith(f"{kind.upper()} ")]
    return row


def _run_command(out) -> subprocess.CompletedProcess:
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
    return proc


def _table_lines(stdout: str) -> list[str]:
    """The printed results, without the lines that carry timings."""
    timed = ("steps/s", "Wrote ", "Training ")
    return [line for line in stdout.splitlines() if not any(t in line for t in timed)]


def test_command_line_writes_table_results_and_figure(tmp_path):
    out = tmp_path / "g2d"
    proc = _run_command(out)
    results = json.loads((out / "results.json").read_text())

    # Reproducible: the same command on the same commit prints the same table and writes the
    # same results (apart from the wall time).
    again = _run_command(tmp_path / "again")
    assert _table_lines(again.stdout) == _table_lines(proc.stdout)
    repeated = json.loads((tmp_path / "again" / "results.json").read_text())
    assert {**repeated, "wall_time_s": 0} == {**results, "wall_time_s": 0}

    # The thesis's numbers, in results.json and beside ours on each model's row of the table.
    assert results["thesis"] == THESIS_445
    for kind in ("ali", "gan"):
        s = results["summary"][kind]
        row = _row(proc.stdout, kind)
        ours = f"{s['mean']:.1f} ± {s['std']:.1f} (min {s['min']}, max {s['max']})"
        populated = f"{s['populated_modes']['mean']:.1f} ± {s['populated_modes']['std']:.1f}"
        quality = f"{s['high_quality']:.3f} ± {s['high_quality_std']:.3f}"
        assert _in_order(row, [ours, THESIS_TEXT[kind], populated, quality]), row
        if kind == "ali":
            r = s["reconstruction_mse"]
            assert row.endswith(f"{r['mean']:.2f} ± {r['std']:.2f}"), row
        else:
            assert row.endswith("-") and "reconstruction_mse" not in s

    setup = results["setup"]
    assert (setup["runs"], setup["steps"], setup["gen_hidden"], setup["disc_hidden"]) == (
        2, 10, 32, 16
    )  # fmt: skip
    assert (setup["num_train"], setup["num_eval_samples"], setup["seed"]) == (2000, 500, 0)
    assert setup["batch_size"] == 100 and setup["mixture_std"] == 0.05
    assert setup["ali_code"] == {"steps": 200_000, "gen_hidden": 400, "disc_hidden": 200}
    for kind in ("ali", "gan"):
        runs = results["runs"][kind]
        assert len(runs) == 2
        for run in runs:
            keys = {"lr", "b1", "std", "modes", "high_quality", "populated_modes"}
            assert set(run) == keys | ({"reconstruction_mse"} if kind == "ali" else set())
            assert 0 <= run["populated_modes"] <= run["modes"]
            assert exp.LR_RANGE[0] <= run["lr"] <= exp.LR_RANGE[1]
            assert exp.B1_RANGE[0] <= run["b1"] <= exp.B1_RANGE[1]
            assert exp.STD_RANGE[0] <= run["std"] <= exp.STD_RANGE[1]
            assert 1 <= run["modes"] <= 25 and 0.0 <= run["high_quality"] <= 1.0
        assert runs[0]["lr"] != runs[1]["lr"]  # each run draws its own
        summary = results["summary"][kind]
        modes = [r["modes"] for r in runs]
        assert summary["min"] == min(modes) and summary["max"] == max(modes)
        assert summary["mean"] == pytest.approx(np.mean(modes))
        assert summary["std"] == pytest.approx(np.std(modes))
        quality = [r["high_quality"] for r in runs]
        assert summary["high_quality"] == pytest.approx(np.mean(quality))
        assert summary["high_quality_std"] == pytest.approx(np.std(quality))
        populated = [r["populated_modes"] for r in runs]
        assert summary["populated_modes"] == pytest.approx(
            {"mean": np.mean(populated), "std": np.std(populated)}
        )
        scores = [(r["populated_modes"], r["high_quality"]) for r in runs]
        assert summary["best_run"] == scores.index(max(scores))
    mse = [r["reconstruction_mse"] for r in results["runs"]["ali"]]
    assert results["summary"]["ali"]["reconstruction_mse"] == pytest.approx(
        {"mean": np.mean(mse), "std": np.std(mse)}
    )

    assert list(results["figure_models"]) == FIGURE_MODELS
    for name, numbers in results["figure_models"].items():
        assert set(numbers) == {"modes", "high_quality", "populated_modes", "reconstruction_mse"}
        assert 1 <= numbers["modes"] <= 25 and 0.0 <= numbers["high_quality"] <= 1.0
        assert 0.0 < numbers["reconstruction_mse"] < np.inf
        line = f"{numbers['modes']:2d}  populated {numbers['populated_modes']:2d}"
        line += f"  high-quality {numbers['high_quality']:.3f}"
        assert f"  {name:26s} modes {line}" in proc.stdout
    assert results["wall_time_s"] > 0 and results["devices"]

    with Image.open(out / "fig4_8.png") as img:  # 4 columns of 3 in, 5 rows of 3 in, 80 dpi
        assert img.size == (4 * 3 * 80, 5 * 3 * 80)
        pixels = np.asarray(img.convert("RGB")).astype(int)
    # Coloured (not grey) points: the held-out data (row 0) and the prior samples (row 3) in
    # every column (what the other rows show depends on how far 10 steps got).
    colourful = np.ptp(pixels, axis=-1) > 60
    for col in range(4):
        for row in (0, 3):
            panel = colourful[row * 240 : (row + 1) * 240, col * 240 : (col + 1) * 240]
            assert panel.sum() > 100, (row, col)


def test_table_puts_the_thesis_numbers_beside_ours():
    spread = lambda mean, std: {"mean": mean, "std": std}
    ali = {"mean": 20.3, "std": 2.5, "min": 17, "max": 25, "high_quality": 0.5}
    ali.update(high_quality_std=0.25, populated_modes=spread(19.0, 1.5))
    ali["reconstruction_mse"] = spread(1.234, 0.5)
    gan = {"mean": 3.0, "std": 0.0, "min": 3, "max": 3, "high_quality": 0.125}
    gan.update(high_quality_std=0.0, populated_modes=spread(3.0, 0.0))
    table = exp.format_table({"summary": {"ali": ali, "gan": gan}})
    assert len(table.splitlines()) == 3  # a header and one row per model
    expected = {
        "ali": ["20.3 ± 2.5 (min 17, max 25)", THESIS_TEXT["ali"], "19.0 ± 1.5", "0.500 ± 0.250",
                "1.23 ± 0.50"],
        "gan": ["3.0 ± 0.0 (min 3, max 3)", THESIS_TEXT["gan"], "3.0 ± 0.0", "0.125 ± 0.000", "-"],
    }  # fmt: skip
    for kind, cells in expected.items():
        assert _in_order(_row(table, kind), cells), table
    assert "1% of HQ" in table.splitlines()[0]
    assert exp.THESIS == THESIS_445


def test_each_run_trains_with_its_own_learning_rate():
    """Runs share one vmapped step, but a run with learning rate 0 does not move."""
    data = g2d.Gaussians2DSource(seed=0, num_samples=500).x
    hyper = {"lr": np.array([0.0, 1e-3]), "b1": np.array([0.5, 0.8]), "std": np.full(2, 0.02)}
    model = exp.Model("gan", gen_hidden=16, disc_hidden=8)
    init = lambda k, h: exp._init_model(model, k, h)
    hyper_j = {k: jnp.asarray(v, jnp.float32) for k, v in hyper.items()}
    before = jax.jit(jax.vmap(init))(jax.random.split(jax.random.key(0), 2), hyper_j)
    before = jax.tree.map(np.array, before)  # a copy: the training step donates its input
    after, metrics = exp._train_chunk(model, before, None, data, jax.random.key(1), 3)
    assert metrics["d_loss"].shape == (2,)
    np.testing.assert_array_equal(after.step, [3, 3])
    for params in (lambda s: s.params["gen"]["decoder"], lambda s: s.params["disc"]):
        pairs = zip(jax.tree.leaves(params(before)), jax.tree.leaves(params(after)), strict=True)
        moved = []
        for b, a in pairs:
            np.testing.assert_array_equal(b[0], a[0])  # lr 0: unchanged
            moved.append(float(np.abs(b[1] - a[1]).max()))
        assert max(moved) > 1e-4


def test_ali_runs_on_the_video_models_game():
    """The 2-D ALI step is `adversarial_step` on `ali_game.joint_logits_fn` with the MLPs: one
    step by hand from the same state and key gives the same state and metrics."""
    model = exp.Model("ali", gen_hidden=8, disc_hidden=4)
    hyper = {"lr": jnp.float32(1e-3), "b1": jnp.float32(0.5), "std": jnp.float32(0.02)}
    state = exp._init_model(model, jax.random.key(0), hyper)
    x = g2d.Gaussians2DSource(seed=0, num_samples=100).x[:16]
    key = jax.random.key(1)
    new, metrics = exp.train_step(model, state, None, x, key)

    z_key, eps_key = jax.random.split(key)
    z = jax.random.normal(z_key, (16, exp.NLAT))
    fn = ali_game.joint_logits_fn(model.nets, state.batch_stats["gen"], x, z, eps_key, None, {})
    expected, expected_metrics = adversarial.adversarial_step(state, fn)
    chex.assert_trees_all_close(new.params, expected.params)
    chex.assert_trees_all_close(new.batch_stats, expected.batch_stats)
    chex.assert_trees_all_close(metrics, expected_metrics)
    assert set(metrics) >= {"d_loss", "g_loss"}
    # Each side has its own Adam with the run's learning rate and β1 in its state.
    for name in ("gen", "disc"):
        assert float(state.opt_state[name].hyperparams["learning_rate"]) == pytest.approx(1e-3)
        assert float(state.opt_state[name].hyperparams["b1"]) == 0.5


def test_ali_encoder_is_a_function_of_x_and_its_own_noise():
    """As the ALI code's mixture experiment: ẑ = G_z([x, ε]) with ε ~ N(0, I) [B, 2] (Eq. 4.3),
    for ALI and post-hoc inference; the VAE keeps the Gaussian whose density its KL needs."""
    model = exp.Model("ali", gen_hidden=8, disc_hidden=4)
    hyper = {"lr": jnp.float32(1e-3), "b1": jnp.float32(0.5), "std": jnp.float32(0.5)}
    state = exp._init_model(model, jax.random.key(0), hyper)
    first = state.params["gen"]["encoder"]["Dense_0"]["kernel"]
    assert first.shape == (4, 8)  # [x, ε]
    x = g2d.Gaussians2DSource(seed=0, num_samples=100).x[:16]
    z_a = ali_game.encode(model.nets, state, x, jax.random.key(1), {})
    z_b = ali_game.encode(model.nets, state, x, jax.random.key(2), {})
    assert z_a.shape == (16, exp.NLAT)
    assert not np.allclose(z_a, z_b)  # a different ε, a different code
    chex.assert_trees_all_close(z_a, ali_game.encode(model.nets, state, x, jax.random.key(1), {}))
    # Without a noise key, the code of ε = 0: the first layer sees [x, 0].
    zero = ali_game.encode(model.nets, state, x, None, {})
    by_hand = dict(state.params["gen"]["encoder"])
    by_hand["Dense_0"] = {"kernel": first[:2]}
    net = model.nets.encoder.clone(noise_dim=0)
    variables = {"params": by_hand, "batch_stats": state.batch_stats["gen"]["encoder"]}
    chex.assert_trees_all_close(zero, net.apply(variables, x, train=False), atol=1e-6)
    assert isinstance(exp.Model("vae").nets.encoder, exp.GaussianMLP)


def test_code_samples_a_gaussian_encoder_and_passes_an_implicit_one_through():
    mu, log_sigma = jnp.array([[1.0, -2.0]]), jnp.array([[0.0, jnp.log(3.0)]])
    key = jax.random.key(0)
    eps = jax.random.normal(key, (1, 2))
    chex.assert_trees_all_close(
        ali_game.code((mu, log_sigma), key), mu + eps * jnp.array([1.0, 3.0]), atol=1e-6
    )
    chex.assert_trees_all_close(ali_game.code((mu, log_sigma), None), mu)
    chex.assert_trees_all_close(ali_game.code(mu, key), mu)


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
