"""The multimodal VAE (Wu & Goodman 2018) for video: Method-I and Method-II of the slides.

Two modalities per step t = 1..T-1: a = x_t (the current frame) and b = x_{t-1} (the previous):
  h_i = E_i(x_i)                          a conv frame encoder per modality (vgen.nn.encoders)
  (mu_i, logvar_i) = LSTM_i(h_i)          an LSTM per modality over time: expert i at step t
  q(z_t | X) = PoE(N(0, I), experts in X) product of experts (losses.product_of_experts)
  x̂_i = G_i(z_t)                         a decoder per modality, without skip connections
Loss: -Σ_X ELBO(X) over X = {a, b}, {a}, {b} and `model.random_subsets` more drawn from the
step's key (losses.subsampled_elbo), ELBO(X) = Σ_{i in X} λ_i log p(x_i | z) - β KL(q(z | X) ||
N(0, I)), β on the KL annealing schedule (vgen.schedules.beta).

Method-I (`model.reconstruction = "pixel"`): log p(x_i | z) = -MSE(x̂_i, x_i), the mean squared
error over pixels, as SVG, so β plays the role of the Gaussian's variance and takes SVG's scale.
Method-II (`"discriminator"`): one GAN discriminator per modality at the decoder's output, and the
reconstruction term measured in its `model.like_layer` features (Larsen et al. 2016, the slides'
Method-II objective). The networks are updated as in VAE-GAN: encoders and LSTMs by the ELBO
terms (feature likelihood + β KL); decoders by γ × the feature likelihood plus the non-saturating
GAN loss of their reconstructions; discriminators by the GAN loss alone (real x_i against the
reconstructions of every subset that contains modality i).

Prediction (the slides' test time): after the context frames, only x_{t-1} is given. Expert b
reads it, q(z_t | x_{t-1}) = PoE(N(0, I), expert b), and G_a(z_t) is x̂_t, fed back as the next
x_{t-1}. The context frames are read by the same recurrence (expert b's LSTM sees x_0..x_{c-1}).
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vgen import adversarial, config_lib, losses, optim, schedules, viz
from vgen.data.pipeline import context_of
from vgen.metrics import psnr
from vgen.nn import mvae_nets
from vgen.nn.batch_stats import apply_with_stats
from vgen.nn.encoders import ARCHITECTURES
from vgen.nn.mvae_nets import CURRENT, MVAE, PREVIOUS, Discriminators
from vgen.train_state import TrainState

RECONSTRUCTIONS = ("pixel", "discriminator")  # Method-I, Method-II
MODEL_FIELDS = ("arch", "channels", "g_dim", "z_dim", "rnn_size", "rnn_layers")


CONFIG_CHECKS: tuple[config_lib.Check, ...] = (
    config_lib.require_choice("model.arch", ARCHITECTURES),
    config_lib.require_choice("model.reconstruction", RECONSTRUCTIONS),
    config_lib.require_power_of_two("data.resolution", 8),  # vgen.nn.encoders.num_blocks
    config_lib.require_at_least(1, *(f"model.{n}" for n in MODEL_FIELDS[1:])),
    config_lib.require_at_least(0, *(f"model.{n}" for n in ("random_subsets", "gamma"))),
    config_lib.require_at_least(0, "model.lambda_current", "model.lambda_previous"),
    *schedules.BETA_CHECKS,
    # Method-II's fields (checked for Method-I too, as optim.disc: every MVAE config has them)
    config_lib.require_at_least(1, "model.disc_channels", "model.disc_num_down"),
    config_lib.require_at_least(1, "model.disc_hidden"),
    config_lib.require(
        lambda c: 0 <= c.model.like_layer <= c.model.disc_num_down,
        "model.like_layer must index a discriminator conv layer, 0 .. model.disc_num_down",
    ),
    config_lib.require(
        lambda c: c.data.resolution >> c.model.disc_num_down >= 1,
        "model.disc_num_down halves data.resolution below one pixel",
    ),
)


def network_names(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """The keys of state.params (and of config.optim used): "model", and Method-II's "disc"."""
    return ("model", "disc") if config.model.reconstruction == "discriminator" else ("model",)


