"""VAE-GAN (Larsen et al. 2016, "Autoencoding beyond pixels using a learned similarity metric"),
on single frames.

A VAE whose reconstruction error is measured in the features of a GAN discriminator (the slides'
"Learned similarity metric"). For frames x, with Dis_l the l-th hidden layer of the discriminator:

  z ~ q(z | x) = N(μ(x), σ²(x)),  x̃ = Dec(z);   z_p ~ N(0, I),  x_p = Dec(z_p)
  L_prior = KL(q(z | x) ‖ N(0, I))
  L_like  = −E_q log N(Dis_l(x) | Dis_l(x̃), I)                  (`losses.feature_nll`)
  L_GAN   = log D(x) + log(1 − D(x̃)) + log(1 − D(x_p))

Algorithm 1 routes each error signal only to the networks it should train (`stages`, one
forward pass; `vgen.adversarial.staged_grads` pulls each network's gradient back from its own
loss only):

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

Networks: `vgen.nn.vaegan_nets` (the reference code's `architectures.img64x64`, c =
model.channels = 32, num_down = 3 stride-2 layers per network at every power-of-two
resolution). Dis_l is the output of the fourth convolution (model.like_layer = 3, an index into
the discriminator's `features`), taken before its batch norm and ReLU, as the reference code's
recon_depth=9 does.

Data. Like ALI this is an image model trained on the video sources: each training step takes one
random frame of every clip; evaluation and figures take the first frame; `sample` ignores the
context and returns independent prior samples Dec(z_p).
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vgen import adversarial, config_lib, losses, optim, viz
from vgen.data.pipeline import random_frames
from vgen.metrics import psnr
from vgen.nn.batch_stats import apply_with_stats
from vgen.nn.vaegan_nets import Decoder, Discriminator, Encoder
from vgen.ops.gaussian import sample_gaussian
from vgen.train_state import TrainState

NETWORKS = ("enc", "dec", "disc")

CONFIG_CHECKS: tuple[config_lib.Check, ...] = (
    config_lib.require_power_of_two("data.resolution", 16),
    config_lib.require_at_least(
        1, *(f"model.{n}" for n in ("channels", "num_down", "z_dim", "enc_hidden", "disc_hidden"))
    ),
    config_lib.require(
        lambda c: c.data.resolution >> c.model.num_down >= 1,
        "model.num_down halves data.resolution below one pixel; use at most log2(data.resolution)",
    ),
    config_lib.require(
        lambda c: 0 <= c.model.like_layer <= c.model.num_down,
        "model.like_layer must index a discriminator conv layer, 0 .. model.num_down",
    ),
    config_lib.require_at_least(0, "model.gamma"),
)


def networks(
    config: ml_collections.ConfigDict, image_channels: int
) -> tuple[Encoder, Decoder, Discriminator]:
    """(encoder, decoder, discriminator) for frames with `image_channels` channels."""
    m = config.model
    encoder = Encoder(m.channels, m.num_down, m.enc_hidden, m.z_dim)
    decoder = Decoder(m.channels, m.num_down, config.data.resolution, image_channels)
    return encoder, decoder, Discriminator(m.channels, m.num_down, m.disc_hidden)


def stages(
    config: ml_collections.ConfigDict, batch_stats: dict[str, Any], x: jax.Array, rng: jax.Array
) -> tuple[Callable, Callable, Callable]:
    """Algorithm 1's training-mode pass on frames x [B, H, W, C] as the three stages of
    `adversarial.staged_grads` (the same rng gives the same ε and z_p):

      encode(enc) -> ((z [B, z_dim] ~ q(z | x), L_prior), (stats, log σ² [B, z_dim]))
      decode(dec, z) -> ([x̃; x_p] [2B, H, W, C], stats)          z_p ~ N(0, I) drawn inside
      losses(disc, [x̃; x_p], L_prior) -> ({"enc": L_prior + L_like, "dec": γ L_like + L_gen,
          "disc": −L_GAN}, (stats, metrics))        D runs once on [x; x̃; x_p] (one BN batch)
    Terms are means over the batch; stats are each network's updated batch statistics.
    """
    encoder, decoder, disc = networks(config, x.shape[-1])
    eps_rng, z_rng = jax.random.split(rng)
    b, gamma = x.shape[0], config.model.gamma

    def apply(net, name, params, *args):
        return apply_with_stats(net, params, batch_stats[name], *args, train=True)

    def encode(params):
        (mu, logvar), stats = apply(encoder, "enc", params, x)
        kl = jnp.mean(jnp.sum(losses.gaussian_kl(mu, logvar, 0.0, 0.0), axis=-1))
        return (sample_gaussian(mu, logvar, eps_rng), kl), (stats, logvar)

    def decode(params, z):
        z_p = jax.random.normal(z_rng, z.shape, z.dtype)
        return apply(decoder, "dec", params, jnp.concatenate([z, z_p]))

    def losses_fn(params, frames, kl):
        (logits, features), stats = apply(disc, "disc", params, jnp.concatenate([x, frames]))
        f = features[config.model.like_layer]
        like = losses.feature_nll(f[:b], f[b : 2 * b])
        l_x, l_recon, l_prior = logits[:b], logits[b : 2 * b], logits[2 * b :]
        gen = jnp.mean(losses.gan_generator_loss(l_recon) + losses.gan_generator_loss(l_prior))
        d = jnp.mean(losses.gan_discriminator_loss(l_x, l_recon) + jax.nn.softplus(l_prior))
        correct = [
            losses.discriminator_accuracy(l_x, True),
            losses.discriminator_accuracy(logits[b:], False),
        ]
        metrics = {
            "kl": kl,
            "nll_like": like,
            "recon_mse": jnp.mean(losses.squared_error(frames[:b], x)),
            "d_acc": jnp.mean(jnp.concatenate(correct)),
        }
        return {"enc": kl + like, "dec": gamma * like + gen, "disc": d}, (stats, metrics)

    return encode, decode, losses_fn


# ---------------------------------------------------------------------------- interface


def init(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> TrainState:
    """Initialises the three networks for frames like batch["video"] [B, T, H, W, C]."""
    x = jnp.asarray(batch["video"])[:, 0]
    encoder, decoder, disc = networks(config, x.shape[-1])
    e_rng, d_rng, s_rng = jax.random.split(rng, 3)
    z = jnp.zeros((x.shape[0], config.model.z_dim))
    variables = {
        "enc": encoder.init(e_rng, x, train=False),
        "dec": decoder.init(d_rng, z, train=False),
        "disc": disc.init(s_rng, x, train=False),
    }
    return TrainState.create(
        params={name: v["params"] for name, v in variables.items()},
        tx=optim.make_optimizers(config, NETWORKS),
        batch_stats={name: v["batch_stats"] for name, v in variables.items()},
    )


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One simultaneous encoder, decoder and discriminator update (Algorithm 1) on one random
    frame of each clip of batch["video"] [B, T, H, W, C]."""
    frame_rng, loss_rng = jax.random.split(rng)
    x = random_frames(batch["video"], frame_rng)
    fns = stages(config, state.batch_stats, x, loss_rng)
    grads, values, auxes = adversarial.staged_grads(*fns, *(state.params[n] for n in NETWORKS))
    (enc_stats, logvar), dec_stats, (disc_stats, metrics) = auxes
    for name in NETWORKS:
        state = state.apply_gradients(name, grads[name])
    stats = {"enc": enc_stats, "dec": dec_stats, "disc": disc_stats}
    metrics = {
        **{f"loss_{name}": value for name, value in values.items()},
        **metrics,
        "encoder_sigma": jnp.mean(jnp.exp(0.5 * logvar)),
    }
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


