"""ALI: loss values by hand, gradient flow, conditional shapes, figures, training, command line."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import load_config
from PIL import Image

from vgen import adversarial, ali_game, config_lib, losses
from vgen.data import make_source
from vgen.errors import ConfigError
from vgen.methods import ali
from vgen.train_state import TrainState

softplus = lambda v: float(np.log1p(np.exp(v)))
sigmoid = lambda v: float(1.0 / (1.0 + np.exp(-v)))


@pytest.fixture(scope="module")
def config():
    return load_config("ali_dynamics", "tiny,conditional")


@pytest.fixture(scope="module")
def batch(config):
    """Four Dynamics clips (fixed: the loss test trains on this one batch)."""
    return make_source(config).train_batch(jax.random.key(3), 4)


@pytest.fixture(scope="module")
def state(config, batch):
    # An RBG key, as in vgen.train: initialisation compiles several times faster on CPU.
    return jax.jit(functools.partial(ali.init, config))(jax.random.key(0, impl="rbg"), batch)


def test_losses_of_known_logits():
    data, sample = jnp.array([0.0, 2.0]), jnp.array([-1.0, 0.0])
    d = losses.gan_discriminator_loss(data, sample)  # -log D(x, ẑ) - log(1 - D(x̃, z))
    g = losses.ali_generator_loss(data, sample)  # -log(1 - D(x, ẑ)) - log D(x̃, z)
    chex.assert_trees_all_close(
        d, jnp.array([softplus(0) + softplus(-1), softplus(-2) + softplus(0)]), atol=1e-6
    )
    chex.assert_trees_all_close(
        g, jnp.array([softplus(0) + softplus(1), softplus(2) + softplus(0)]), atol=1e-6
    )


def test_adversarial_grads_of_a_tiny_linear_model():
    """x = z = 1, encoder ẑ = a·x, decoder x̃ = c·z, D(x, z) = u·x + v·z: everything by hand."""
    a, c, u, v = 0.5, 2.0, 1.0, -1.0

    def logits_fn(gen, disc):
        z_hat, x_tilde = gen["a"] * 1.0, gen["c"] * 1.0
        d = lambda x, z: disc["u"] * x + disc["v"] * z
        return (d(1.0, z_hat), d(x_tilde, 1.0)), None

    out = adversarial.adversarial_grads(logits_fn, {"a": a, "c": c}, {"u": u, "v": v})
    data, sample = u + v * a, u * c + v  # 0.5, 1.0
    assert float(out.d_loss) == pytest.approx(softplus(-data) + softplus(sample), rel=1e-6)
    assert float(out.g_loss) == pytest.approx(softplus(data) + softplus(-sample), rel=1e-6)
    # dL_d/du = -σ(-data)·x + σ(sample)·x̃, dL_d/dv = -σ(-data)·ẑ + σ(sample)·z
    assert float(out.d_grads["u"]) == pytest.approx(-sigmoid(-data) + sigmoid(sample) * c)
    assert float(out.d_grads["v"]) == pytest.approx(-sigmoid(-data) * a + sigmoid(sample))
    # dL_g/da = σ(data)·v·x, dL_g/dc = -σ(-sample)·u·z
    assert float(out.g_grads["a"]) == pytest.approx(sigmoid(data) * v)
    assert float(out.g_grads["c"]) == pytest.approx(-sigmoid(-sample) * u)


def test_gradient_flow(config, state, batch):
    """The discriminator update only has disc gradients; the generator loss reaches every
    encoder and decoder parameter; both equal plain jax.grad of the losses."""
    x = batch["video"][:, 0]
    cond = ali.conditions(config, batch["label"])
    z = jax.random.normal(jax.random.key(1), (x.shape[0], config.model.z_dim))
    gen, disc = state.params["gen"], state.params["disc"]
    nets, stats = ali.networks(config, 3), state.batch_stats["gen"]

    @jax.jit
    def grads(gen, disc):
        keys = jax.random.split(jax.random.key(2))
        fn = ali_game.joint_logits_fn(nets, stats, x, z, *keys, cond)
        out = adversarial.adversarial_grads(fn, gen, disc)
        d_loss = lambda g, d: jnp.mean(losses.gan_discriminator_loss(*fn(g, d)[0]))
        g_loss = lambda g, d: jnp.mean(losses.ali_generator_loss(*fn(g, d)[0]))
        return out, jax.grad(d_loss, argnums=1)(gen, disc), jax.grad(g_loss, argnums=0)(gen, disc)

    out, d_reference, g_reference = grads(gen, disc)
    chex.assert_trees_all_close(out.d_grads, d_reference, atol=1e-6)
    chex.assert_trees_all_close(out.g_grads, g_reference, atol=1e-6)
    chex.assert_trees_all_equal_structs(out.d_grads, disc)
    chex.assert_trees_all_equal_structs(out.g_grads, gen)
    for name in ("encoder", "decoder"):
        for path, leaf in jax.tree_util.tree_leaves_with_path(out.g_grads[name]):
            assert float(jnp.abs(leaf).max()) > 0, (name, jax.tree_util.keystr(path))


def test_conditional_shapes_and_label_use(config, state, batch):
    assert all("embed_y" in p for p in (*state.params["gen"].values(), state.params["disc"]))
    x, label = batch["video"][:, 0], batch["label"]
    b, r = x.shape[0], config.data.resolution
    nets = ali.networks(config, 3)
    cond, reversed_cond = ali.conditions(config, label), ali.conditions(config, label[::-1])
    # The contract's reconstruction: the first frame of each clip, [B, 1, H, W, C].
    target, recon = ali.reconstruct(config, state, batch, jax.random.key(0))
    chex.assert_trees_all_equal(target, batch["video"][:, :1])
    chex.assert_shape(recon, (b, 1, r, r, 3))
    inter = ali_game.interpolate(nets, state, x, x[::-1], 5, None, cond, reversed_cond)
    chex.assert_shape(inter, (b, 5, r, r, 3))
    # The ends of an interpolation are the reconstructions from the means.
    chex.assert_trees_all_close(inter[:, 0], ali_game.autoencode(nets, state, x, None, cond))
    chex.assert_trees_all_close(
        inter[:, -1], ali_game.autoencode(nets, state, x[::-1], None, reversed_cond), atol=1e-6
    )
    context = {"video": batch["video"][:, :1], "label": label}
    video = ali.sample(config, state, context, jax.random.key(1), 3)
    chex.assert_shape(video, (b, 3, r, r, 3))
    assert float(video.min()) >= 0.0 and float(video.max()) <= 1.0
    del context["label"]  # then labels are drawn from p(y)
    chex.assert_shape(ali.sample(config, state, context, jax.random.key(1), 3), (b, 3, r, r, 3))
    # The decoder reads y: another label gives another image from the same z (in training
    # mode, since at initialisation the running statistics make every output sigmoid(~0)).
    variables = ali_game.variables(state, "decoder")
    z = jnp.zeros((2, config.model.z_dim))
    y = jax.nn.one_hot(jnp.array([0, 5]), config.model.num_classes)
    frames, _ = nets.decoder.apply(variables, z, y, train=True, mutable=["batch_stats"])
    assert float(jnp.abs(frames[0] - frames[1]).max()) > 1e-3


def test_conditional_needs_labels(config, batch):
    with pytest.raises(ConfigError, match="label"):
        ali.one_hot_labels(config, None)
    with pytest.raises(ConfigError, match=r"\[B\]"):
        ali.one_hot_labels(config, jnp.zeros((4, 2), jnp.int32))


def test_write_figures(config, state, batch, tmp_path):
    paths = ali.write_figures(config, state, batch, jax.random.key(0), str(tmp_path), num=4)
    assert set(paths) == {"samples", "reconstructions", "interpolations"}
    r, k = config.data.resolution, config.model.num_classes
    with Image.open(paths["samples"]) as img:  # one row per class, 4 fixed codes
        assert img.size == (4 * (r + 1) + 1, k * (r + 1) + 1)
    with Image.open(paths["reconstructions"]) as img:  # data above reconstructions
        assert img.size == (4 * (r + 1) + 1, 2 * (r + 1) + 1)
    with Image.open(paths["interpolations"]) as img:  # 2 pairs: x_a, 8 steps, x_b
        assert img.size == (10 * (r + 1) + 1, 2 * (r + 1) + 1)


def test_each_side_lowers_its_loss(config, state, batch):
    """Against a frozen generator the discriminator's loss falls; then, against that frozen
    discriminator, the decoder raises D(x̃, z) (the sample term of the generator loss). At
    initialisation D's logits are ~0 everywhere, so the generator first needs a discriminator
    that tells pairs apart; that one mostly keys on real frames, which the encoder cannot
    change, so the data term, and with it the total generator loss, barely moves here."""
    step = jax.jit(functools.partial(ali.train_step, config))
    # One optimiser object with the learning rate in its state: both phases share one compile.
    adam = optax.inject_hyperparams(optax.adam)(learning_rate=0.0, b1=0.5)

    def run(state, lr_gen, lr_disc, steps, offset):
        state = TrainState.create(state.params, {"gen": adam, "disc": adam}, state.batch_stats)
        with_lr = lambda s, lr: s._replace(
            hyperparams={**s.hyperparams, "learning_rate": jnp.asarray(lr, jnp.float32)}
        )
        opt = state.opt_state
        state = state.replace(
            opt_state={"gen": with_lr(opt["gen"], lr_gen), "disc": with_lr(opt["disc"], lr_disc)}
        )
        history = []
        for i in range(steps):
            state, m = step(state, batch, jax.random.key(offset + i))
            history.append(jax.device_get(m))
        assert all(np.isfinite(h["d_loss"]) and np.isfinite(h["g_loss"]) for h in history)
        return state, history

    state, history = run(state, 0.0, 3e-3, 20, 0)
    assert np.mean([h["d_loss"] for h in history[-3:]]) < history[0]["d_loss"] - 0.3
    _, history = run(state, 3e-3, 0.0, 12, 100)
    samples = [h["d_logit_samples"] for h in history]
    assert np.mean(samples[-4:]) > samples[0] + 2.0


def test_bad_model_settings_raise(config):
    config_lib.validate(config, ali)
    for field, value, message in [
        ("z_dim", 0, "model.z_dim must be >= 1, got 0"),
        ("num_classes", -1, "model.num_classes must be >= 0, got -1"),
        ("dropout_hidden", 1.0, r"model.dropout_hidden must be in \[0.0, 1.0\), got 1.0"),
        ("init_std", 0.0, "model.init_std must be > 0, got 0.0"),
    ]:
        bad = config.copy_and_resolve_references()
        bad.model[field] = value
        with pytest.raises(ConfigError, match=message):
            config_lib.validate(bad, ali)
    bad = config.copy_and_resolve_references()
    bad.data.resolution = 24
    with pytest.raises(ConfigError, match="data.resolution must be a power of two >= 16, got 24"):
        config_lib.validate(bad, ali)


def test_defaults_and_eval_metrics(config, state, batch):
    """Adam 1e-4 / β1 0.5 per side, scored by reconstruction and figures; eval_step scores D
    and the reconstructions."""
    assert config.eval.evaluators == ("reconstruction", "figures")
    for name in ("gen", "disc"):
        assert dict(config.optim[name]) == dict(kind="adam", lr=1e-4, b1=0.5, b2=0.999)
    metrics = ali.eval_step(config, state, batch, jax.random.key(0))
    assert set(metrics) == {
        "d_loss_val", "g_loss_val", "d_acc_val_data", "d_acc_val_samples", "recon_mse_val",
        "psnr_val_recon",
    }  # fmt: skip
    assert all(np.isfinite(float(v)) for v in metrics.values())


def test_mnist_source_serves_digits_as_still_clips():
    config = load_config("ali_mnist", "tiny")
    source = make_source(config)
    assert [source.split_size(s) for s in ("train", "val", "test")] == [4050, 450, 500]
    batch = source.train_batch(jax.random.key(0), 3)
    t = config.data.context_frames + config.data.predict_frames
    chex.assert_shape(batch["video"], (3, t, 16, 16, 1))
    chex.assert_trees_all_equal(batch["video"][:, 0], batch["video"][:, -1])
    assert batch["label"].shape == (3,) and batch["label"].dtype == jnp.int32
    # The bundled digits are sorted by class; val and the first clips of a split mix them.
    assert len(np.unique(source.eval_clips(100, split="val")["label"])) == 10
    assert len(np.unique(source.eval_clips(30, split="test")["label"])) >= 8
    config.data.resolution = 32  # 28×28 digits centred on a 32×32 canvas, not resized
    clips = make_source(config).eval_clips(2, split="test")["video"]
    assert float(clips[:, 0, :2].max()) == 0.0 and float(clips[:, 0, -2:].max()) == 0.0
    assert float(clips.max()) == 1.0