def _network(config: ml_collections.ConfigDict, video: jax.Array) -> MVAE:
    fields = {k: config.model[k] for k in MODEL_FIELDS}
    return MVAE(**fields, resolution=video.shape[2], out_channels=video.shape[-1])


def _discriminators(config: ml_collections.ConfigDict) -> Discriminators:
    m = config.model
    return Discriminators(m.disc_channels, m.disc_num_down, m.disc_hidden)


def _apply(config, video, params, batch_stats, method: Callable, *args, train: bool):
    """MVAE `method`(*args, train) for clips like video -> (output, batch stats)."""
    model = _network(config, video)
    return apply_with_stats(model, params, batch_stats, *args, train=train, method=method)


def _infer(config, state: TrainState, video: jax.Array, method: Callable, *args):
    """MVAE `method`(*args, train=False) with the state's parameters and running averages."""
    variables = (state.params["model"], state.batch_stats["model"])
    return _apply(config, video, *variables, method, *args, train=False)[0]


def _draws(config, rng: jax.Array, video: jax.Array, k: int) -> tuple[jax.Array, jax.Array]:
    """A step's subsets [S, 2] (k drawn ones) and reparameterisation noise [S, B, T-1, z_dim]."""
    subset_rng, noise_rng = jax.random.split(rng)
    subsets = losses.elbo_subsets(subset_rng, 2, k)
    b, t = video.shape[:2]
    eps = jax.random.normal(noise_rng, (subsets.shape[0], b, t - 1, config.model.z_dim))
    return subsets, eps


# ------------------------------------------------------------------------------- the loss


def _negative_elbo(config, log_likelihood: list[jax.Array], kl, subsets, beta) -> jax.Array:
    """-(mean over clips and steps of Σ_X ELBO(X)): log_likelihood [S_i, B, T-1] per modality
    on its `losses.modality_rows`, kl [S, B, T-1]."""
    lambdas = jnp.array([config.model.lambda_current, config.model.lambda_previous])
    return -jnp.mean(losses.subsampled_elbo_of_rows(log_likelihood, kl, subsets, lambdas, beta))


def pixel_loss(
    config: ml_collections.ConfigDict, params, batch_stats, video, subsets, eps, beta
) -> tuple[jax.Array, tuple[Any, dict[str, jax.Array]]]:
    """Method-I: -(mean over clips and steps of Σ_X ELBO(X)), log p(x_i | z) = -MSE."""
    args = (MVAE.reconstructions, video, subsets, eps)
    (recons, kl), stats = _apply(config, video, params, batch_stats, *args, train=True)
    targets = mvae_nets.modality_frames(video)
    mse = [losses.squared_error(r, x[None]) for r, x in zip(recons, targets, strict=True)]
    metrics = {
        "kl_joint": jnp.mean(kl[0]),
        "mse_current_joint": jnp.mean(mse[CURRENT][0]),
        "mse_previous_joint": jnp.mean(mse[PREVIOUS][0]),
        "mse_current_alone": jnp.mean(mse[CURRENT][1]),
        "mse_previous_alone": jnp.mean(mse[PREVIOUS][1]),
    }
    return _negative_elbo(config, [-e for e in mse], kl, subsets, beta), (stats, metrics)


