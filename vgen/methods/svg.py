"""SVG-FP and SVG-LP (Denton & Fergus 2018), and the conditional VAE of the lab report.

One step predicts frame t from frame t-1 (t = 1 .. T-1):
  h_{t-1} = E(x_{t-1})                          encoder (vgen.nn.encoders)
  z_t ~ q(z_t | x_{1:t}) = N(mu_q, sigma_q)     posterior LSTM on E(x_t), while x_t is known
  z_t ~ p(z_t | x_{1:t-1})                      "learned" prior LSTM on h_{t-1} (SVG-LP), or
                                                N(0, I) ("fixed", SVG-FP); used when sampling
  g_t = LSTM([cond_t, h_{t-1}, z_t])            frame predictor; cond_t: optional condition of
                                                frame t (lab report: action + position)
  x̂_t = D(g_t, skips)                          decoder; skips of x_{t-1} while it is a context
                                                frame, then those of the last one, x_{c-1}
(SVG's code stops updating the skips one step earlier, at x_{c-2}; the paper's last context
frame is used here.) Loss per predicted frame, averaged over t: MSE(x̂_t, x_t) + β_step ·
KL(q || p) summed over z and averaged over the batch, as SVG (which sums over t: the same up to
a constant). β_step = train.beta × the KL annealing factor (constant / monotonic / cyclical).

Teacher forcing (lab report): x_{t-1} is the real frame for t <= c and, beyond the context, with
probability `teacher forcing ratio` (schedule: start, decay, lower bound); otherwise the model's
own previous prediction (as a constant: no gradient through the fed-back frame, as in scheduled
sampling). SVG itself always teacher-forces (ratio 1, the default). The choice is a per-step mask
in the scan over time, drawn per clip and frame ("frame") or once per batch ("batch"). When the
ratio is 1 throughout, training takes a faster path: encoder and decoder run once over all
frames, only the LSTMs are scanned.

Sampling: the context frames are read with the posterior (so the LSTMs see them as in training),
then z_t comes from the prior and each prediction is fed back. A conditional model needs the
condition of the future frames too: `sample` takes context = {"video", "cond"}.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from vgen import config_lib, losses, schedules
from vgen.data.pipeline import context_of
from vgen.errors import ConfigError
from vgen.metrics import psnr
from vgen.nn import lstm
from vgen.nn.encoders import ARCHITECTURES, Decoder, Encoder, num_blocks
from vgen.nn.scan import scan_over_time
from vgen.train_state import TrainState

PRIORS = ("fixed", "learned")
TEACHER_FORCING = ("frame", "batch")


# --------------------------------------------------------------------------------- model


# Time axis of each latent_step input: h_{t-1}, h_t, cond_t, eps_q, eps_p ([B, T-1, ...]) and
# use_posterior ([T-1]).
LATENT_AXES = (1, 1, 1, 1, 1, 0)


class SVGParts(nn.Module):
    """The networks of SVG, called piecewise by `SVG`: encoder, decoder, posterior, prior and
    frame predictor (one parameter tree: {encoder, decoder, posterior, prior, predictor})."""

    arch: str
    channels: int
    g_dim: int
    z_dim: int
    rnn_size: int
    predictor_layers: int
    posterior_layers: int
    prior_layers: int
    learned_prior: bool
    out_channels: int

    def setup(self):
        self.encoder = Encoder(self.arch, self.g_dim, self.channels)
        self.decoder = Decoder(self.arch, self.out_channels, self.channels)
        self.posterior = lstm.GaussianLSTM(self.z_dim, self.rnn_size, self.posterior_layers)
        if self.learned_prior:
            self.prior = lstm.GaussianLSTM(self.z_dim, self.rnn_size, self.prior_layers)
        self.predictor = lstm.LSTM(self.g_dim, self.rnn_size, self.predictor_layers)

    def encode(self, x: jax.Array, train: bool) -> tuple[jax.Array, list[jax.Array]]:
        """Frames [N, H, W, C] -> h [N, g_dim] and skips."""
        return self.encoder(x, train)

    def decode(self, g: jax.Array, skips: list[jax.Array], train: bool) -> jax.Array:
        """g [N, g_dim] and skips -> frames [N, H, W, C]."""
        return self.decoder(g, skips, train)

    def zero_states(self, batch: int):
        """Zero LSTM states (predictor, posterior, prior) for `batch` clips."""
        prior_layers = self.prior_layers if self.learned_prior else 0
        return (
            lstm.zero_carry(batch, self.rnn_size, self.predictor_layers),
            lstm.zero_carry(batch, self.rnn_size, self.posterior_layers),
            lstm.zero_carry(batch, self.rnn_size, prior_layers),
        )

    def latent_step(self, states, inputs):
        """One step of the LSTMs. inputs: h_{t-1}, h_t [B, g_dim], cond_t [B, D], eps_q, eps_p
        [B, z_dim], use_posterior [] bool -> (states, (g_t [B, g_dim], (mu_q, logvar_q, mu_p,
        logvar_p) [B, z_dim]))."""
        pred_state, post_state, prior_state = states
        h_in, h_target, cond, eps_q, eps_p, use_posterior = inputs
        post_state, (z_q, mu_q, logvar_q) = self.posterior(post_state, h_target, eps_q)
        if self.learned_prior:
            prior_state, (z_p, mu_p, logvar_p) = self.prior(prior_state, h_in, eps_p)
        else:
            z_p, mu_p, logvar_p = eps_p, jnp.zeros_like(eps_p), jnp.zeros_like(eps_p)
        z = jnp.where(use_posterior, z_q, z_p)
        # The lab report's order: condition, frame embedding, latent.
        pred_state, g = self.predictor(pred_state, jnp.concatenate([cond, h_in, z], axis=-1))
        return (pred_state, post_state, prior_state), (g, (mu_q, logvar_q, mu_p, logvar_p))


class SVG(nn.Module):
    """SVG over a clip: predictions of frames 1..T-1 and the posterior/prior of each z_t.

    Teacher-forced (use_real None: every input frame real, as SVG trains) the encoder and the
    decoder run once over all frames and only the LSTMs are scanned over time; otherwise the
    whole step (encode the input, LSTMs, decode) is scanned, so that predictions can be fed back.
    """

    parts: SVGParts  # its networks (bound as the submodule "parts")
    context_frames: int

    def __call__(
        self,
        video: jax.Array,
        cond: jax.Array,
        eps_q: jax.Array,
        eps_p: jax.Array,
        train: bool,
        use_real: jax.Array | None = None,
        use_posterior: jax.Array | None = None,
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """video [B, T, H, W, C] (frames never read may be zeros), cond [B, T, D] (D may be 0),
        eps_q, eps_p [B, T-1, z_dim] ~ N(0, I); use_real [T-1, B] bool: the step predicting
        frame t reads the real x_{t-1} (None: always); use_posterior [T-1] bool: z_t from the
        posterior (None: always) -> predictions [B, T-1, H, W, C] and {"mu_q", "logvar_q",
        "mu_p", "logvar_p"}: [B, T-1, z_dim]."""
        b, t = video.shape[:2]
        frames = video.reshape(b * t, *video.shape[2:])
        h, skips = self.parts.encode(frames, train)
        h = h.reshape(b, t, -1)
        # Step t reads the skips of x_{t-1} while it is a context frame, then those of x_{c-1}.
        source = jnp.minimum(jnp.arange(t - 1), self.context_frames - 1)
        skips = [s.reshape(b, t, *s.shape[1:])[:, source] for s in skips]
        if use_posterior is None:
            use_posterior = jnp.ones(t - 1, bool)
        latent_inputs = (h[:, :-1], h[:, 1:], cond[:, 1:], eps_q, eps_p, use_posterior)
        states = self.parts.zero_states(b)
        if use_real is None:
            latent = scan_over_time(lambda parts, c, x: parts.latent_step(c, x), LATENT_AXES)
            _, (g, dists) = latent(self.parts, states, latent_inputs)
            flat = lambda a: a.reshape(b * (t - 1), *a.shape[2:])
            preds = self.parts.decode(flat(g), [flat(s) for s in skips], train)
            preds = preds.reshape(b, t - 1, *preds.shape[1:])
        else:

            def step(parts, carry, inputs):
                states, prev_pred = carry
                *latent_in, x_prev, real, skips_t = inputs
                x_in = jnp.where(real[:, None, None, None], x_prev, prev_pred)
                h_in, _ = parts.encode(x_in, train)
                states, (g, dists) = parts.latent_step(states, (h_in, *latent_in[1:]))
                x_pred = parts.decode(g, skips_t, train)
                return (states, jax.lax.stop_gradient(x_pred)), (x_pred, dists)

            # Training updates the running statistics step by step; inference only reads them.
            free = scan_over_time(
                step,
                (*LATENT_AXES, 1, 0, 1),  # + x_{t-1}, use_real, skips
                variable_broadcast="params" if train else ["params", "batch_stats"],
                variable_carry="batch_stats" if train else (),
            )
            carry = (states, jnp.zeros_like(video[:, 0]))
            inputs = (*latent_inputs, video[:, :-1], use_real, skips)
            _, (preds, dists) = free(self.parts, carry, inputs)
        mu_q, logvar_q, mu_p, logvar_p = dists
        return preds, {"mu_q": mu_q, "logvar_q": logvar_q, "mu_p": mu_p, "logvar_p": logvar_p}


# ---------------------------------------------------------------------------- interface


def validate_config(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError for model and training settings this method cannot run."""
    m, t = config.model, config.train
    if m.arch not in ARCHITECTURES:
        raise ConfigError(f"model.arch must be one of {ARCHITECTURES}, got {m.arch!r}")
    if m.prior not in PRIORS:
        raise ConfigError(f"model.prior must be one of {PRIORS}, got {m.prior!r}")
    try:
        num_blocks(config.data.resolution)
    except ValueError as e:
        raise ConfigError(f"data.resolution: {e}") from None
    for name in ("channels", "g_dim", "z_dim", "rnn_size", "predictor_layers", "posterior_layers"):
        if m[name] < 1:
            raise ConfigError(f"model.{name} must be >= 1, got {m[name]}")
    if m.prior == "learned" and m.prior_layers < 1:
        raise ConfigError(f"model.prior_layers must be >= 1, got {m.prior_layers}")
    if m.cond_dim < 0:
        raise ConfigError(f"model.cond_dim must be >= 0 (0: unconditional), got {m.cond_dim}")
    if not t.lr > 0:
        raise ConfigError(f"train.lr must be > 0, got {t.lr}")
    schedules.validate_beta(t)
    if t.teacher_forcing not in TEACHER_FORCING:
        raise ConfigError(
            f"train.teacher_forcing must be one of {TEACHER_FORCING}, got {t.teacher_forcing!r}"
        )
    for name in ("tf_init", "tf_lower_bound"):
        if not 0 <= t[name] <= 1:
            raise ConfigError(f"train.{name} must be in [0, 1], got {t[name]}")
    if t.tf_decay < 0 or t.tf_start < 0:
        raise ConfigError("train.tf_decay and train.tf_start must be >= 0")


