"""RALI: network shapes for both latent structures, gradient flow, training, figures, CLI."""

import functools

import chex
import helpers
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from PIL import Image

from vgen import ali_game, config_lib
from vgen.data import make_source
from vgen.errors import ConfigError
from vgen.methods import rali
from vgen.train_state import TrainState


def load_config(arg: str):
    return helpers.load_config("rali_dynamics", arg)


@functools.cache
def _setup(latent: str):
    """(config, fixed batch of 4 clips, initial state) of the :tiny variant of a latent."""
    config = load_config("tiny" if latent == "single" else "tiny,sequence")
    batch = make_source(config).train_batch(jax.random.key(3), 4)
    state = jax.jit(functools.partial(rali.init, config))(jax.random.key(0, impl="rbg"), batch)
    return config, batch, state


@pytest.fixture(scope="module", params=["single", "sequence"])
def setup(request):
    return _setup(request.param)


def _apply(config, state, name, *args, num_frames=None, **kwargs):
    net = getattr(rali.networks(config, 3, num_frames), name)
    if name == "disc":
        return net.apply({"params": state.params["disc"]}, *args, train=False, **kwargs)
    return net.apply(ali_game.variables(state, name), *args, **kwargs)


def test_shapes(setup):
    config, batch, state = setup
    video = batch["video"]
    b, t, r = video.shape[0], video.shape[1], config.data.resolution
    zd = config.model.z_dim
    z_shape = (b, t, zd) if config.model.latent == "sequence" else (b, zd)

    nets = rali.networks(config, 3, t)

    @jax.jit
    def run(state, video):
        z = rali.prior_sample(config, jax.random.key(0), b, t)
        return dict(
            posterior=_apply(config, state, "encoder", video, train=False),
            z=z,
            clips=_apply(config, state, "decoder", z, train=False, num_frames=t),
            logits=_apply(config, state, "disc", video, z),
            recon=ali_game.autoencode(nets, state, video, None, {}),
            # the contract's reconstruction: whole clips
            hook=rali.reconstruct(config, state, {"video": video}, jax.random.key(1)),
            inter=ali_game.interpolate(nets, state, video, video[::-1], 3, None, {}, {}),
            # the last `horizon` frames of a generated clip of context + horizon frames
            sample=rali.sample(config, state, {"video": video[:, :1]}, jax.random.key(2), t - 1),
        )

    out = run(state, video)
    chex.assert_shape([*out["posterior"], out["z"]], z_shape)
    chex.assert_shape([out["clips"], out["recon"], *out["hook"]], (b, t, r, r, 3))
    chex.assert_trees_all_equal(out["hook"][0], video)
    assert float(out["clips"].min()) >= 0.0 and float(out["clips"].max()) <= 1.0
    chex.assert_shape(out["logits"], (b,))
    chex.assert_shape(out["inter"], (b, 3, t, r, r, 3))
    # The ends of an interpolation are the reconstructions from the means.
    chex.assert_trees_all_close(out["inter"][:, 0], out["recon"], atol=1e-6)
    chex.assert_shape(out["sample"], (b, t - 1, r, r, 3))


def test_single_latent_drives_every_step():
    """One z per clip: the encoder reads the whole clip (its first frame too), and the decoder's
    MLP feeds every step from z, differently at each step (it reads the time step)."""
    config, batch, state = _setup("single")
    video = batch["video"]
    mu, _ = _apply(config, state, "encoder", video, train=False)
    mu2, _ = _apply(config, state, "encoder", video.at[:, 0].set(1.0 - video[:, 0]), train=False)
    assert float(jnp.abs(mu - mu2).min(axis=-1).max()) > 0

    t = video.shape[1]
    z = jax.random.normal(jax.random.key(1), (video.shape[0], config.model.z_dim))

    def inputs(z):
        _, out = _apply(config, state, "decoder", z, train=False, num_frames=t,
                        mutable=["intermediates"])  # fmt: skip
        (u,) = out["intermediates"]["lstm_inputs"]
        return u  # [B, T, S, S, F]

    u, u2 = inputs(z), inputs(z + 1.0)
    assert u.shape[:2] == (video.shape[0], t)
    per_step_change = jnp.abs(u - u2).max(axis=(0, 2, 3, 4))
    assert float(per_step_change.min()) > 1e-4, per_step_change  # z reaches every step
    per_step_diff = jnp.abs(u[:, 1:] - u[:, :1]).max(axis=(0, 2, 3, 4))
    assert float(per_step_diff.min()) > 1e-4  # ... and each step gets its own input
    with pytest.raises(ConfigError, match="num_frames"):
        rali.sample(config, state, {"video": video[:, :1]}, jax.random.key(0), t)


