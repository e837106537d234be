"""VAE-GAN: loss routing of Algorithm 1, the feature likelihood, shapes, training, command line."""

import functools
import math
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import REPO
from PIL import Image

from vgen import adversarial, config_lib, losses
from vgen.data import make_source
from vgen.errors import ConfigError
from vgen.methods import vaegan
from vgen.nn.vaegan_nets import Discriminator
from vgen.train_state import TrainState

NETWORKS = vaegan.NETWORKS


@pytest.fixture(scope="module")
def config():
    config = config_lib.load_config_file(
        os.path.join(REPO, "configs", "vaegan_dynamics.py"), "tiny"
    )
    config.model.gamma = 0.5  # large enough that a missing γ L_like term shows in the gradients
    return config


@pytest.fixture(scope="module")
def batch(config):
    """Four Dynamics clips (fixed: the training test trains on this one batch)."""
    return make_source(config).train_batch(jax.random.key(3), 4)


@pytest.fixture(scope="module")
def state(config, batch):
    # An RBG key, as in vgen.train: initialisation compiles several times faster on CPU.
    return jax.jit(functools.partial(vaegan.init, config))(jax.random.key(0, impl="rbg"), batch)


def _max_abs(tree) -> float:
    return max(float(jnp.abs(leaf).max()) for leaf in jax.tree.leaves(tree))


def test_feature_nll_by_hand():
    """−log N(f_x | f_x̃, I) = Σ_d [½ log 2π + ½ (f_x − f_x̃)²], averaged over the batch."""
    f_x = jnp.array([[[1.0, 2.0]], [[0.0, 0.0]]])  # [B=2, 1, 2]
    f_recon = jnp.array([[[0.0, 0.0]], [[0.0, 3.0]]])
    # example 0: log 2π + ½ (1 + 4); example 1: log 2π + ½ · 9
    expected = math.log(2 * math.pi) + 0.5 * (2.5 + 4.5)
    assert float(losses.feature_nll(f_x, f_recon)) == pytest.approx(expected, rel=1e-6)
    assert float(losses.feature_nll(f_x, f_x)) == pytest.approx(math.log(2 * math.pi), rel=1e-6)


def test_discriminator_shapes():
    x = jax.ShapeDtypeStruct((2, 64, 64, 3), jnp.float32)
    disc = Discriminator()  # the paper's: 32 channels, 3 stride-2 layers, 512 hidden
    variables = jax.eval_shape(lambda: disc.init(jax.random.key(0), jnp.zeros(x.shape), False))
    logits, features = jax.eval_shape(lambda v: disc.apply(v, jnp.zeros(x.shape), False), variables)
    assert logits.shape == (2,)
    assert [f.shape for f in features] == [
        (2, 64, 64, 32),
        (2, 32, 32, 128),
        (2, 16, 16, 256),
        (2, 8, 8, 256),  # Dis_l of the paper (like_layer = 3)
    ]
    small = Discriminator(channels=4, num_down=2, hidden=8)
    x = jnp.zeros((2, 16, 16, 1))
    variables = jax.eval_shape(lambda: small.init(jax.random.key(0), x, False))
    train = lambda v: small.apply(v, x, True, mutable=["batch_stats"])[0]
    logits, features = jax.eval_shape(train, variables)
    assert logits.shape == (2,)
    assert [f.shape for f in features] == [(2, 16, 16, 4), (2, 8, 8, 16), (2, 4, 4, 32)]


def forward(config, params, batch_stats, x, rng):
    """(losses, (frames [x̃; x_p], metrics)) of one training-mode pass of `vaegan.stages`."""
    encode, decode, losses_fn = vaegan.stages(config, batch_stats, x, rng)
    (z, kl), _ = encode(params["enc"])
    frames, _ = decode(params["dec"], z)
    values, (_, metrics) = losses_fn(params["disc"], frames, kl)
    return values, (frames, metrics)


def test_like_layer_is_the_configured_one(config, state, batch):
    """L_like is feature_nll of the discriminator's features[model.like_layer] on x and x̃."""
    x = batch["video"][:, 0]
    b = x.shape[0]

    @functools.partial(jax.jit, static_argnums=0)
    def like_and_features(layer):
        cfg = config.copy_and_resolve_references()
        cfg.model.like_layer = layer
        _, (frames, metrics) = forward(cfg, state.params, state.batch_stats, x, jax.random.key(5))
        _, _, disc = vaegan.networks(cfg, x.shape[-1])
        variables = {"params": state.params["disc"], "batch_stats": state.batch_stats["disc"]}
        frames = jnp.concatenate([x, frames])
        (_, features), _ = disc.apply(variables, frames, True, mutable=["batch_stats"])
        return metrics["nll_like"], [losses.feature_nll(f[:b], f[b : 2 * b]) for f in features]

    for layer in (1, 3):
        like, nll = like_and_features(layer)
        nll = [float(v) for v in nll]
        assert float(like) == pytest.approx(nll[layer], rel=1e-5)
        assert all(abs(v - nll[layer]) > 1e-3 * abs(v) for i, v in enumerate(nll) if i != layer)


