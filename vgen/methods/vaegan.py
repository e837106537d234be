"""VAE-GAN (Larsen et al. 2016, "Autoencoding beyond pixels using a learned similarity metric"),
on single frames.

A VAE whose reconstruction error is measured in the features of a GAN discriminator (the slides'
"Learned similarity metric"). For frames x, with Dis_l the l-th hidden layer of the discriminator:

  z ~ q(z | x) = N(μ(x), σ²(x)),  x̃ = Dec(z);   z_p ~ N(0, I),  x_p = Dec(z_p)
  L_prior = KL(q(z | x) ‖ N(0, I))
  L_like  = −E_q log N(Dis_l(x) | Dis_l(x̃), I)                  (`feature_nll`)
  L_GAN   = log D(x) + log(1 − D(x̃)) + log(1 − D(x_p))

Algorithm 1 routes each error signal only to the networks it should train (`losses_fn`,
computed in one forward pass by `loss_grads`):

  Enc   ← ∇(L_prior + L_like)                    no GAN gradient reaches the encoder
  Dec   ← ∇(γ L_like + L_gen)                    L_gen = −log D(x̃) − log D(x_p)
  Dis   ← ∇(−L_GAN), the classifier loss          no L_like gradient reaches D
The decoder's GAN part is the non-saturating form L_gen of the paper's −L_GAN (the reference
deeppy code instead reverses the discriminator's gradient, i.e. the minimax form). The three
terms of L_GAN are summed as in Algorithm 1 (the reference code weighs real and generated
frames 1:1 instead). γ = model.gamma defaults to 1e-6, the reference code's CelebA setting
(its decoder gradient w ∇L_like + (1 − w) ∇L_GAN with w = 1e-6). Each network has its own
RMSProp, learning rate 3e-4 (the paper's; the reference code anneals from 0.025 / 64 ≈ 4e-4).
All three updates come from one jitted step. Left out: the reference code's equilibrium rule
(skip D or Dec updates while D is too good or too bad) and its weight decay.

Networks (the reference code's `architectures.img64x64` with c = model.channels = 32; 5×5
convolutions, "↓" stride 2, batch norm (BN) everywhere but in D's first layer):
  Enc  conv 2c↓, 4c↓, 8c↓ + BN + ReLU; Dense enc_hidden + BN + ReLU; Dense μ, Dense log σ²
  Dec  Dense to an (H / 8)² × 8c map + BN + ReLU; transposed conv 8c↑, 4c↑, c↑ + BN + ReLU;
       conv to C channels, sigmoid (the data are in [0, 1]; the paper's tanh for [−1, 1])
  Dis  conv c + ReLU; conv 4c↓, 8c↓, 8c↓ + BN + ReLU; Dense disc_hidden + BN + ReLU; Dense 1
with num_down = 3 stride-2 layers per network at every power-of-two resolution. Dis_l is the
output of the fourth convolution (model.like_layer = 3, an index into the discriminator's
`features`), taken before its batch norm and ReLU, as the reference code's recon_depth=9 does.

Data. Like ALI (`vgen.methods.ali`) this is an image model trained on the video sources: each
training step takes one random frame of every clip; evaluation and figures take the first
frame; `sample` ignores the context and returns independent prior samples Dec(z_p).
"""

import os
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from vgen import config_lib, losses, viz
from vgen.data.pipeline import random_frames
from vgen.errors import ConfigError
from vgen.metrics import psnr
from vgen.ops.gaussian import sample_gaussian
from vgen.train_state import TrainState

NETWORKS = ("enc", "dec", "disc")
BN_MOMENTUM = 0.9  # running average: 0.9 * old + 0.1 * batch (reference code)


# ----------------------------------------------------------------------------- networks


def _bn(train: bool) -> nn.BatchNorm:
    return nn.BatchNorm(use_running_average=not train, momentum=BN_MOMENTUM)


def _encoder_widths(channels: int, num_down: int) -> list[int]:
    """Feature maps of the encoder's stride-2 convs: 2c, 4c, 8c, then 8c."""
    return [channels * min(2 ** (i + 1), 8) for i in range(num_down)]


