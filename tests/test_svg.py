"""SVG: encoder/decoder shapes, the two scan paths agreeing, teacher forcing and the condition,
a few training steps, sampling, configs, and one run of the real command line. (Its LSTMs are
checked against hand-computed gates in test_lstm.py.)"""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import load_config

from vgen import config_lib, train
from vgen.data import make_source
from vgen.errors import ConfigError
from vgen.methods import svg
from vgen.nn import encoders


@pytest.fixture(scope="module")
def config():
    return load_config("svg_lp_dynamics", "tiny")


def variant(config, **model):
    config = config.copy_and_resolve_references()
    config.model.update(model)
    return config


def dynamics_batch(config, batch: int = 4, seed: int = 3):
    return make_source(config).train_batch(jax.random.key(seed), batch)


def init(config, batch):
    """svg.init, jitted, with the RBG key the training loop uses (threefry compiles slowly)."""
    return jax.jit(functools.partial(svg.init, config))(train.init_key(0), batch)


def sensitive(state):
    """SVG's N(0, 0.02) initial weights make outputs nearly constant; scaled up, every input
    visibly changes the output."""
    return state.replace(params=jax.tree.map(lambda p: 6.0 * p, state.params))


# ------------------------------------------------------------------- encoders and decoders


@pytest.mark.parametrize("arch", encoders.ARCHITECTURES)
@pytest.mark.parametrize("resolution", [64, 32, 16])
def test_encoder_decoder_shapes(arch, resolution):
    x = jnp.zeros((2, resolution, resolution, 3))
    enc, dec = encoders.Encoder(arch, dim=8, channels=4), encoders.Decoder(arch, 3, channels=4)
    (h, skips), ev = jax.eval_shape(lambda: enc.init_with_output(jax.random.key(1), x, train=False))
    chex.assert_shape(h, (2, 8))
    assert len(skips) == encoders.num_blocks(resolution) == round(np.log2(resolution)) - 2
    for s, shape in zip(skips, encoders.skip_shapes(arch, resolution, 4), strict=True):
        chex.assert_shape(s, (2, *shape))
    y, dv = jax.eval_shape(
        lambda h, s: dec.init_with_output(jax.random.key(2), h, s, train=False), h, skips
    )
    chex.assert_shape(y, x.shape)
    assert "batch_stats" in ev and "batch_stats" in dv  # batch norm as in SVG


@pytest.mark.parametrize("arch", encoders.ARCHITECTURES)
def test_decoder_reading_skips_at_an_index_equals_the_gathered_skips(arch):
    """skip_index lets the decoder take each distinct skip map once (SVG-LP's 19 predicted
    frames read the skips of 10 context frames): the frames equal those decoded from the
    skips gathered row by row, and so do the gradients."""
    x = jax.random.uniform(jax.random.key(0), (3, 16, 16, 1))
    enc, dec = encoders.Encoder(arch, dim=8, channels=4), encoders.Decoder(arch, 1, channels=4)
    (_, skips), _ = enc.init_with_output(jax.random.key(1), x, train=False)
    index = jnp.array([0, 2, 2, 1, 2])
    g = jax.random.normal(jax.random.key(2), (5, 8))
    params = dec.init(jax.random.key(3), g, skips, False, index)

    def loss(params, skips, index):
        if index is None:  # the gathered skips, one per decoded frame
            skips, index = [s[jnp.array([0, 2, 2, 1, 2])] for s in skips], None
        y = dec.apply(params, g, skips, False, index)
        return jnp.sum(y * jnp.linspace(0, 1, y.size).reshape(y.shape))

    np.testing.assert_allclose(loss(params, skips, index), loss(params, skips, None), rtol=1e-5)
    chex.assert_trees_all_close(
        jax.grad(loss, argnums=(0, 1))(params, skips, index),
        jax.grad(loss, argnums=(0, 1))(params, skips, None),
        atol=1e-5,
    )


def test_vgg64_widths_are_svg():
    """At 64×64 and channels 64, the VGG encoder's blocks are VGG16's up to the 4th pool."""
    x = jnp.zeros((1, 64, 64, 1))
    params = jax.eval_shape(
        lambda: encoders.Encoder("vgg", 128).init(jax.random.key(0), x, train=False)
    )["params"]
    convs = sorted(k for k in params if k.startswith("block_"))
    widths = [params[k]["Conv_0"]["kernel"].shape[-1] for k in convs]
    assert widths == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512]
    assert params["out"]["kernel"].shape == (4, 4, 512, 128)


def test_bad_resolution_raises():
    with pytest.raises(ValueError, match="power of two"):
        encoders.num_blocks(48)


# ------------------------------------------------------------------------------------ SVG


