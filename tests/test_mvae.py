"""The multimodal VAE for video (Method-I, Method-II): which expert each ELBO term reads,
prediction from x_{t-1} alone, a few training steps, figures, the command line's train + eval."""

import functools
import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import load_config, vgen_main

from vgen import train
from vgen.data import make_source
from vgen.errors import ConfigError
from vgen.methods import mvae

CURRENT_NETS = ("encoders_0", "lstms_0", "decoders_0")
PREVIOUS_NETS = ("encoders_1", "lstms_1", "decoders_1")


@pytest.fixture(scope="module")
def config():
    return load_config("mvae1_dynamics", "tiny")


@pytest.fixture(scope="module")
def batch(config):
    return make_source(config).train_batch(jax.random.key(3), 4)


@pytest.fixture(scope="module")
def state(config, batch):
    state = jax.jit(functools.partial(mvae.init, config))(train.init_key(0), batch)
    # Scaled-up weights make every input visibly change the outputs.
    return state.replace(params=jax.tree.map(lambda p: 4.0 * p, state.params))


def grad_norms(config, state, batch, subsets):
    """Per-network gradient norms of Method-I's loss restricted to the given subsets."""
    video = batch["video"]
    eps = jax.random.normal(jax.random.key(0), (len(subsets), 4, video.shape[1] - 1, 2))
    subsets = jnp.asarray(subsets)
    grads = jax.grad(mvae.pixel_loss, argnums=1, has_aux=True)(
        config, state.params["model"], state.batch_stats["model"], video, subsets, eps, 0.0
    )[0]
    return {k: float(optax_norm(v)) for k, v in grads.items()}


def optax_norm(tree) -> jax.Array:
    return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree)))


def test_each_elbo_term_reads_only_its_modalities(config, state, batch):
    """With β = 0, ELBO({a}) trains only a's encoder, LSTM and decoder, ELBO({b}) only b's; the
    joint term trains both. Rows are (joint, a alone, b alone): drop terms by masking rows."""
    only_a = grad_norms(config, state, batch, [[False, False], [True, False], [False, False]])
    only_b = grad_norms(config, state, batch, [[False, False], [False, False], [False, True]])
    joint = grad_norms(config, state, batch, [[True, True], [False, False], [False, False]])
    for name in CURRENT_NETS:
        assert only_a[name] > 0 and only_b[name] == 0.0 and joint[name] > 0, name
    for name in PREVIOUS_NETS:
        assert only_b[name] > 0 and only_a[name] == 0.0 and joint[name] > 0, name


def test_prediction_reads_only_the_previous_frame_expert(config, state, batch):
    video = batch["video"]
    c = config.data.context_frames
    context = {"video": video[:, :c]}
    preds = mvae.sample(config, state, context, jax.random.key(1), 3)
    chex.assert_shape(preds, (4, 3, *video.shape[2:]))
    chex.assert_trees_all_equal(preds, mvae.sample(config, state, context, jax.random.key(1), 3))
    assert not np.allclose(preds, mvae.sample(config, state, context, jax.random.key(2), 3))
    # Expert a (x_t's encoder and LSTM) and decoder b play no part at test time...
    params = dict(state.params["model"])
    for name in ("encoders_0", "lstms_0", "decoders_1"):
        params[name] = jax.tree.map(lambda p: p + 1.0, params[name])
    other = state.replace(params={"model": params})
    chex.assert_trees_all_close(mvae.sample(config, other, context, jax.random.key(1), 3), preds)
    # ... while every context frame does (expert b's LSTM reads them all).
    for i in range(c):
        changed = {"video": context["video"].at[:, i].set(1.0 - context["video"][:, i])}
        moved = mvae.sample(config, state, changed, jax.random.key(1), 3)
        assert float(jnp.max(jnp.abs(moved[:, 0] - preds[:, 0]))) > 1e-4, i


def test_a_few_steps_lower_the_loss(config, batch):
    config = config.copy_and_resolve_references()
    config.train.lr = 3e-3
    state = jax.jit(functools.partial(mvae.init, config))(train.init_key(0), batch)
    step = jax.jit(functools.partial(mvae.train_step, config))
    losses = []
    for i in range(8):
        state, metrics = step(state, batch, jax.random.key(i))
        losses.append(float(metrics["loss"]))
    assert int(state.step) == 8
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0] * 0.9, losses
    assert float(metrics["kl_weight"]) > 0.0  # the monotonic annealing has started


@pytest.mark.parametrize("name", ["mvae1_mmnist", "mvae2_mmnist"])
def test_moving_mnist_tiny_configs_train(name):
    """A few steps of the slides' setting (:tiny) on a fixed batch: Method-I's ELBO loss and
    Method-II's discriminator loss fall."""
    config = load_config(name, "tiny")
    config.train.lr, config.train.disc_lr = 3e-3, 1e-2
    batch = make_source(config).train_batch(jax.random.key(0), 2)
    state = jax.jit(functools.partial(mvae.init, config))(train.init_key(0), batch)
    step = jax.jit(functools.partial(mvae.train_step, config))
    key = "loss" if config.model.reconstruction == "pixel" else "loss_disc"
    values = []
    for i in range(6):
        state, metrics = step(state, batch, jax.random.key(i))
        values.append(float(metrics[key]))
    assert np.all(np.isfinite(values)) and values[-1] < values[0], values