class Encoder(nn.Module):
    """Enc: frames [B, H, W, C] in [0, 1] -> μ, log σ² [B, z_dim]."""

    channels: int
    num_down: int
    hidden: int
    z_dim: int

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> tuple[jax.Array, jax.Array]:
        h = x * 2.0 - 1.0
        for width in _encoder_widths(self.channels, self.num_down):
            h = nn.Conv(width, (5, 5), (2, 2), use_bias=False)(h)
            h = nn.relu(_bn(train)(h))
        h = h.reshape(x.shape[0], -1)
        h = nn.relu(_bn(train)(nn.Dense(self.hidden, use_bias=False)(h)))
        return nn.Dense(self.z_dim, name="mu")(h), nn.Dense(self.z_dim, name="logvar")(h)


class Decoder(nn.Module):
    """Dec: latents [B, z_dim] -> frames [B, resolution, resolution, out_channels] in [0, 1]."""

    channels: int
    num_down: int
    resolution: int
    out_channels: int

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        widths = _encoder_widths(self.channels, self.num_down)[::-1]
        widths[-1] = self.channels
        side = self.resolution // 2**self.num_down
        h = nn.Dense(side * side * widths[0], use_bias=False)(z)
        h = nn.relu(_bn(train)(h)).reshape(z.shape[0], side, side, widths[0])
        for width in widths:
            h = nn.ConvTranspose(width, (5, 5), (2, 2), "SAME", use_bias=False)(h)
            h = nn.relu(_bn(train)(h))
        return jax.nn.sigmoid(nn.Conv(self.out_channels, (5, 5))(h))


class Discriminator(nn.Module):
    """Dis: frames x [B, H, W, C] in [0, 1] -> (logits [B], features).

    `features` lists the outputs of the 1 + num_down convolutions, before their batch norm and
    ReLU: [B, H, W, channels], then [B, H / 2^i, W / 2^i, w_i] for i = 1 .. num_down with
    w_i = 4c, 8c, 8c, ...; the defaults are the paper's, whose Dis_l is features[3]. With
    train=True, apply it with mutable=["batch_stats"] (batch norm on the batch's statistics).
    """

    channels: int = 32
    num_down: int = 3
    hidden: int = 512

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> tuple[jax.Array, list[jax.Array]]:
        features = [nn.Conv(self.channels, (5, 5))(x * 2.0 - 1.0)]
        h = nn.relu(features[-1])
        for i in range(self.num_down):
            width = self.channels * min(2 ** (i + 2), 8)
            features.append(nn.Conv(width, (5, 5), (2, 2), use_bias=False)(h))
            h = nn.relu(_bn(train)(features[-1]))
        h = h.reshape(x.shape[0], -1)
        h = nn.relu(_bn(train)(nn.Dense(self.hidden, use_bias=False)(h)))
        return nn.Dense(1)(h)[:, 0], features


def feature_log_likelihood(
    features_x: jax.Array, features_recon: jax.Array, batch_ndim: int = 1
) -> jax.Array:
    """log N(Dis_l(x) | Dis_l(x̃), I) per example: features [*batch, ...] (broadcastable) ->
    [*batch], summed over every axis after the first `batch_ndim`."""
    ll = losses.gaussian_log_likelihood(features_x, features_recon, 0.0)
    return jnp.sum(ll, axis=tuple(range(batch_ndim, ll.ndim)))


def feature_nll(features_x: jax.Array, features_recon: jax.Array) -> jax.Array:
    """L_like = −log N(Dis_l(x) | Dis_l(x̃), I), summed over feature dims, mean over the batch.

    features_x, features_recon: [B, ...] (e.g. [B, h, w, c] of `Discriminator`) -> scalar.
    Gradients flow into both arguments; callers route them (see `losses_fn`).
    """
    return -jnp.mean(feature_log_likelihood(features_x, features_recon))


def networks(
    config: ml_collections.ConfigDict, image_channels: int
) -> tuple[Encoder, Decoder, Discriminator]:
    """(encoder, decoder, discriminator) for frames with `image_channels` channels."""
    m = config.model
    encoder = Encoder(m.channels, m.num_down, m.enc_hidden, m.z_dim)
    decoder = Decoder(m.channels, m.num_down, config.data.resolution, image_channels)
    return encoder, decoder, Discriminator(m.channels, m.num_down, m.disc_hidden)


