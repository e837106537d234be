"""The multimodal VAE for video (Method-I, Method-II): which expert each ELBO term reads,
prediction from x_{t-1} alone, a few training steps, figures (the command line:
test_method_contract.py)."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import load_config
from PIL import Image

from vgen import adversarial, config_lib, train
from vgen.data import make_source
from vgen.errors import ConfigError
from vgen.methods import mvae
from vgen.nn import mvae_nets

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
    config.optim.model.lr = 3e-3
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
    config.optim.model.lr, config.optim.disc.lr = 3e-3, 1e-2
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
    jax.grad of its own loss (`adversarial.staged_losses`, the definition), and differs from the
    other losses' gradients."""
    state = jax.jit(functools.partial(mvae.init, config2))(train.init_key(0), batch)
    video = batch["video"]
    subsets, eps = mvae._draws(config2, jax.random.key(1), video, 0)
    fns = mvae.method2_stages(config2, state.batch_stats, video, subsets, eps, 0.5)
    model, disc = state.params["model"], state.params["disc"]
    grads, values, _ = adversarial.staged_grads(*fns, model, model, disc)

    def own(loss_name):
        loss = lambda p: adversarial.staged_losses(*fns, p["model"], p["model"], p["disc"])[0]
        return jax.grad(lambda p: loss(p)[loss_name])(state.params)

    enc, dec, disc = own("enc"), own("dec"), own("disc")
    for name in model:
        g = (grads["dec"] if mvae_nets.is_decoder(name) else grads["enc"])[name]
        want = dec if mvae_nets.is_decoder(name) else enc
        chex.assert_trees_all_close(g, want["model"][name], rtol=1e-5, atol=1e-8)
        other = enc if mvae_nets.is_decoder(name) else dec
        assert float(optax_norm(jax.tree.map(jnp.subtract, g, other["model"][name]))) > 0, name
    chex.assert_trees_all_close(grads["disc"], disc["disc"], rtol=1e-5, atol=1e-8)
    assert float(optax_norm(disc["model"])) > 0  # the disc loss reaches the model: not applied
    assert sorted(values) == ["dec", "disc", "enc"]


def test_method2_steps_train_the_discriminators(config2, batch):
    config2 = config2.copy_and_resolve_references()
    config2.optim.disc.lr = 1e-2
    state = jax.jit(functools.partial(mvae.init, config2))(train.init_key(0), batch)
    assert sorted(state.params) == ["disc", "model"]
    step = jax.jit(functools.partial(mvae.train_step, config2))
    d_losses = []
    for i in range(6):
        state, metrics = step(state, batch, jax.random.key(i))
        d_losses.append(float(metrics["loss_disc"]))
    assert np.all(np.isfinite(d_losses)) and d_losses[-1] < d_losses[0], d_losses


def _png(path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), np.float32) / 255.0


def _cells(image: np.ndarray, size: int, rows: int, cols: int, group_pad: int = 4):
    """The frames of a viz.filmstrip image ([clips, rows per clip, cols, size, size, 3]), from
    its layout: 1-pixel padding, `group_pad` more between clips."""
    clips = (image.shape[0] - 1 + group_pad) // (rows * (size + 1) + group_pad)
    out = np.zeros((clips, rows, cols, size, size, 3), np.float32)
    for n in range(clips):
        for r in range(rows):
            for k in range(cols):
                top = 1 + n * (rows * (size + 1) + group_pad) + r * (size + 1)
                left = 1 + k * (size + 1)
                out[n, r, k] = image[top : top + size, left : left + size]
    return out


def test_figures(config, state, batch, tmp_path):
    """Each figure has the filmstrip layout its docstring gives, for 3 clips at 16×16, and shows
    what it says: the data frames where the data go, distinct prior samples of two decoders."""
    num, r = 3, config.data.resolution
    t = batch["video"].shape[1]
    c = config.data.context_frames
    paths = mvae.write_figures(config, state, batch, jax.random.key(0), str(tmp_path), num=num)
    assert sorted(paths) == ["predictions", "prior_samples", "reconstructions"]
    figures = {name: _png(path) for name, path in paths.items()}
    width = lambda cols: cols * (r + 1) + 1
    height = lambda clips, rows: clips * (rows * (r + 1) + 4) - 4 + 1
    # reconstructions: one strip per clip, 6 frames (x_{t-1}, x_t, joint and alone of each)
    assert figures["reconstructions"].shape == (height(num, 1), width(6), 3)
    # predictions: per clip the data above context + prediction, all T frames
    assert figures["predictions"].shape == (height(num, 2), width(t), 3)
    # prior samples: one group, G_a(z) above G_b(z), `num` samples each
    assert figures["prior_samples"].shape == (height(1, 2), width(num), 3)

    video = np.asarray(batch["video"][:num])
    tol = 1.5 / 255  # uint8 rounding
    recon = _cells(figures["reconstructions"], r, 1, 6)[:, 0]  # [num, 6, r, r, 3]
    np.testing.assert_allclose(recon[:, 0], video[:, c - 1], atol=tol)  # x_{t-1}
    np.testing.assert_allclose(recon[:, 1], video[:, c], atol=tol)  # x_t
    assert all(float(np.std(recon[:, k])) > 1e-3 for k in range(2, 6))  # not blank or constant
    pred = _cells(figures["predictions"], r, 2, t)  # [num, 2, T, r, r, 3]
    np.testing.assert_allclose(pred[:, 0], video, atol=tol)  # the ground truth row
    np.testing.assert_allclose(pred[:, 1, :c], video[:, :c], atol=tol)  # the context
    assert float(np.abs(pred[:, 1, c:] - video[:, c:]).max()) > 0.1  # predicted, not copied
    prior = _cells(figures["prior_samples"], r, 2, num)[0]  # [2, num, r, r, 3]
    assert float(np.abs(prior[0] - prior[1]).max()) > 1e-2  # two decoders, two rows
    assert float(np.abs(prior[:, 0] - prior[:, 1]).max()) > 1e-2  # independent samples
    assert all(float(np.std(p)) > 1e-3 for p in prior)


def test_reconstruct_contract(config, state, batch):
    """The contract's reconstruct: frames x_1..x_{T-1} and their reconstructions from the joint
    posterior, [B, T-1, H, W, C] each, reproducible from the key."""
    target, recon = mvae.reconstruct(config, state, batch, jax.random.key(0))
    video = batch["video"]
    chex.assert_trees_all_equal(target, video[:, 1:])
    chex.assert_shape(recon, video[:, 1:].shape)
    assert float(recon.min()) >= 0.0 and float(recon.max()) <= 1.0
    chex.assert_trees_all_equal(recon, mvae.reconstruct(config, state, batch, jax.random.key(0))[1])


def test_bad_settings_raise(config):
    config_lib.validate(config, mvae)
    for field, value in [("reconstruction", "l1"), ("z_dim", 0), ("random_subsets", -1)]:
        bad = config.copy_and_resolve_references()
        bad.model[field] = value
        with pytest.raises(ConfigError, match=f"model.{field}"):
            config_lib.validate(bad, mvae)
    bad = config.copy_and_resolve_references()
    bad.model.reconstruction = "discriminator"
    bad.model.like_layer = bad.model.disc_num_down + 1
    with pytest.raises(ConfigError, match="model.like_layer must index a discriminator conv"):
        config_lib.validate(bad, mvae)
    bad = config.copy_and_resolve_references()
    bad.optim.model.lr = 0.0
    with pytest.raises(ConfigError, match=r"optim\.model\.lr"):
        config_lib.validate(bad, mvae)