def _network(config: ml_collections.ConfigDict, video: jax.Array) -> SVG:
    """The model for videos shaped like `video` [B, T, H, W, C] (C sets the decoder's output)."""
    m = config.model
    parts = SVGParts(
        arch=m.arch,
        channels=m.channels,
        g_dim=m.g_dim,
        z_dim=m.z_dim,
        rnn_size=m.rnn_size,
        predictor_layers=m.predictor_layers,
        posterior_layers=m.posterior_layers,
        prior_layers=m.prior_layers,
        learned_prior=m.prior == "learned",
        out_channels=video.shape[-1],
    )
    return SVG(parts=parts, context_frames=config.data.context_frames)


def _cond(config: ml_collections.ConfigDict, batch: dict, frames: int) -> jax.Array:
    """The per-frame condition [B, frames, cond_dim] of a batch ([B, frames, 0] if none)."""
    d = config.model.cond_dim
    b = batch["video"].shape[0]
    if d == 0:
        return jnp.zeros((b, frames, 0))
    if "cond" not in batch:
        raise ValueError(
            f"model.cond_dim is {d} but the batch has no 'cond' [B, T, {d}]; for sampling pass "
            "context as a dict {'video': [B, c, H, W, C], 'cond': [B, c + horizon, D]}"
        )
    cond = jnp.asarray(batch["cond"], jnp.float32)
    if cond.shape != (b, frames, d):
        raise ValueError(f"batch['cond'] must be [B, T, D] = {(b, frames, d)}, got {cond.shape}")
    return cond