def test_loss_routing(config, state, batch):
    """The gradients train_step applies (`adversarial.staged_grads` of `vaegan.stages`) are
    Algorithm 1 written out from one forward pass's terms: each network's gradient is that of
    its own loss alone (nonzero for every leaf), although the other losses reach it too; the
    decoder's loss really weighs L_like by γ."""
    x = batch["video"][:, 0]
    stats, key, gamma = state.batch_stats, jax.random.key(1), config.model.gamma

    @jax.jit
    def grads(params):
        fns = vaegan.stages(config, stats, x, key)
        fast, values, _ = adversarial.staged_grads(*fns, *(params[n] for n in NETWORKS))

        def terms(p):
            values, (_, metrics) = forward(config, p, stats, x, key)
            return {**values, "kl": metrics["kl"], "like": metrics["nll_like"]}

        grad_of = lambda fn, n: jax.grad(lambda q: fn(terms({**params, n: q})))(params[n])
        algorithm_1 = {
            "enc": grad_of(lambda t: t["kl"] + t["like"], "enc"),
            "dec": grad_of(lambda t: t["dec"], "dec"),
            "disc": grad_of(lambda t: t["disc"], "disc"),
        }
        others = {
            n: grad_of(lambda t, n=n: sum(t[o] for o in NETWORKS if o != n), n) for n in NETWORKS
        }
        gen_only = grad_of(lambda t: t["dec"] - gamma * t["like"], "dec")
        return fast, values, terms(params), algorithm_1, others, gen_only

    fast, values, terms, algorithm_1, others, gen_only = grads(state.params)
    for n in NETWORKS:
        for path, leaf in jax.tree_util.tree_leaves_with_path(fast[n]):
            assert float(jnp.abs(leaf).max()) > 0, (n, jax.tree_util.keystr(path))
        chex.assert_trees_all_close(fast[n], algorithm_1[n], atol=1e-5, rtol=1e-4)
        assert _max_abs(others[n]) > 1e-3, n  # what the routing keeps out is not nothing
    assert float(values["enc"]) == pytest.approx(float(terms["kl"] + terms["like"]), rel=1e-6)
    # The decoder's loss really weighs L_like by γ: its gradient is not that of L_gen alone.
    assert _max_abs(jax.tree.map(jnp.subtract, fast["dec"], gen_only)) > 1e-3


def test_training_moves_the_losses(config, state, batch):
    """On one fixed batch: Algorithm 1 with all three networks lowers the discriminator's loss;
    with D frozen, encoder and decoder lower L_like and the pixel error of reconstructions."""
    step = jax.jit(functools.partial(vaegan.train_step, config))
    # One optimiser object with the learning rate in its state: both runs share one compile.
    rmsprop = optax.inject_hyperparams(optax.rmsprop)(learning_rate=0.0, decay=0.9)

    def run(lrs, steps, offset):
        s = TrainState.create(state.params, {n: rmsprop for n in NETWORKS}, state.batch_stats)
        with_lr = lambda o, lr: o._replace(
            hyperparams={**o.hyperparams, "learning_rate": jnp.asarray(lr, jnp.float32)}
        )
        s = s.replace(opt_state={n: with_lr(o, lrs[n]) for n, o in s.opt_state.items()})
        history = []
        for i in range(steps):
            s, m = step(s, batch, jax.random.key(offset + i))
            history.append(jax.device_get(m))
        assert all(np.isfinite(v) for h in history for v in h.values())
        assert int(s.step) == steps
        return history

    history = run({"enc": 1e-3, "dec": 1e-3, "disc": 1e-3}, 12, 0)
    d_loss = [h["loss_disc"] for h in history]
    assert np.mean(d_loss[-3:]) < d_loss[0] - 0.5, d_loss

    history = run({"enc": 1e-3, "dec": 1e-3, "disc": 0.0}, 12, 100)
    like, mse = [h["nll_like"] for h in history], [h["recon_mse"] for h in history]
    assert np.mean(like[-3:]) < like[0] - 5.0, like
    assert np.mean(mse[-4:]) < mse[0], mse


def test_sample_eval_and_figures(config, state, batch, tmp_path):
    b, r = batch["video"].shape[0], config.data.resolution
    video = vaegan.sample(config, state, {"video": batch["video"][:, :1]}, jax.random.key(1), 3)
    chex.assert_shape(video, (b, 3, r, r, 3))
    assert float(video.min()) >= 0.0 and float(video.max()) <= 1.0
    target, recon = vaegan.reconstruct(config, state, batch, jax.random.key(0))
    chex.assert_trees_all_equal(target, batch["video"][:, :1])
    chex.assert_shape(recon, (b, 1, r, r, 3))
    metrics = vaegan.eval_step(config, state, batch, jax.random.key(2))
    assert set(metrics) == {"recon_mse_val", "psnr_val_recon", "kl_val", "nll_like_val"}
    assert all(np.isfinite(float(v)) for v in metrics.values())

    paths = vaegan.write_figures(config, state, batch, jax.random.key(0), str(tmp_path), num=4)
    assert set(paths) == {"samples", "reconstructions"}
    with Image.open(paths["samples"]) as img:  # 4 × 4 prior samples
        assert img.size == (4 * (r + 1) + 1, 4 * (r + 1) + 1)
    with Image.open(paths["reconstructions"]) as img:  # data above reconstructions
        assert img.size == (4 * (r + 1) + 1, 2 * (r + 1) + 1)


@pytest.mark.parametrize(
    "field, value",
    [
        ("model.z_dim", 0),
        ("model.like_layer", 4),  # the tiny discriminator has conv layers 0 .. 3
        ("model.like_layer", -1),
        ("model.gamma", -1.0),
        ("model.num_down", 5),  # 16 / 2^5 < 1
        ("optim.disc.lr", 0.0),
        ("optim.disc.decay", 1.0),
        ("data.resolution", 24),
    ],
)
def test_bad_settings_raise(config, field, value):
    bad = config.copy_and_resolve_references()
    *groups, name = field.split(".")
    node = bad
    for group in groups:
        node = node[group]
    node[name] = value
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        config_lib.validate(bad, vaegan)
    config_lib.validate(config, vaegan)  # the unchanged config passes
