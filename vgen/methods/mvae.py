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

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from vgen import config_lib, losses, schedules, viz
from vgen.data.pipeline import context_of
from vgen.errors import ConfigError
from vgen.metrics import psnr
from vgen.nn import lstm
from vgen.nn.encoders import ARCHITECTURES, Decoder, Encoder, num_blocks
from vgen.nn.scan import scan_over_time
from vgen.nn.vaegan_nets import Discriminator
from vgen.ops.gaussian import reparameterize
from vgen.train_state import TrainState

MODALITIES = ("current", "previous")  # a = x_t, b = x_{t-1}
CURRENT, PREVIOUS = 0, 1
RECONSTRUCTIONS = ("pixel", "discriminator")  # Method-I, Method-II


# --------------------------------------------------------------------------------- model


class MVAE(nn.Module):
    """Encoders, expert LSTMs and decoders of both modalities (one parameter tree)."""

    arch: str
    channels: int
    g_dim: int
    z_dim: int
    rnn_size: int
    rnn_layers: int
    resolution: int
    out_channels: int

    def setup(self):
        self.encoders = [Encoder(self.arch, self.g_dim, self.channels) for _ in MODALITIES]
        self.lstms = [
            lstm.GaussianLSTM(self.z_dim, self.rnn_size, self.rnn_layers) for _ in MODALITIES
        ]
        self.decoders = [Decoder(self.arch, self.out_channels, self.channels) for _ in MODALITIES]

    def expert_step(self, i: int, carry, x: jax.Array, train: bool):
        """Expert i reads frames x [B, H, W, C]: (carry, (mu, logvar) [B, z_dim])."""
        h, _ = self.encoders[i](x, train)
        zeros = jnp.zeros((x.shape[0], self.z_dim), x.dtype)  # the LSTM's own z is not used
        carry, (_, mu, logvar) = self.lstms[i](carry, h, zeros)
        return carry, (mu, logvar)

    def decode(self, i: int, z: jax.Array, train: bool) -> jax.Array:
        """Decoder i: z [..., z_dim] -> frames [..., H, W, C] in (0, 1)."""
        flat = z.reshape(-1, self.z_dim)
        x = self.decoders[i](flat, [None] * num_blocks(self.resolution), train)
        return x.reshape(*z.shape[:-1], *x.shape[1:])

    def experts(self, video: jax.Array, train: bool) -> tuple[jax.Array, jax.Array]:
        """Video [B, T, H, W, C] -> mu, logvar [2, B, T-1, z_dim]: at step t expert a has read
        x_1..x_t and expert b x_0..x_{t-1}. Frames are encoded all at once, the LSTMs scanned."""
        b, t = video.shape[:2]
        hs = []
        for i, frames in ((CURRENT, video[:, 1:]), (PREVIOUS, video[:, :-1])):
            h, _ = self.encoders[i](frames.reshape(b * (t - 1), *video.shape[2:]), train)
            hs.append(h.reshape(b, t - 1, -1))

        def step(model, carries, h):
            outs = [model.lstms[i](carries[i], h[i], jnp.zeros((b, self.z_dim))) for i in (0, 1)]
            return tuple(c for c, _ in outs), tuple(o[1:] for _, o in outs)

        carry = lstm.zero_carry(b, self.rnn_size, self.rnn_layers)
        _, outs = scan_over_time(step, (1, 1))(self, (carry, carry), tuple(hs))
        return jnp.stack([o[0] for o in outs]), jnp.stack([o[1] for o in outs])

    def __call__(self, video: jax.Array, train: bool) -> tuple[jax.Array, jax.Array]:
        """Initialisation: every network once; returns the experts and both decodings of mu."""
        mu, logvar = self.experts(video, train)
        return self.decode(CURRENT, mu[0], train), self.decode(PREVIOUS, mu[1], train)

    def predict(self, video: jax.Array, context: int, eps: jax.Array) -> jax.Array:
        """Frames 1..T-1 [B, T-1, H, W, C], each x̂_t = G_a(z_t), z_t ~ PoE(N(0, I), expert b of
        x_{t-1}) with noise eps [B, T-1, z_dim]; x_{t-1} is the real frame for t <= `context`,
        then the previous prediction (frames of `video` beyond the context are not read)."""
        b, t = video.shape[:2]
        use_real = jnp.arange(1, t) <= context

        def step(model, carry, inputs):
            lstm_carry, previous = carry
            x_real, real, eps_t = inputs
            x = jnp.where(real, x_real, previous)
            lstm_carry, (mu, logvar) = model.expert_step(PREVIOUS, lstm_carry, x, train=False)
            mu, logvar = losses.product_of_experts(mu[None], logvar[None])
            x_hat = model.decode(CURRENT, reparameterize(mu, logvar, eps_t), train=False)
            return (lstm_carry, x_hat), x_hat

        scan = scan_over_time(step, (1, 0, 1), variable_broadcast=["params", "batch_stats"])
        carry = (lstm.zero_carry(b, self.rnn_size, self.rnn_layers), jnp.zeros_like(video[:, 0]))
        _, preds = scan(self, carry, (video[:, :-1], use_real, eps))
        return preds