def autoencode(
    config: ml_collections.ConfigDict, state: TrainState, x: jax.Array, rng: jax.Array | None
) -> jax.Array:
    """Dec(z), z ~ q(z | x) (z = μ(x) when rng is None): frames [B, H, W, C] -> [B, H, W, C]."""
    mu, logvar = encode(config, state, x)
    z = mu if rng is None else sample_gaussian(mu, logvar, rng)
    return decode(config, state, z, x.shape[-1])


def reconstruct(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The contract's reconstruction: the first frame of each clip and its mean reconstruction
    Dec(μ(x)) (rng unused), both [B, 1, H, W, C]."""
    x = batch["video"][:, :1]
    return x, autoencode(config, state, x[:, 0], None)[:, None]


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
    x_recon = decode(config, state, sample_gaussian(mu, logvar, rng), x.shape[-1])
    _, features = disc.apply(_variables(state, "disc"), jnp.concatenate([x, x_recon]), False)
    f, b = features[config.model.like_layer], x.shape[0]
    return {
        "recon_mse_val": jnp.mean(losses.squared_error(x_mean, x)),
        "psnr_val_recon": jnp.mean(psnr(x_mean, x)),
        "kl_val": jnp.mean(jnp.sum(losses.gaussian_kl(mu, logvar, 0.0, 0.0), axis=-1)),
        "nll_like_val": losses.feature_nll(f[:b], f[b:]),
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
        "reconstructions": viz.image_grid([x, autoencode(config, state, x, None)]),
    }
    return viz.write_pngs(outdir, figures)


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
    config.train.batch_size = 64
    for name in NETWORKS:  # one RMSProp per network (the paper's learning rate)
        config.optim[name] = config_lib.optimizer("rmsprop", lr=3e-4, decay=0.9)
    config.eval.evaluators = ("reconstruction", "figures")
    return config