@pytest.mark.parametrize("prior, cond_dim, arch", [("fixed", 4, "vgg"), ("learned", 0, "dcgan")])
def test_svg_shapes_and_sampling(config, prior, cond_dim, arch):
    """Shapes of the reconstruction and of samples; samples are a function of the key; the
    condition reaches the predictor."""
    cfg = variant(config, prior=prior, cond_dim=cond_dim, arch=arch)
    batch = dynamics_batch(cfg)
    state = init(cfg, batch)
    assert ("prior" in state.params["model"]["parts"]) == (prior == "learned")
    reconstruct = jax.jit(functools.partial(svg.posterior_prediction, cfg))
    preds, dists = reconstruct(state, batch, jax.random.key(1))
    b, t, *frame = batch["video"].shape
    chex.assert_shape(preds, (b, t - 1, *frame))
    assert float(preds.min()) > 0.0 and float(preds.max()) < 1.0  # sigmoid decoder
    chex.assert_shape(list(dists.values()), (b, t - 1, cfg.model.z_dim))
    # The contract's hook: frames 1..T-1 and the same posterior predictions.
    target, recon = jax.jit(functools.partial(svg.reconstruct, cfg))(
        state, batch, jax.random.key(1)
    )
    chex.assert_trees_all_equal(target, batch["video"][:, 1:])
    chex.assert_trees_all_close(recon, preds, atol=1e-6)
    if prior == "fixed":
        assert float(jnp.abs(dists["mu_p"]).max() + jnp.abs(dists["logvar_p"]).max()) == 0.0

    c, horizon = cfg.data.context_frames, cfg.data.predict_frames
    context = {"video": batch["video"][:, :c]}
    if cond_dim:
        context["cond"] = batch["cond"]
    sample = jax.jit(functools.partial(svg.sample, cfg), static_argnums=3)
    out = sample(sensitive(state), context, jax.random.key(2), horizon)
    chex.assert_shape(out, (b, horizon, *frame))
    chex.assert_trees_all_equal(out, sample(sensitive(state), context, jax.random.key(2), horizon))
    other = sample(sensitive(state), context, jax.random.key(3), horizon)
    assert float(jnp.abs(out - other).max()) > 1e-5  # z from the prior

    if cond_dim:
        moved = {**batch, "cond": batch["cond"] + 1.0}
        a = reconstruct(sensitive(state), batch, jax.random.key(1))[0]
        b = reconstruct(sensitive(state), moved, jax.random.key(1))[0]
        assert float(jnp.abs(a - b).max()) > 1e-5
        with pytest.raises(ValueError, match="cond"):
            svg.sample(cfg, state, {"video": batch["video"][:, :c]}, jax.random.key(0), horizon)


def network_inputs(config):
    """A batch's video, (sensitive) initial variables, condition and noise for SVG.apply."""
    batch = dynamics_batch(config)
    state = sensitive(init(config, batch))
    video = batch["video"]
    b, t = video.shape[:2]
    variables = {"params": state.params["model"], "batch_stats": state.batch_stats["model"]}
    return (
        video,
        variables,
        svg._cond(config, batch, t),
        svg._noise(config, jax.random.key(1), b, t),
    )


@pytest.mark.parametrize("last_frame_skip", [False, True])
def test_scan_paths(config, last_frame_skip):
    """The batched teacher-forced path equals the per-step scan fed real frames; running free
    (own predictions, prior z) after the context, frames beyond it are never read."""
    config = variant(config, last_frame_skip=last_frame_skip)
    video, variables, cond, eps = network_inputs(config)
    b, t = video.shape[:2]
    c = config.data.context_frames
    apply = jax.jit(
        lambda v, **kw: svg._network(config, v).apply(variables, v, cond, *eps, train=False, **kw)
    )
    steps = jnp.arange(1, t)
    every = jnp.ones(t - 1, bool)
    forced = dict(use_real=None, use_posterior=every)
    scanned = dict(use_real=jnp.ones((t - 1, b), bool), use_posterior=every)
    free = dict(
        use_real=jnp.broadcast_to((steps <= c)[:, None], (t - 1, b)), use_posterior=steps < c
    )
    chex.assert_trees_all_close(apply(video, **forced), apply(video, **scanned), atol=1e-5)

    edited = video.at[:, c:].set(1.0 - video[:, c:])
    chex.assert_trees_all_close(apply(video, **free)[0], apply(edited, **free)[0])
    changed = apply(video, **forced)[0][:, c:] - apply(edited, **forced)[0][:, c:]
    assert float(jnp.abs(changed).max()) > 1e-5  # teacher-forced, they are read