# ----------------------------------------------------------------------------- losses


def _stages(
    config: ml_collections.ConfigDict, batch_stats: dict[str, Any], x: jax.Array, rng: jax.Array
) -> tuple[Callable, Callable, Callable]:
    """The training-mode forward pass on frames x [B, H, W, C] as three functions, one per
    network (each returns (outputs, updated batch stats)):

      enc(params) -> ((z [B, z_dim], L_prior), (stats, μ, log σ²))      z ~ q(z | x)
      dec(params, z) -> ([x̃; x_p] [2B, H, W, C], stats)               z_p ~ N(0, I) inside
      disc(params, frames) -> ((logits [3B], Dis_l [3B, h, w, c]), stats)   of [x; frames]
    The same rng gives the same ε and z_p.
    """
    encoder, decoder, disc = networks(config, x.shape[-1])
    eps_rng, z_rng = jax.random.split(rng)

    def apply(net, name, params, *args):
        variables = {"params": params, "batch_stats": batch_stats[name]}
        out, new = net.apply(variables, *args, train=True, mutable=["batch_stats"])
        return out, new["batch_stats"]

    def enc_stage(params):
        (mu, logvar), stats = apply(encoder, "enc", params, x)
        kl = jnp.mean(jnp.sum(losses.gaussian_kl(mu, logvar, 0.0, 0.0), axis=-1))
        return (sample_gaussian(mu, logvar, eps_rng), kl), (
            stats,
            mu,
            logvar,
        )

    def dec_stage(params, z):
        z_p = jax.random.normal(z_rng, z.shape, z.dtype)
        return apply(decoder, "dec", params, jnp.concatenate([z, z_p]))

    def disc_stage(params, frames):
        (logits, features), stats = apply(disc, "disc", params, jnp.concatenate([x, frames]))
        return (logits, features[config.model.like_layer]), stats

    return enc_stage, dec_stage, disc_stage


def _like(f: jax.Array, b: int) -> jax.Array:
    """L_like from the like-layer features of [x; x̃; x_p] [3B, ...]."""
    return feature_nll(f[:b], f[b : 2 * b])


def _gen(logits: jax.Array, b: int) -> jax.Array:
    """The decoder's non-saturating GAN loss −log D(x̃) − log D(x_p), from logits [3B]."""
    return jnp.mean(
        losses.gan_generator_loss(logits[b : 2 * b]) + losses.gan_generator_loss(logits[2 * b :])
    )


def _disc(logits: jax.Array, b: int) -> jax.Array:
    """−L_GAN = −log D(x) − log(1 − D(x̃)) − log(1 − D(x_p)), from logits [3B]."""
    l_x, l_recon, l_prior = logits[:b], logits[b : 2 * b], logits[2 * b :]
    return jnp.mean(losses.gan_discriminator_loss(l_x, l_recon) + jax.nn.softplus(l_prior))


class Forward(NamedTuple):
    """One training-mode pass of the three networks on frames x [B, H, W, C]."""

    mu: jax.Array  # [B, z_dim]
    logvar: jax.Array  # [B, z_dim]
    x_recon: jax.Array  # x̃ = Dec(z), z ~ q(z | x): [B, H, W, C]
    x_prior: jax.Array  # x_p = Dec(z_p), z_p ~ N(0, I): [B, H, W, C]
    logits: jax.Array  # D's logits of [x; x̃; x_p]: [3B]
    terms: dict[str, jax.Array]  # scalars "kl" (L_prior), "like" (L_like), "gen", "disc" (−L_GAN)
    batch_stats: dict[str, Any]  # the networks' updated running statistics