def _network(config: ml_collections.ConfigDict, video: jax.Array) -> MVAE:
    m = config.model
    return MVAE(
        arch=m.arch,
        channels=m.channels,
        g_dim=m.g_dim,
        z_dim=m.z_dim,
        rnn_size=m.rnn_size,
        rnn_layers=m.rnn_layers,
        resolution=video.shape[2],
        out_channels=video.shape[-1],
    )


class Discriminators(nn.Module):
    """Method-II: a VAE-GAN discriminator (`vaegan.Discriminator`) per modality."""

    channels: int
    num_down: int
    hidden: int

    def setup(self):
        self.nets = [
            Discriminator(self.channels, self.num_down, self.hidden) for _ in MODALITIES
        ]

    def __call__(self, i: int, x: jax.Array, train: bool):
        """Discriminator i on frames x [N, H, W, C]: (logits [N], features)."""
        return self.nets[i](x, train)

    def both(self, x: jax.Array, train: bool):
        """Both discriminators on x (initialisation)."""
        return [net(x, train) for net in self.nets]


def _discriminators(config: ml_collections.ConfigDict) -> Discriminators:
    m = config.model
    return Discriminators(m.disc_channels, m.disc_num_down, m.disc_hidden)


def modality_rows(num_subsets: int) -> tuple[list[int], list[int]]:
    """Rows of `losses.elbo_subsets(rng, 2, k)` that hold each modality, known statically: row 0
    (both), row 1 + i (modality i alone) and every random row (decoded for both, masked later)."""
    random_rows = list(range(3, num_subsets))
    return [0, 1, *random_rows], [0, 2, *random_rows]


# ------------------------------------------------------------------------------- the loss