def test_last_frame_skip_reads_the_skips_of_the_previous_frame(config):
    """Within the context both read the skips of x_{t-1}; beyond it SVG's default keeps those of
    the last context frame, last_frame_skip those of x_{t-1}."""
    video, variables, cond, eps = network_inputs(config)
    b, t = video.shape[:2]
    c = config.data.context_frames

    def predict(last_frame_skip):
        cfg = variant(config, last_frame_skip=last_frame_skip)
        return svg._network(cfg, video).apply(variables, video, cond, *eps, train=False)[0]

    default, last = predict(False), predict(True)
    chex.assert_trees_all_close(default[:, : c - 1], last[:, : c - 1])
    assert float(jnp.abs(default[:, c:] - last[:, c:]).max()) > 1e-4


@pytest.mark.parametrize("logvar_init", [0.0, -6.0])
def test_posterior_logvar_init(config, logvar_init):
    """The posterior's logvar starts at model.posterior_logvar_init (its head's bias; SVG's
    N(0, 0.02) weights add little); the prior's stays at 0."""
    config = variant(config, posterior_logvar_init=logvar_init)
    batch = dynamics_batch(config)
    state = init(config, batch)
    video = batch["video"]
    b, t = video.shape[:2]
    variables = {"params": state.params["model"], "batch_stats": state.batch_stats["model"]}
    eps = svg._noise(config, jax.random.key(1), b, t)
    _, dists = svg._network(config, video).apply(
        variables, video, svg._cond(config, batch, t), *eps, train=False
    )
    np.testing.assert_allclose(np.mean(dists["logvar_q"]), logvar_init, atol=0.1)
    np.testing.assert_allclose(np.mean(dists["logvar_p"]), 0.0, atol=0.1)


def test_teacher_forcing_mask(config):
    cfg = config.copy_and_resolve_references()
    c, t = cfg.data.context_frames, 9
    mask = svg._teacher_forcing(cfg, jax.random.key(0), jnp.float32(0.5), 64, t)
    chex.assert_shape(mask, (t - 1, 64))
    assert bool(mask[:c].all())  # the context is always read
    assert 0.3 < float(mask[c:].mean()) < 0.7
    assert not bool(svg._teacher_forcing(cfg, jax.random.key(0), jnp.float32(0.0), 4, t)[c:].any())
    cfg.train.teacher_forcing = "batch"
    mask = svg._teacher_forcing(cfg, jax.random.key(1), jnp.float32(0.5), 64, t)
    assert bool(jnp.all(mask[c:] == mask[c, 0]))  # one draw for the whole batch


def train_fixed_batch(config, steps: int):
    """Trains on one fixed batch of Dynamics clips; returns the metrics of every step."""
    batch = dynamics_batch(config)
    state = init(config, batch)
    step = jax.jit(functools.partial(svg.train_step, config))
    history = []
    for i in range(steps):
        state, m = step(state, batch, jax.random.key(i))
        history.append(jax.device_get(m))
    assert int(state.step) == steps
    assert all(np.isfinite(h["loss"]) for h in history)
    return history


def test_training_lowers_the_loss(config):
    """SVG-LP with the Dynamics condition, cyclical KL annealing and a decaying teacher forcing
    ratio (so the scanned path that feeds predictions back): the loss falls on a fixed batch."""
    cfg = variant(config, cond_dim=4)
    cfg.train.update(
        kl_schedule="cyclical", kl_cycles=2, num_steps=20, tf_decay=0.1, tf_lower_bound=0.3
    )
    cfg.optim.model.lr = 2e-3  # SVG's default (the Dynamics config uses its KTH 8e-4)
    history = train_fixed_batch(cfg, 20)
    assert history[-1]["mse"] < 0.5 * history[0]["mse"]
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    assert history[0]["kl_weight"] == 0.0 and history[9]["kl_weight"] > 0.0
    assert history[0]["teacher_forcing_ratio"] == 1.0
    assert history[-1]["teacher_forcing_ratio"] == pytest.approx(0.3)
    assert history[-1]["teacher_forced_frac"] < 1.0


def test_bad_settings_raise(config):
    for section, field, value in [
        ("model", "arch", "resnet"),
        ("model", "prior", "vamp"),
        ("train", "kl_schedule", "linear"),
        ("train", "teacher_forcing", "clip"),
        ("train", "tf_lower_bound", 1.5),
        ("data", "resolution", 48),
    ]:
        bad = config.copy_and_resolve_references()
        bad[section][field] = value
        with pytest.raises(ConfigError, match=f"{section}.{field}"):
            config_lib.validate(bad, svg)


@pytest.mark.parametrize(
    "name", ["svg_lp_dynamics", "svg_lp_kth", "svg_fp_kth", "svg_lp_smmnist", "svg_lp_bair"]
)
@pytest.mark.parametrize("arg", [None, "tiny"])
def test_configs_are_valid(name, arg):
    cfg = load_config(name, arg)
    config_lib.validate(cfg, svg)
    assert cfg.method == "svg"