def forward(
    config: ml_collections.ConfigDict,
    params: dict[str, Any],
    batch_stats: dict[str, Any],
    x: jax.Array,
    rng: jax.Array,
) -> Forward:
    """Encodes x [B, H, W, C], decodes z ~ q(z | x) and z_p ~ N(0, I) in one batch and runs D
    once on [x; x̃; x_p] (batch norm over that batch). params, batch_stats: {"enc", "dec",
    "disc"}. Terms are means over the batch; "gen" is the decoder's −log D(x̃) − log D(x_p)."""
    enc_stage, dec_stage, disc_stage = _stages(config, batch_stats, x, rng)
    b = x.shape[0]
    (z, kl), (enc_stats, mu, logvar) = enc_stage(params["enc"])
    frames, dec_stats = dec_stage(params["dec"], z)
    (logits, f), disc_stats = disc_stage(params["disc"], frames)
    return Forward(
        mu=mu,
        logvar=logvar,
        x_recon=frames[:b],
        x_prior=frames[b:],
        logits=logits,
        terms={"kl": kl, "like": _like(f, b), "gen": _gen(logits, b), "disc": _disc(logits, b)},
        batch_stats={"enc": enc_stats, "dec": dec_stats, "disc": disc_stats},
    )


def losses_fn(
    config: ml_collections.ConfigDict,
    params: dict[str, Any],
    batch_stats: dict[str, Any],
    x: jax.Array,
    rng: jax.Array,
) -> dict[str, jax.Array]:
    """The three losses of Algorithm 1 on frames x [B, H, W, C], as functions of all params
    {"enc", "dec", "disc"} whose gradient is zero w.r.t. every network but their own:

      "enc":  L_prior + L_like          "dec":  γ L_like + L_gen          "disc":  −L_GAN
    This is the definition `loss_grads` computes faster (a forward pass per loss here).
    """
    sg = jax.lax.stop_gradient

    def terms(own: str) -> dict[str, jax.Array]:
        view = {name: p if name == own else sg(p) for name, p in params.items()}
        return forward(config, view, batch_stats, x, rng).terms

    enc, dec, disc = terms("enc"), terms("dec"), terms("disc")
    return {
        "enc": enc["kl"] + enc["like"],
        "dec": config.model.gamma * dec["like"] + dec["gen"],
        "disc": disc["disc"],
    }


def loss_grads(
    config: ml_collections.ConfigDict,
    params: dict[str, Any],
    batch_stats: dict[str, Any],
    x: jax.Array,
    rng: jax.Array,
) -> tuple[dict[str, Any], dict[str, jax.Array], dict[str, Any]]:
    """(grads, metrics, new batch_stats) of a training step on frames x [B, H, W, C]:
    grads[n] = ∇_n losses_fn(...)[n] for n in "enc", "dec", "disc", from one forward pass.

    Each network's pullback gets only its own loss's cotangent: D's (of its outputs) is pulled
    back three times, for D's own loss, for L_like towards the encoder and for γ L_like + L_gen
    towards the decoder; the decoder's twice (its loss, and L_like towards z).
    """
    enc_stage, dec_stage, disc_stage = _stages(config, batch_stats, x, rng)
    b, gamma = x.shape[0], config.model.gamma
    (z, kl), enc_pull, (enc_stats, _, logvar) = jax.vjp(enc_stage, params["enc"], has_aux=True)
    frames, dec_pull, dec_stats = jax.vjp(dec_stage, params["dec"], z, has_aux=True)
    (logits, f), disc_pull, disc_stats = jax.vjp(disc_stage, params["disc"], frames, has_aux=True)
    like, d_like = jax.value_and_grad(_like)(f, b)
    gen, d_gen = jax.value_and_grad(_gen)(logits, b)
    disc, d_disc = jax.value_and_grad(_disc)(logits, b)

    g_disc, _ = disc_pull((d_disc, jnp.zeros_like(f)))
    _, frames_for_enc = disc_pull((jnp.zeros_like(logits), d_like))
    _, frames_for_dec = disc_pull((d_gen, gamma * d_like))
    g_dec, _ = dec_pull(frames_for_dec)
    _, z_for_enc = dec_pull(frames_for_enc)
    (g_enc,) = enc_pull((z_for_enc, jnp.ones_like(kl)))

    correct = jnp.concatenate(
        [
            losses.discriminator_accuracy(logits[:b], True),
            losses.discriminator_accuracy(logits[b:], False),
        ]
    )
    metrics = {
        "loss_enc": kl + like,
        "loss_dec": gamma * like + gen,
        "loss_disc": disc,
        "kl": kl,
        "nll_like": like,
        "recon_mse": jnp.mean(losses.squared_error(frames[:b], x)),
        "d_acc": jnp.mean(correct),
        "encoder_sigma": jnp.mean(jnp.exp(0.5 * logvar)),
    }
    grads = {"enc": g_enc, "dec": g_dec, "disc": g_disc}
    return grads, metrics, {"enc": enc_stats, "dec": dec_stats, "disc": disc_stats}