def test_random_subsets_come_from_the_step_key(config, batch):
    config = config.copy_and_resolve_references()
    config.model.random_subsets = 2
    state = jax.jit(functools.partial(mvae.init, config))(train.init_key(0), batch)
    step = jax.jit(functools.partial(mvae.train_step, config))
    a = step(state, batch, jax.random.key(7))[1]
    b = step(state, batch, jax.random.key(7))[1]
    chex.assert_trees_all_equal(a, b)


@pytest.fixture(scope="module")
def config2():
    return load_config("mvae2_dynamics", "tiny")


def test_method2_routes_each_loss_to_its_own_networks(config2, batch):
    """Encoders and LSTMs get the gradient of the ELBO (feature likelihood + β KL), decoders that
    of γ × likelihood + the GAN loss, discriminators that of their classifier loss: each equals
    jax.grad of its own loss, and differs from the other losses' gradients."""
    state = jax.jit(functools.partial(mvae.init, config2))(train.init_key(0), batch)
    video = batch["video"]
    subsets, eps = mvae._draws(config2, jax.random.key(1), video)
    args = (state.batch_stats, video, subsets, eps, 0.5)
    grads, values, _, _ = mvae.method2_grads(config2, state.params, *args)

    def own(loss_name):
        return jax.grad(lambda p: mvae.feature_losses(config2, p, *args)[0][loss_name])(
            state.params
        )

    enc, dec, disc = own("enc"), own("dec"), own("disc")
    for name, g in grads["model"].items():
        want = dec if mvae.is_decoder(name) else enc
        chex.assert_trees_all_close(g, want["model"][name], rtol=1e-5, atol=1e-8)
        other = enc if mvae.is_decoder(name) else dec
        assert float(optax_norm(jax.tree.map(jnp.subtract, g, other["model"][name]))) > 0, name
    chex.assert_trees_all_close(grads["disc"], disc["disc"], rtol=1e-5, atol=1e-8)
    assert float(optax_norm(disc["model"])) > 0  # the disc loss reaches the model: not applied
    assert sorted(values) == ["dec", "disc", "enc"]


def test_method2_steps_train_the_discriminators(config2, batch):
    config2 = config2.copy_and_resolve_references()
    config2.train.disc_lr = 1e-2
    state = jax.jit(functools.partial(mvae.init, config2))(train.init_key(0), batch)
    assert sorted(state.params) == ["disc", "model"]
    step = jax.jit(functools.partial(mvae.train_step, config2))
    d_losses = []
    for i in range(6):
        state, metrics = step(state, batch, jax.random.key(i))
        d_losses.append(float(metrics["loss_disc"]))
    assert np.all(np.isfinite(d_losses)) and d_losses[-1] < d_losses[0], d_losses


def test_figures(config, state, batch, tmp_path):
    paths = mvae.write_figures(config, state, batch, jax.random.key(0), str(tmp_path), num=3)
    assert sorted(paths) == ["predictions", "prior_samples", "reconstructions"]
    assert all(os.path.getsize(p) > 0 for p in paths.values())


def test_bad_settings_raise(config):
    for field, value in [("reconstruction", "l1"), ("z_dim", 0), ("random_subsets", -1)]:
        bad = config.copy_and_resolve_references()
        bad.model[field] = value
        with pytest.raises(ConfigError, match=field):
            mvae.validate_config(bad)
    bad = config.copy_and_resolve_references()
    bad.model.reconstruction = "discriminator"
    bad.model.like_layer = bad.model.disc_num_down + 1
    with pytest.raises(ConfigError, match="like_layer"):
        mvae.validate_config(bad)


@pytest.mark.parametrize("name", ["mvae1_dynamics", "mvae2_dynamics"])
def test_command_line_trains_and_evaluates_tiny(name, tmp_path):
    workdir = tmp_path / "run"
    args = (f"--config=configs/{name}.py:tiny", f"--workdir={workdir}")
    proc = vgen_main(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = sorted(os.listdir(workdir / "figures"))[-1]
    assert sorted(os.listdir(workdir / "figures" / figures)) == [
        "predictions.png",
        "prior_samples.png",
        "reconstructions.png",
    ]
    proc = vgen_main(*args, "--mode=eval")
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(workdir / "eval" / "results.json") as f:
        results = json.load(f)
    predicted = load_config(name, "tiny").data.predict_frames
    assert len(results["psnr"]["best"]) == predicted
    psnr = results["psnr"]
    assert all(b >= m - 1e-4 for b, m in zip(psnr["best"], psnr["mean"], strict=True))