def _noise(config: ml_collections.ConfigDict, rng: jax.Array, b: int, t: int):
    """Posterior and prior noise eps_q, eps_p [B, T-1, z_dim]."""
    q, p = jax.random.split(rng)
    shape = (b, t - 1, config.model.z_dim)
    return jax.random.normal(q, shape), jax.random.normal(p, shape)


def _teacher_forcing(config, rng: jax.Array, ratio: jax.Array, b: int, t: int) -> jax.Array:
    """use_real [T-1, B]: the step predicting frame t reads the real x_{t-1} if t <= c, and
    beyond the context with probability `ratio` per clip and frame, or once per batch."""
    context = jnp.arange(1, t)[:, None] <= config.data.context_frames
    shape = (t - 1, b) if config.train.teacher_forcing == "frame" else ()
    return jnp.broadcast_to(context | jax.random.bernoulli(rng, ratio, shape), (t - 1, b))


def always_teacher_forced(config: ml_collections.ConfigDict) -> bool:
    """Whether the teacher forcing schedule is 1 throughout (SVG), a static property."""
    t = config.train
    return t.tf_init >= 1.0 and (t.tf_decay == 0 or t.tf_lower_bound >= 1.0)


def _kl_per_step(dists: dict[str, jax.Array]) -> jax.Array:
    """KL(q || p) per clip and step [B, T-1], summed over z."""
    kl = losses.gaussian_kl(dists["mu_q"], dists["logvar_q"], dists["mu_p"], dists["logvar_p"])
    return jnp.sum(kl, axis=-1)