def _feature_terms(config, disc_params, disc_stats, recons, targets, kl, subsets, beta):
    """Method-II's losses from the reconstructions and KLs (see `method2_stages`):
    ({"enc", "dec", "disc"}, (new discriminator batch stats, metrics))."""
    m, discs = config.model, _discriminators(config)
    like, gen, disc, correct, metrics = [], [], [], [], {"kl_joint": jnp.mean(kl[0])}
    for i, name in enumerate(mvae_nets.MODALITIES):
        (real, fake, f_real, f_fake), disc_stats = apply_with_stats(
            *(discs, disc_params, disc_stats, i, targets[i], recons[i], m.like_layer),
            train=True,
            method=Discriminators.real_and_fake,
        )
        ll = losses.feature_log_likelihood(f_real[None], f_fake, 2)  # [S_i, B * (T-1)]
        like.append(ll.reshape(recons[i].shape[:3]))
        gen.append(jnp.mean(losses.gan_generator_loss(fake)))
        disc.append(jnp.mean(losses.gan_discriminator_loss(real, fake)))
        correct += [
            losses.discriminator_accuracy(real, True),
            losses.discriminator_accuracy(fake.reshape(-1), False),
        ]
        metrics[f"mse_{name}_joint"] = jnp.mean(losses.squared_error(recons[i][0], targets[i]))
    like_term = _negative_elbo(config, like, kl, subsets, 0.0)
    metrics |= {"nll_like": like_term, "d_acc": jnp.mean(jnp.concatenate(correct))}
    out = {
        "enc": _negative_elbo(config, like, kl, subsets, beta),
        "dec": m.gamma * like_term + sum(gen),
        "disc": sum(disc),
    }
    return out, (disc_stats, metrics)


def method2_stages(
    config: ml_collections.ConfigDict, batch_stats, video, subsets, eps, beta
) -> tuple[Callable, Callable, Callable]:
    """Method-II's training pass on video [B, T, H, W, C] as the three stages of
    `adversarial.staged_grads` (encode and decode both take the "model" params):

      encode(model) -> ((z [S, B, T-1, z_dim] of each subset's PoE, KL [S, B, T-1]), stats)
      decode(model, z) -> ([recon_a [S_a, B, T-1, H, W, C], recon_b [S_b, ...]], stats)
      losses(disc, recons, KL) -> ({"enc", "dec", "disc"}, (disc stats, metrics))
    "enc" = -(mean Σ_X ELBO(X)) with log p(x_i | z) = log N(Dis_l(x_i) | Dis_l(x̂_i), I) trains
    encoders and LSTMs; "dec" = γ × its likelihood term + Σ_i -log D_i(x̂_i) the decoders;
    "disc" = Σ_i -log D_i(x_i) - log(1 - D_i(x̂_i)) (x̂_i: every subset holding i) the Ds."""
    stats, targets = batch_stats["model"], mvae_nets.modality_frames(video)
    return (
        lambda p: _apply(config, video, p, stats, MVAE.posteriors, video, subsets, eps, train=True),
        lambda p, z: _apply(config, video, p, stats, MVAE.decode_rows, z, train=True),
        lambda p, recons, kl: _feature_terms(
            config, p, batch_stats["disc"], recons, targets, kl, subsets, beta
        ),
    )


# ---------------------------------------------------------------------------- interface