# ---------------------------------------------------------------------------- interface


def validate_config(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError, naming the field, for model settings this method cannot run."""
    m, t, r = config.model, config.train, config.data.resolution
    if r < 16 or r & (r - 1):
        raise ConfigError(f"data.resolution must be a power of two >= 16 for VAE-GAN, got {r}")
    for name in ("channels", "num_down", "z_dim", "enc_hidden", "disc_hidden"):
        if m[name] < 1:
            raise ConfigError(f"model.{name} must be >= 1, got {m[name]}")
    if r >> m.num_down < 1:
        raise ConfigError(
            f"model.num_down={m.num_down} halves data.resolution={r} below one pixel; "
            f"use at most {r.bit_length() - 1}"
        )
    if not 0 <= m.like_layer <= m.num_down:
        raise ConfigError(
            f"model.like_layer must index a discriminator conv layer, 0 .. {m.num_down} "
            f"(model.num_down), got {m.like_layer}"
        )
    if not m.gamma >= 0:
        raise ConfigError(f"model.gamma must be >= 0, got {m.gamma}")
    for name in ("lr_enc", "lr_dec", "lr_disc"):
        if not t[name] > 0:
            raise ConfigError(f"train.{name} must be > 0, got {t[name]}")
    if not 0.0 <= t.rmsprop_decay < 1.0:
        raise ConfigError(f"train.rmsprop_decay must be in [0, 1), got {t.rmsprop_decay}")


def init(config: ml_collections.ConfigDict, rng: jax.Array, example_batch: dict) -> TrainState:
    """Initialises the three networks for frames like example_batch["video"] [B, T, H, W, C]."""
    validate_config(config)
    x = jnp.asarray(example_batch["video"])[:, 0]
    encoder, decoder, disc = networks(config, x.shape[-1])
    e_rng, d_rng, s_rng = jax.random.split(rng, 3)
    z = jnp.zeros((x.shape[0], config.model.z_dim))
    variables = {
        "enc": encoder.init(e_rng, x, train=False),
        "dec": decoder.init(d_rng, z, train=False),
        "disc": disc.init(s_rng, x, train=False),
    }
    t = config.train
    lr = {"enc": t.lr_enc, "dec": t.lr_dec, "disc": t.lr_disc}
    return TrainState.create(
        params={name: v["params"] for name, v in variables.items()},
        tx={name: optax.rmsprop(lr[name], decay=t.rmsprop_decay) for name in NETWORKS},
        batch_stats={name: v["batch_stats"] for name, v in variables.items()},
    )


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One simultaneous encoder, decoder and discriminator update (Algorithm 1) on one random
    frame of each clip of batch["video"] [B, T, H, W, C]."""
    frame_rng, loss_rng = jax.random.split(rng)
    x = random_frames(batch["video"], frame_rng)
    grads, metrics, stats = loss_grads(config, state.params, state.batch_stats, x, loss_rng)
    for name in NETWORKS:
        state = state.apply_gradients(name, grads[name])
    return state.replace(step=state.step + 1, batch_stats=stats), metrics


def _variables(state: TrainState, name: str) -> dict[str, Any]:
    return {"params": state.params[name], "batch_stats": state.batch_stats[name]}


def encode(
    config: ml_collections.ConfigDict, state: TrainState, x: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """q(z | x) of frames x [B, H, W, C] (inference mode): μ, log σ² [B, z_dim]."""
    encoder, _, _ = networks(config, x.shape[-1])
    return encoder.apply(_variables(state, "enc"), x, train=False)


def decode(
    config: ml_collections.ConfigDict, state: TrainState, z: jax.Array, channels: int
) -> jax.Array:
    """Dec(z) for latents z [B, z_dim] (inference mode): [B, H, W, channels]."""
    _, decoder, _ = networks(config, channels)
    return decoder.apply(_variables(state, "dec"), z, train=False)


def reconstruct(
    config: ml_collections.ConfigDict, state: TrainState, x: jax.Array, rng: jax.Array | None
) -> jax.Array:
    """Dec(z), z ~ q(z | x) (z = μ(x) when rng is None): frames [B, H, W, C] -> [B, H, W, C]."""
    mu, logvar = encode(config, state, x)
    z = mu if rng is None else sample_gaussian(mu, logvar, rng)
    return decode(config, state, z, x.shape[-1])


def sample(
    config: ml_collections.ConfigDict,
    state: TrainState,
    context: dict[str, jax.Array],
    rng: jax.Array,
    horizon: int,
) -> jax.Array:
    """`horizon` independent prior samples Dec(z_p), z_p ~ N(0, I), per row: [B, horizon, H, W,
    C]. An image model does not predict: context {"video": [B, c, H, W, C]} only sets shapes."""
    video = context["video"]
    b, c = video.shape[0], video.shape[-1]
    z = jax.random.normal(rng, (b * horizon, config.model.z_dim))
    frames = decode(config, state, z, c)
    return frames.reshape(b, horizon, *frames.shape[1:])


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation metrics on the first frame of each clip (inference mode): reconstruction
    error and PSNR of Dec(μ(x)), KL(q(z | x) ‖ N(0, I)), and L_like of Dec(z), z ~ q(z | x)."""
    x = batch["video"][:, 0]
    _, _, disc = networks(config, x.shape[-1])
    mu, logvar = encode(config, state, x)
    x_mean = decode(config, state, mu, x.shape[-1])
    x_recon = decode(
        config,
        state,
        sample_gaussian(mu, logvar, rng),
        x.shape[-1],
    )
    _, features = disc.apply(_variables(state, "disc"), jnp.concatenate([x, x_recon]), False)
    f, b = features[config.model.like_layer], x.shape[0]
    return {
        "recon_mse_val": jnp.mean(losses.squared_error(x_mean, x)),
        "psnr_val_recon": jnp.mean(psnr(x_mean, x)),
        "kl_val": jnp.mean(jnp.sum(losses.gaussian_kl(mu, logvar, 0.0, 0.0), axis=-1)),
        "nll_like_val": feature_nll(f[:b], f[b:]),
    }


def write_figures(
    config: ml_collections.ConfigDict,
    state: TrainState,
    batch: dict,
    rng: jax.Array,
    outdir: str,
    num: int = 8,
) -> dict[str, str]:
    """Writes figures of the first frames of `batch` to outdir; returns {name: path}:

    samples.png          num × num prior samples Dec(z_p)
    reconstructions.png  data frames above their reconstructions Dec(μ(x))
    """
    x = jnp.asarray(batch["video"])[:num, 0]
    samples = np.asarray(sample(config, state, {"video": x[:1, None]}, rng, num * num))
    figures = {
        "samples": viz.image_grid(list(samples.reshape(num, num, *x.shape[1:]))),
        "reconstructions": viz.image_grid([x, reconstruct(config, state, x, None)]),
    }
    return {
        name: str(viz.write_png(os.path.join(outdir, f"{name}.png"), image))
        for name, image in figures.items()
    }


def default_config() -> ml_collections.ConfigDict:
    """The common fields plus VAE-GAN's settings (paper and reference code, CelebA 64×64)."""
    config = config_lib.common_config()
    config.method = "vaegan"
    config.data.context_frames = 1  # an image model; see the module docstring
    config.data.predict_frames = 7
    config.model = ml_collections.ConfigDict(
        dict(
            channels=32,  # c: D's first conv; Enc 2c, 4c, 8c; Dec 8c, 4c, c
            num_down=3,  # stride-2 layers per network
            z_dim=128,
            enc_hidden=1024,  # the encoder's Dense layer (reference code)
            disc_hidden=512,
            like_layer=3,  # Dis_l = features[3], the fourth conv's output
            gamma=1e-6,  # weight of L_like in the decoder's loss
        )
    )
    t = config.train
    t.batch_size = 64
    t.lr_enc = 3e-4
    t.lr_dec = 3e-4
    t.lr_disc = 3e-4
    t.rmsprop_decay = 0.9
    return config