def _all_changed(new, old) -> None:
    """Every leaf of `new` differs from its leaf in `old`."""
    for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(new), jax.tree.leaves(old),
                            strict=True):  # fmt: skip
        assert float(jnp.abs(a - b).max()) > 0, jax.tree_util.keystr(path)


def test_gradient_flow_and_each_side_lowers_its_loss(setup):
    """On a fixed batch, against a frozen generator the discriminator's loss falls; then,
    against that frozen discriminator, the decoder raises D(x̃, z). Gradient flow: in the first
    phase every D parameter moves and none of G's, in the second every encoder and decoder
    parameter moves and none of D's (Adam moves a parameter only where its gradient was ever
    nonzero). One compile serves both phases."""
    config, batch, state = setup
    step = jax.jit(functools.partial(rali.train_step, config))
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

    trained, history = run(state, 0.0, 3e-3, 20, 0)
    assert np.mean([h["d_loss"] for h in history[-3:]]) < history[0]["d_loss"] - 0.3
    chex.assert_trees_all_equal(trained.params["gen"], state.params["gen"])
    _all_changed(trained.params["disc"], state.params["disc"])  # D's gradient reaches all of D
    after, history = run(trained, 3e-3, 0.0, 12, 100)
    samples = [h["d_logit_samples"] for h in history]
    assert np.mean(samples[-4:]) > samples[0] + 1.0
    chex.assert_trees_all_equal(after.params["disc"], trained.params["disc"])
    _all_changed(after.params["gen"], trained.params["gen"])  # ... and G's all of G


def test_write_figures(setup, tmp_path):
    config, batch, state = setup
    paths = rali.write_figures(config, state, batch, jax.random.key(0), str(tmp_path), num=4)
    names = ("samples", "reconstructions", "interpolations")
    assert set(paths) == {*names, *(f"{n}_gif" for n in names)}
    r, t = config.data.resolution, batch["video"].shape[1]
    strip_w = t * (r + 1) + 1
    with Image.open(paths["samples"]) as img:  # 4 clips, one strip each
        assert img.size == (strip_w, 4 * (r + 1) + 3 * 4 + 1)
    with Image.open(paths["reconstructions"]) as img:  # per clip: data above reconstruction
        assert img.size == (strip_w, 4 * (2 * (r + 1) + 4) - 4 + 1)
    with Image.open(paths["interpolations_gif"]) as img:  # 2 pairs: x_a, 6 steps, x_b
        assert img.size == (8 * (r + 1) + 1, 2 * (r + 1) + 1)
        assert img.n_frames >= 2


def test_bad_model_settings_raise():
    config = load_config("tiny")
    config_lib.validate(config, rali)
    for field, value, message in [
        ("latent", "frames", "model.latent must be one of 'single', 'sequence', got 'frames'"),
        ("z_dim", 0, "model.z_dim must be >= 1, got 0"),
        ("lstm_size", 3, "model.lstm_size must be a power of two >= 2, got 3"),
        ("lstm_size", 16, "model.lstm_size must be below data.resolution"),
        ("dropout_hidden", 1.0, r"model.dropout_hidden must be in \[0.0, 1.0\), got 1.0"),
        ("num_frames", 3, "model.num_frames fixes the length"),  # 1 + 3 frames per clip
    ]:
        bad = config.copy_and_resolve_references()
        bad.model[field] = value
        with pytest.raises(ConfigError, match=message):
            config_lib.validate(bad, rali)
    bad = config.copy_and_resolve_references()
    bad.eval.predict_frames = 10  # one z: the clip length is fixed by model.num_frames
    with pytest.raises(ConfigError, match="num_frames"):
        config_lib.validate(bad, rali)
    bad.model.latent = "sequence"  # z_{1:T} generates any length
    config_lib.validate(bad, rali)


def test_defaults_and_eval_metrics(setup):
    config, batch, state = setup
    assert config.eval.evaluators == ("reconstruction", "figures")
    for name in ("gen", "disc"):
        assert dict(config.optim[name]) == dict(kind="adam", lr=1e-4, b1=0.5, b2=0.999)
    metrics = jax.jit(functools.partial(rali.eval_step, config))(state, batch, jax.random.key(0))
    assert set(metrics) == {
        "d_loss_val", "g_loss_val", "d_acc_val_data", "d_acc_val_samples", "recon_mse_val",
        "psnr_val_recon",
    }  # fmt: skip
    assert all(np.isfinite(float(v)) for v in metrics.values())