def subset_posteriors(
    mu: jax.Array, logvar: jax.Array, subsets: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Experts mu, logvar [2, ...] and subsets [S, 2] -> each subset's PoE (mu, logvar) [S, ...]."""
    return jax.vmap(lambda mask: losses.product_of_experts(mu, logvar, mask))(subsets)


def _apply(model: MVAE, fn, params, batch_stats, train: bool):
    """fn(bound model) -> (output, new batch stats); batch norm updates its statistics in
    training mode and only reads them otherwise."""
    variables = {"params": params, "batch_stats": batch_stats}
    if not train:
        return nn.apply(fn, model)(variables), batch_stats
    out, new = nn.apply(fn, model, mutable=["batch_stats"])(variables)
    return out, new["batch_stats"]


def _encode_stage(model, params, batch_stats, video, subsets, eps, train: bool):
    """Encoders, LSTMs and PoE: ((z [S, B, T-1, z_dim] of each subset's posterior, KL
    [S, B, T-1]), new batch stats)."""

    def fn(m: MVAE):
        mu, logvar = m.experts(video, train)
        joint_mu, joint_logvar = subset_posteriors(mu, logvar, subsets)
        kl = jnp.sum(losses.gaussian_kl(joint_mu, joint_logvar, 0.0, 0.0), axis=-1)
        return reparameterize(joint_mu, joint_logvar, eps), kl

    return _apply(model, fn, params, batch_stats, train)


def _decode_stage(model, params, batch_stats, z, train: bool):
    """Decoders: ([recon_a [S_a, B, T-1, H, W, C], recon_b [S_b, ...]] from the rows of z that
    hold each modality (`modality_rows`), new batch stats)."""
    rows = modality_rows(z.shape[0])
    fn = lambda m: [m.decode(i, z[jnp.array(rows[i])], train) for i in (CURRENT, PREVIOUS)]  # noqa: E731
    return _apply(model, fn, params, batch_stats, train)


def is_decoder(name: str) -> bool:
    """Whether a top-level MVAE parameter (or batch stats) subtree belongs to a decoder."""
    return name.startswith("decoders")


def _merge(encoder_side: dict, decoder_side: dict) -> dict:
    """The decoders' subtrees of `decoder_side` with every other subtree of `encoder_side`."""
    return {k: (decoder_side if is_decoder(k) else encoder_side)[k] for k in encoder_side}


def _targets(video: jax.Array) -> list[jax.Array]:
    """What each modality reconstructs: [x_1..x_{T-1}, x_0..x_{T-2}], each [B, T-1, H, W, C]."""
    return [video[:, 1:], video[:, :-1]]


def _reconstructions(model, params, batch_stats, video, subsets, eps, train: bool):
    """Decodings of each subset's z: ([recon_a [S_a, B, T-1, H, W, C], recon_b], targets
    [x_1..x_{T-1}, x_0..x_{T-2}], KL [S, B, T-1], new batch stats)."""
    (z, kl), enc_stats = _encode_stage(model, params, batch_stats, video, subsets, eps, train)
    recons, dec_stats = _decode_stage(model, params, batch_stats, z, train)
    return recons, _targets(video), kl, _merge(enc_stats, dec_stats)


def _scatter_rows(per_modality: list[jax.Array], num_subsets: int) -> jax.Array:
    """Per-modality values [S_i, ...] of `modality_rows` -> [S, 2, ...] (zeros elsewhere)."""
    rows = modality_rows(num_subsets)
    out = jnp.zeros((num_subsets, 2, *per_modality[0].shape[1:]), per_modality[0].dtype)
    for i, values in enumerate(per_modality):
        out = out.at[jnp.array(rows[i]), i].set(values)
    return out


def _lambdas(config: ml_collections.ConfigDict) -> jax.Array:
    return jnp.array([config.model.lambda_current, config.model.lambda_previous])


def _draws(config, rng: jax.Array, video: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The step's subsets [S, 2] and reparameterisation noise [S, B, T-1, z_dim]."""
    subset_rng, noise_rng = jax.random.split(rng)
    subsets = losses.elbo_subsets(subset_rng, 2, config.model.random_subsets)
    b, t = video.shape[:2]
    eps = jax.random.normal(noise_rng, (subsets.shape[0], b, t - 1, config.model.z_dim))
    return subsets, eps


# ---------------------------------------------------------------------------- interface


def validate_config(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError for model and training settings this method cannot run."""
    m, t = config.model, config.train
    if m.arch not in ARCHITECTURES:
        raise ConfigError(f"model.arch must be one of {ARCHITECTURES}, got {m.arch!r}")
    if m.reconstruction not in RECONSTRUCTIONS:
        raise ConfigError(
            f"model.reconstruction must be one of {RECONSTRUCTIONS}, got {m.reconstruction!r}"
        )
    try:
        num_blocks(config.data.resolution)
    except ValueError as e:
        raise ConfigError(f"data.resolution: {e}") from None
    for name in ("channels", "g_dim", "z_dim", "rnn_size", "rnn_layers"):
        if m[name] < 1:
            raise ConfigError(f"model.{name} must be >= 1, got {m[name]}")
    if m.random_subsets < 0:
        raise ConfigError(f"model.random_subsets must be >= 0, got {m.random_subsets}")
    for name in ("lambda_current", "lambda_previous"):
        if not m[name] >= 0:
            raise ConfigError(f"model.{name} must be >= 0, got {m[name]}")
    if m.reconstruction == "discriminator":
        for name in ("disc_channels", "disc_num_down", "disc_hidden"):
            if m[name] < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {m[name]}")
        if not 0 <= m.like_layer <= m.disc_num_down:
            raise ConfigError(
                f"model.like_layer must index a discriminator conv layer, 0 .. "
                f"{m.disc_num_down} (model.disc_num_down), got {m.like_layer}"
            )
        if config.data.resolution >> m.disc_num_down < 1:
            raise ConfigError("model.disc_num_down halves data.resolution below one pixel")
        if not m.gamma >= 0 or not t.disc_lr > 0:
            raise ConfigError("model.gamma must be >= 0 and train.disc_lr > 0")
    if config.data.context_frames < 1:
        raise ConfigError("data.context_frames must be >= 1 (prediction reads x_{t-1})")
    if not t.lr > 0:
        raise ConfigError(f"train.lr must be > 0, got {t.lr}")
    schedules.validate_beta(t)


def init(config: ml_collections.ConfigDict, rng: jax.Array, example_batch: dict) -> TrainState:
    """Initialises encoders, LSTMs and decoders (one Adam, as the MVAE code) and, for
    Method-II, the two discriminators (RMSProp, as VAE-GAN)."""
    validate_config(config)
    video = jnp.asarray(example_batch["video"])
    model_rng, disc_rng = jax.random.split(rng)
    variables = {"model": _network(config, video).init(model_rng, video, train=False)}
    t = config.train
    tx = {"model": optax.adam(t.lr, b1=t.adam_b1, b2=t.adam_b2)}
    if config.model.reconstruction == "discriminator":
        frames = video[:, 0]
        discs = _discriminators(config)
        variables["disc"] = discs.init(disc_rng, frames, False, method=Discriminators.both)
        tx["disc"] = optax.rmsprop(t.disc_lr, decay=t.rmsprop_decay)
    return TrainState.create(
        params={k: v["params"] for k, v in variables.items()},
        tx=tx,
        batch_stats={k: v["batch_stats"] for k, v in variables.items()},
    )


def pixel_loss(
    config: ml_collections.ConfigDict, params, batch_stats, video, subsets, eps, beta
) -> tuple[jax.Array, tuple[Any, dict[str, jax.Array]]]:
    """Method-I: -(mean over clips and steps of Σ_X ELBO(X)), log p(x_i | z) = -MSE."""
    model = _network(config, video)
    recons, targets, kl, stats = _reconstructions(
        model, params, batch_stats, video, subsets, eps, train=True
    )
    mse = [losses.squared_error(r, x[None]) for r, x in zip(recons, targets, strict=True)]
    log_likelihood = _scatter_rows([-e for e in mse], subsets.shape[0])
    elbo = losses.subsampled_elbo(log_likelihood, kl, subsets, _lambdas(config), beta)
    metrics = {
        "kl_joint": jnp.mean(kl[0]),
        "mse_current_joint": jnp.mean(mse[CURRENT][0]),
        "mse_previous_joint": jnp.mean(mse[PREVIOUS][0]),
        "mse_current_alone": jnp.mean(mse[CURRENT][1]),
        "mse_previous_alone": jnp.mean(mse[PREVIOUS][1]),
    }
    return -jnp.mean(elbo), (stats, metrics)


def _feature_terms(config, disc_params, disc_stats, recons, targets, kl, subsets, beta):
    """Method-II's losses from the reconstructions and KLs (see `feature_losses`):
    ({"enc", "dec", "disc"}, (new discriminator batch stats, metrics))."""
    m = config.model
    discs = _discriminators(config)
    like, gen, disc, correct = [], [], [], []
    for i in (CURRENT, PREVIOUS):
        real, fake = targets[i], recons[i]  # [B, T-1, H, W, C], [S_i, B, T-1, H, W, C]
        n = real.shape[0] * real.shape[1]
        frames = jnp.concatenate(
            [real.reshape(n, *real.shape[2:]), fake.reshape(-1, *real.shape[2:])]
        )
        (logits, features), new = discs.apply(
            {"params": disc_params, "batch_stats": disc_stats},
            i,
            frames,
            True,
            mutable=["batch_stats"],
        )
        disc_stats = new["batch_stats"]
        f = features[m.like_layer]
        f_fake = f[n:].reshape(fake.shape[0], n, *f.shape[1:])
        like.append(losses.feature_log_likelihood(f[None, :n], f_fake, 2).reshape(fake.shape[:3]))
        fake_logits = logits[n:].reshape(fake.shape[0], n)
        gen.append(jnp.mean(losses.gan_generator_loss(fake_logits)))
        disc.append(jnp.mean(losses.gan_discriminator_loss(logits[:n], fake_logits)))
        correct += [
            losses.discriminator_accuracy(logits[:n], True),
            losses.discriminator_accuracy(logits[n:], False),
        ]
    log_likelihood = _scatter_rows(like, subsets.shape[0])
    lambdas = _lambdas(config)
    elbo = losses.subsampled_elbo(log_likelihood, kl, subsets, lambdas, beta)
    like_term = -jnp.mean(losses.subsampled_elbo(log_likelihood, kl, subsets, lambdas, 0.0))
    out = {"enc": -jnp.mean(elbo), "dec": m.gamma * like_term + sum(gen), "disc": sum(disc)}
    metrics = {
        "kl_joint": jnp.mean(kl[0]),
        "nll_like": like_term,
        "mse_current_joint": jnp.mean(losses.squared_error(recons[CURRENT][0], targets[CURRENT])),
        "mse_previous_joint": jnp.mean(
            losses.squared_error(recons[PREVIOUS][0], targets[PREVIOUS])
        ),
        "d_acc": jnp.mean(jnp.concatenate(correct)),
    }
    return out, (disc_stats, metrics)


def feature_losses(
    config: ml_collections.ConfigDict, params, batch_stats, video, subsets, eps, beta
) -> tuple[dict[str, jax.Array], tuple[dict[str, Any], dict[str, jax.Array]]]:
    """Method-II's three losses, functions of params {"model", "disc"}:

      "enc"   -(mean Σ_X ELBO(X)), log p(x_i | z) = log N(Dis_l(x_i) | Dis_l(x̂_i), I)
      "dec"   γ × that feature likelihood term (λ-weighted, negated) + Σ_i -log D_i(x̂_i)
      "disc"  Σ_i -log D_i(x_i) - log(1 - D_i(x̂_i)), real frames against the reconstructions
              of every subset holding modality i
    This is the definition; `method2_grads` computes each loss's gradient for its own networks
    (encoders and LSTMs: "enc", decoders: "dec", discriminators: "disc"). Also returns the new
    batch stats {"model", "disc"} and metrics."""
    recons, targets, kl, model_stats = _reconstructions(
        _network(config, video), params["model"], batch_stats["model"], video, subsets, eps, True
    )
    out, (disc_stats, metrics) = _feature_terms(
        config, params["disc"], batch_stats["disc"], recons, targets, kl, subsets, beta
    )
    return out, ({"model": model_stats, "disc": disc_stats}, metrics)


def method2_grads(
    config: ml_collections.ConfigDict, params, batch_stats, video, subsets, eps, beta
):
    """The gradients of `feature_losses` routed as VAE-GAN's Algorithm 1, from one forward pass
    in three stages (encoders + PoE, decoders, discriminators), each pulled back only with the
    cotangents of the losses that train it or the networks before it. Returns (grads {"model",
    "disc"}, losses, new batch stats, metrics)."""
    model = _network(config, video)
    p, stats = params["model"], batch_stats["model"]
    targets = _targets(video)
    encode = lambda q: _encode_stage(model, q, stats, video, subsets, eps, True)  # noqa: E731
    decode = lambda q, z: _decode_stage(model, q, stats, z, True)  # noqa: E731

    def terms(disc_params, recons, kl):
        return _feature_terms(
            config, disc_params, batch_stats["disc"], recons, targets, kl, subsets, beta
        )

    (z, kl), enc_pull, enc_stats = jax.vjp(encode, p, has_aux=True)
    recons, dec_pull, dec_stats = jax.vjp(decode, p, z, has_aux=True)
    values, terms_pull, (disc_stats, metrics) = jax.vjp(
        terms, params["disc"], recons, kl, has_aux=True
    )
    one_hot = lambda name: {k: jnp.float32(k == name) for k in values}  # noqa: E731
    disc_grads, _, _ = terms_pull(one_hot("disc"))
    _, recons_for_enc, kl_for_enc = terms_pull(one_hot("enc"))
    _, recons_for_dec, _ = terms_pull(one_hot("dec"))
    dec_grads, _ = dec_pull(recons_for_dec)
    _, z_for_enc = dec_pull(recons_for_enc)
    (enc_grads,) = enc_pull((z_for_enc, kl_for_enc))
    grads = {"model": _merge(enc_grads, dec_grads), "disc": disc_grads}
    new_stats = {"model": _merge(enc_stats, dec_stats), "disc": disc_stats}
    return grads, values, new_stats, metrics


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One step on the subsampled ELBO over a batch of videos [B, T, H, W, C]."""
    video = batch["video"]
    subsets, eps = _draws(config, rng, video)
    beta = schedules.beta(config.train, state.step)
    if config.model.reconstruction == "discriminator":
        grads, values, stats, metrics = method2_grads(
            config, state.params, state.batch_stats, video, subsets, eps, beta
        )
        metrics.update({f"loss_{k}": v for k, v in values.items()})
        for name in ("model", "disc"):
            state = state.apply_gradients(name, grads[name])
    else:
        (loss, (model_stats, metrics)), grads = jax.value_and_grad(
            pixel_loss, argnums=1, has_aux=True
        )(config, state.params["model"], state.batch_stats["model"], video, subsets, eps, beta)
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
    preds = _network(config, full).apply(
        {"params": state.params["model"], "batch_stats": state.batch_stats["model"]},
        full,
        c,
        eps,
        method=MVAE.predict,
    )
    return preds[:, c - 1 :]


def reconstruct(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[list[jax.Array], list[jax.Array], jax.Array]:
    """Reconstructions of both modalities from the subsets {a, b}, {a}, {b} (batch-norm running
    averages): ([recon_a, recon_b] [2, B, T-1, H, W, C] (rows: joint, alone), targets, KL
    [3, B, T-1])."""
    video = batch["video"]
    config = config.copy_and_resolve_references()
    config.model.random_subsets = 0
    subsets, eps = _draws(config, rng, video)
    recons, targets, kl, _ = _reconstructions(
        _network(config, video),
        state.params["model"],
        state.batch_stats["model"],
        video,
        subsets,
        eps,
        train=False,
    )
    return recons, targets, kl


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation: joint KL, PSNR of the joint reconstructions of both modalities, PSNR of one
    predicted continuation and of repeating the last context frame."""
    video = batch["video"]
    c = config.data.context_frames
    rec_rng, sample_rng = jax.random.split(rng)
    recons, targets, kl = reconstruct(config, state, batch, rec_rng)
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
    recons, targets, _ = reconstruct(config, state, batch, rec_rng)
    t = c - 1  # index of the pair (x_{c-1}, x_c) among the T-1 steps
    columns = [
        targets[PREVIOUS][:, t],
        targets[CURRENT][:, t],
        recons[PREVIOUS][0, :, t],
        recons[CURRENT][0, :, t],
        recons[PREVIOUS][1, :, t],
        recons[CURRENT][1, :, t],
    ]
    preds = sample(config, state, context_of(batch, c), pred_rng, video.shape[1] - c)
    predicted = jnp.concatenate([video[:, :c], preds], axis=1)
    z = jax.random.normal(prior_rng, (num, config.model.z_dim))
    model = _network(config, video)
    variables = {"params": state.params["model"], "batch_stats": state.batch_stats["model"]}
    prior = [model.apply(variables, i, z, False, method=MVAE.decode) for i in (CURRENT, PREVIOUS)]
    figures = {
        "reconstructions": viz.filmstrip([np.stack(columns, axis=1)]),
        "predictions": viz.filmstrip([np.asarray(video), np.asarray(predicted)]),
        "prior_samples": viz.filmstrip([np.asarray(p)[None] for p in prior]),
    }
    return {
        name: str(viz.write_png(f"{outdir}/{name}.png", image)) for name, image in figures.items()
    }


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
            # Method-II: the discriminators (vaegan.Discriminator) and the like term
            disc_channels=32,
            disc_num_down=3,
            disc_hidden=512,
            like_layer=3,  # Dis_l = the discriminator's features[like_layer]
            gamma=1e-6,  # weight of the like term in the decoders' loss (VAE-GAN's γ)
        )
    )
    t = config.train
    t.lr = 1e-3
    t.adam_b1 = 0.9
    t.adam_b2 = 0.999
    t.beta = 1e-4  # at the top of the annealing; MSE per pixel, so SVG's scale
    t.kl_schedule = "monotonic"  # the MVAE code anneals β linearly from 0
    t.kl_cycles = 1
    t.kl_ratio = 0.25
    t.steps_per_epoch = 100
    t.disc_lr = 3e-4  # Method-II's discriminators: RMSProp, as VAE-GAN
    t.rmsprop_decay = 0.9
    return config