def init(config: ml_collections.ConfigDict, rng: jax.Array, example_batch: dict) -> TrainState:
    """Initialises the model (encoder, decoder, LSTMs: one network, one Adam as in SVG)."""
    validate_config(config)
    video = jnp.asarray(example_batch["video"])
    b, t = video.shape[:2]
    eps_q, eps_p = _noise(config, rng, b, t)
    cond = _cond(config, example_batch, t)
    variables = _network(config, video).init(rng, video, cond, eps_q, eps_p, train=False)
    tx = optax.adam(config.train.lr, b1=config.train.adam_b1, b2=config.train.adam_b2)
    return TrainState.create(
        params={"model": variables["params"]},
        tx={"model": tx},
        batch_stats={"model": variables["batch_stats"]},
    )


def kl_weight(config: ml_collections.ConfigDict, step: jax.Array) -> jax.Array:
    """β at `step`: train.beta times the KL annealing factor."""
    return schedules.beta(config.train, step)


def teacher_forcing_ratio(config: ml_collections.ConfigDict, step: jax.Array) -> jax.Array:
    """Probability of feeding a real predicted-range frame at `step`."""
    t = config.train
    return schedules.teacher_forcing_ratio(
        step,
        init=t.tf_init,
        start=t.tf_start,
        decay=t.tf_decay,
        lower_bound=t.tf_lower_bound,
        steps_per_epoch=t.steps_per_epoch,
    )


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One Adam step on MSE + β KL over a batch of videos [B, T, H, W, C]."""
    video = batch["video"]
    model = _network(config, video)
    b, t = video.shape[:2]
    cond = _cond(config, batch, t)
    tf_rng, noise_rng = jax.random.split(rng)
    beta = kl_weight(config, state.step)
    ratio = teacher_forcing_ratio(config, state.step)
    use_real = _teacher_forcing(config, tf_rng, ratio, b, t)
    eps_q, eps_p = _noise(config, noise_rng, b, t)

    def loss_fn(params):
        (preds, dists), new_vars = model.apply(
            {"params": params, "batch_stats": state.batch_stats["model"]},
            video,
            cond,
            eps_q,
            eps_p,
            train=True,
            # Always teacher-forced (SVG): the cheaper path that never feeds predictions back.
            use_real=None if always_teacher_forced(config) else use_real,
            mutable=["batch_stats"],
        )
        mse = jnp.mean(losses.squared_error(preds, video[:, 1:]))
        kl = jnp.mean(_kl_per_step(dists))
        return mse + beta * kl, (new_vars["batch_stats"], mse, kl)

    (loss, (stats, mse, kl)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.params["model"]
    )
    state = state.apply_gradients("model", grads)
    state = state.replace(step=state.step + 1, batch_stats={"model": stats})
    metrics = {
        "loss": loss,
        "mse": mse,
        "kl": kl,
        "kl_weight": beta,
        "teacher_forcing_ratio": ratio,
        "teacher_forced_frac": jnp.mean(use_real[config.data.context_frames :].astype(jnp.float32)),
    }
    return state, metrics


def sample(
    config: ml_collections.ConfigDict,
    state: TrainState,
    context: dict[str, jax.Array],
    rng: jax.Array,
    horizon: int,
) -> jax.Array:
    """Prediction with z from the prior: context {"video": [B, c, H, W, C]} -> next frames
    [B, horizon, H, W, C]. A conditional model (model.cond_dim > 0) needs the condition of
    every frame: context["cond"] [B, c + horizon, cond_dim]."""
    video, batch = jnp.asarray(context["video"]), context
    b, c = video.shape[:2]
    t = c + horizon
    full = jnp.concatenate([video, jnp.zeros((b, horizon, *video.shape[2:]), video.dtype)], 1)
    steps = jnp.arange(1, t)
    eps_q, eps_p = _noise(config, rng, b, t)
    preds, _ = _network(config, full).apply(
        {"params": state.params["model"], "batch_stats": state.batch_stats["model"]},
        full,
        _cond(config, {**batch, "video": full}, t),
        eps_q,
        eps_p,
        train=False,
        use_real=jnp.broadcast_to((steps <= c)[:, None], (t - 1, b)),
        use_posterior=steps < c,
    )
    return preds[:, c - 1 :]


def reconstruct(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Teacher-forced prediction with z from the posterior (SVG's plot_rec): frames 1..T-1
    [B, T-1, H, W, C] and the posterior and prior parameters [B, T-1, z_dim]."""
    video = batch["video"]
    b, t = video.shape[:2]
    eps_q, eps_p = _noise(config, rng, b, t)
    return _network(config, video).apply(
        {"params": state.params["model"], "batch_stats": state.batch_stats["model"]},
        video,
        _cond(config, batch, t),
        eps_q,
        eps_p,
        train=False,
    )


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation metrics on the predicted frames: KL and MSE / PSNR of the posterior
    reconstruction, PSNR of one prior sample, and PSNR of repeating the last context frame."""
    video = batch["video"]
    c = config.data.context_frames
    rec_rng, sample_rng = jax.random.split(rng)
    preds, dists = reconstruct(config, state, batch, rec_rng)
    truth = video[:, c:]
    rec = preds[:, c - 1 :]
    samples = sample(config, state, context_of(batch, c), sample_rng, video.shape[1] - c)
    copy_last = jnp.broadcast_to(video[:, c - 1 : c], truth.shape)
    return {
        "kl_val": jnp.mean(_kl_per_step(dists)),
        "mse_val_posterior": jnp.mean(losses.squared_error(rec, truth)),
        "psnr_val_posterior": jnp.mean(psnr(rec, truth)),
        "psnr_val_samples": jnp.mean(psnr(samples, truth)),
        "psnr_val_copy_last": jnp.mean(psnr(copy_last, truth)),
    }


def default_config() -> ml_collections.ConfigDict:
    """The common fields plus SVG's model and training settings (train_svg_lp.py defaults)."""
    config = config_lib.common_config()
    config.method = "svg"
    config.model = ml_collections.ConfigDict(
        dict(
            prior="learned",  # "learned": SVG-LP; "fixed": SVG-FP (prior N(0, I))
            arch="dcgan",  # frame encoder/decoder: "dcgan" or "vgg"
            channels=64,  # first block's width (doubles per block, up to 8x)
            g_dim=128,  # encoder output / decoder input
            z_dim=10,
            rnn_size=256,
            predictor_layers=2,
            posterior_layers=1,
            prior_layers=1,
            cond_dim=0,  # per-frame condition concatenated into the predictor input (0: none)
        )
    )
    t = config.train
    t.lr = 2e-3
    t.adam_b1 = 0.9
    t.adam_b2 = 0.999
    t.beta = 1e-4  # KL weight (at the top of the annealing schedule)
    # KL annealing (lab report): "constant" (SVG), "monotonic" or "cyclical"; the schedule's
    # epoch is steps_per_epoch steps (SVG: epoch_size = 600).
    t.kl_schedule = "constant"
    t.kl_cycles = 1
    t.kl_ratio = 0.5
    t.steps_per_epoch = 600
    # Teacher forcing ratio (lab report): tf_init until epoch tf_start, then minus tf_decay per
    # epoch, not below tf_lower_bound. The defaults always teacher-force, as SVG.
    t.teacher_forcing = "frame"  # a draw per clip and frame, or "batch": one per step
    t.tf_init = 1.0
    t.tf_start = 0
    t.tf_decay = 0.0
    t.tf_lower_bound = 0.0
    return config