def init(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> TrainState:
    """Initialises encoders, LSTMs and decoders (one Adam, as the MVAE code) and, for
    Method-II, the two discriminators (RMSProp, as VAE-GAN)."""
    video = jnp.asarray(batch["video"])
    model_rng, disc_rng = jax.random.split(rng)
    variables = {"model": _network(config, video).init(model_rng, video, train=False)}
    if "disc" in network_names(config):
        discs = _discriminators(config)
        variables["disc"] = discs.init(disc_rng, video[:, 0], False, method=Discriminators.both)
    return TrainState.create(
        params={k: v["params"] for k, v in variables.items()},
        tx=optim.make_optimizers(config, network_names(config)),
        batch_stats={k: v["batch_stats"] for k, v in variables.items()},
    )


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One step on the subsampled ELBO over a batch of videos [B, T, H, W, C]; Method-II
    routes its three losses' gradients as VAE-GAN's Algorithm 1 (`method2_stages`)."""
    video, params = batch["video"], state.params
    subsets, eps = _draws(config, rng, video, config.model.random_subsets)
    beta = schedules.beta(config.train, state.step)
    if "disc" in network_names(config):
        fns = method2_stages(config, state.batch_stats, video, subsets, eps, beta)
        grads, values, auxes = adversarial.staged_grads(
            *fns, params["model"], params["model"], params["disc"]
        )
        enc_stats, dec_stats, (disc_stats, metrics) = auxes
        state = state.apply_gradients("model", mvae_nets.merge_sides(grads["enc"], grads["dec"]))
        state = state.apply_gradients("disc", grads["disc"])
        stats = {"model": mvae_nets.merge_sides(enc_stats, dec_stats), "disc": disc_stats}
        metrics.update({f"loss_{k}": v for k, v in values.items()})
    else:
        (loss, (model_stats, metrics)), grads = jax.value_and_grad(
            pixel_loss, argnums=1, has_aux=True
        )(config, params["model"], state.batch_stats["model"], video, subsets, eps, beta)
        state = state.apply_gradients("model", grads)
        stats, metrics = {"model": model_stats}, {"loss": loss, **metrics}
    state = state.replace(step=state.step + 1, batch_stats=stats)
    return state, {"kl_weight": beta, **metrics}


def sample(
    config: ml_collections.ConfigDict,
    state: TrainState,
    context: dict[str, jax.Array],
    rng: jax.Array,
    horizon: int,
) -> jax.Array:
    """Context {"video": [B, c, H, W, C]} -> the next `horizon` frames [B, horizon, H, W, C],
    each from x_{t-1} alone (expert b and the prior), fed back."""
    video = jnp.asarray(context["video"])
    b, c = video.shape[:2]
    full = jnp.concatenate([video, jnp.zeros((b, horizon, *video.shape[2:]), video.dtype)], 1)
    eps = jax.random.normal(rng, (b, c + horizon - 1, config.model.z_dim))
    variables = {"params": state.params["model"], "batch_stats": state.batch_stats["model"]}
    preds = _network(config, full).apply(variables, full, c, eps, method=MVAE.predict)
    return preds[:, c - 1 :]


def reconstruct_subsets(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[list[jax.Array], list[jax.Array], jax.Array]:
    """Reconstructions of both modalities from the subsets {a, b}, {a}, {b} (batch-norm running
    averages): ([recon_a, recon_b] [2, B, T-1, H, W, C] (rows: joint, alone), targets, KL
    [3, B, T-1])."""
    video = batch["video"]
    recons, kl = _infer(
        config, state, video, MVAE.reconstructions, video, *_draws(config, rng, video, 0)
    )
    return recons, mvae_nets.modality_frames(video), kl


def reconstruct(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The contract's reconstruction: the current-frame modality x_1..x_{T-1} and G_a(z),
    z ~ q(z_t | x_t, x_{t-1}) (the joint posterior), both [B, T-1, H, W, C]."""
    recons, targets, _ = reconstruct_subsets(config, state, batch, rng)
    return targets[CURRENT], recons[CURRENT][0]


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation: joint KL, PSNR of the joint reconstructions of both modalities, PSNR of one
    predicted continuation and of repeating the last context frame."""
    video = batch["video"]
    c = config.data.context_frames
    rec_rng, sample_rng = jax.random.split(rng)
    recons, targets, kl = reconstruct_subsets(config, state, batch, rec_rng)
    truth = video[:, c:]
    preds = sample(config, state, context_of(batch, c), sample_rng, video.shape[1] - c)
    copy_last = jnp.broadcast_to(video[:, c - 1 : c], truth.shape)
    return {
        "kl_val_joint": jnp.mean(kl[0]),
        "psnr_val_current_joint": jnp.mean(psnr(recons[CURRENT][0], targets[CURRENT])),
        "psnr_val_previous_joint": jnp.mean(psnr(recons[PREVIOUS][0], targets[PREVIOUS])),
        "psnr_val_samples": jnp.mean(psnr(preds, truth)),
        "psnr_val_copy_last": jnp.mean(psnr(copy_last, truth)),
    }


def write_figures(
    config: ml_collections.ConfigDict,
    state: TrainState,
    batch: dict,
    rng: jax.Array,
    outdir: str,
    num: int = 8,
) -> dict[str, str]:
    """The slides' figures for the first `num` clips of `batch`, as PNGs in outdir:

    reconstructions.png  per clip: x_{t-1}, x_t (t = the first predicted frame), then their
                         reconstructions from {a, b}, and each from itself alone
    predictions.png      per clip: ground truth, then context + prediction from x_{t-1} alone
    prior_samples.png    both decoders on z ~ N(0, I): G_a(z) above G_b(z)
    Returns {name: path}.
    """
    batch = jax.tree.map(lambda x: jnp.asarray(x)[:num], batch)
    video = batch["video"]
    c = config.data.context_frames
    rec_rng, pred_rng, prior_rng = jax.random.split(rng, 3)
    recons, targets, _ = reconstruct_subsets(config, state, batch, rec_rng)
    t = c - 1  # index of the pair (x_{c-1}, x_c) among the T-1 steps
    columns = [targets[PREVIOUS][:, t], targets[CURRENT][:, t]]
    columns += [recons[i][row, :, t] for row in (0, 1) for i in (PREVIOUS, CURRENT)]
    preds = sample(config, state, context_of(batch, c), pred_rng, video.shape[1] - c)
    predicted = jnp.concatenate([video[:, :c], preds], axis=1)
    z = jax.random.normal(prior_rng, (num, config.model.z_dim))
    prior = [_infer(config, state, video, MVAE.decode, i, z) for i in (CURRENT, PREVIOUS)]
    figures = {
        "reconstructions": viz.filmstrip([np.stack(columns, axis=1)]),
        "predictions": viz.filmstrip([np.asarray(video), np.asarray(predicted)]),
        "prior_samples": viz.filmstrip([np.asarray(p)[None] for p in prior]),
    }
    return viz.write_pngs(outdir, figures)


def default_config() -> ml_collections.ConfigDict:
    """The common fields plus the model, ELBO and optimiser settings (MVAE code: Adam 1e-3 and
    annealed β; λ = 1 for both frames)."""
    config = config_lib.common_config()
    config.method = "mvae"
    config.model = ml_collections.ConfigDict(
        dict(
            reconstruction="pixel",  # "pixel": Method-I; "discriminator": Method-II
            arch="dcgan",  # frame encoders/decoders: "dcgan" or "vgg" (vgen.nn.encoders)
            channels=64,
            g_dim=128,
            z_dim=64,
            rnn_size=256,
            rnn_layers=1,
            lambda_current=1.0,  # λ_a: weight of x_t's likelihood
            lambda_previous=1.0,  # λ_b: weight of x_{t-1}'s likelihood
            random_subsets=0,  # k; with two modalities {a, b}, {a}, {b} are every subset
            # Method-II: the discriminators (vgen.nn.vaegan_nets) and the like term
            disc_channels=32,
            disc_num_down=3,
            disc_hidden=512,
            like_layer=3,  # Dis_l = the discriminator's features[like_layer]
            gamma=1e-6,  # weight of the like term in the decoders' loss (VAE-GAN's γ)
        )
    )
    t = config.train
    t.beta = 1e-4  # at the top of the annealing; MSE per pixel, so SVG's scale
    t.kl_schedule = "monotonic"  # the MVAE code anneals β linearly from 0
    t.kl_cycles = 1
    t.kl_ratio = 0.25
    t.steps_per_epoch = 100
    config.optim.model = config_lib.optimizer("adam", lr=1e-3, b1=0.9, b2=0.999)
    # Method-II's discriminators (built only for it, as model.disc_*): RMSProp, as VAE-GAN.
    config.optim.disc = config_lib.optimizer("rmsprop", lr=3e-4, decay=0.9)
    config.eval.evaluators = ("prediction", "reconstruction")
    return config
