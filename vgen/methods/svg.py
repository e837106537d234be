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
                                                (model.last_frame_skip: of x_{t-1} throughout)
(SVG's code stops updating the skips one step earlier, at x_{c-2}; the paper's last context
frame is used here.) The networks are vgen.nn.svg_nets.

Loss per predicted frame, averaged over t: MSE(x̂_t, x_t) + β_step · KL(q || p) summed over z
and averaged over the batch, as SVG (which sums over t: the same up to a constant).
β_step = train.beta × the KL annealing factor (constant / monotonic / cyclical, vgen.schedules).

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

import jax
import jax.numpy as jnp
import ml_collections

from vgen import config_lib, losses, optim, schedules
from vgen.config_lib import require, require_at_least, require_choice, require_power_of_two
from vgen.data.pipeline import context_of
from vgen.metrics import psnr
from vgen.nn.encoders import ARCHITECTURES
from vgen.nn.svg_nets import SVG, SVGParts
from vgen.train_state import TrainState

Config = ml_collections.ConfigDict
PRIORS = ("fixed", "learned")
TEACHER_FORCING = ("frame", "batch")
LSTMS = ("predictor", "posterior", "prior")  # each with model.<name>_layers
# The model of every SVG `:tiny` config.
TINY_MODEL = dict(channels=4, g_dim=8, z_dim=2, rnn_size=8)

CONFIG_CHECKS = (
    require_choice("model.arch", ARCHITECTURES),
    require_choice("model.prior", PRIORS),
    require_power_of_two("data.resolution", 8),  # the encoder's blocks reach 4×4
    require_at_least(1, *(f"model.{k}" for k in ("channels", "g_dim", "z_dim", "rnn_size"))),
    require_at_least(1, "model.predictor_layers", "model.posterior_layers"),
    require(
        lambda c: c.model.prior != "learned" or c.model.prior_layers >= 1,
        "model.prior_layers must be >= 1 with a learned prior",
    ),
    require_at_least(0, "model.cond_dim"),  # 0: unconditional
    *schedules.BETA_CHECKS,
    require_choice("train.teacher_forcing", TEACHER_FORCING),
    *schedules.TEACHER_FORCING_CHECKS,
)


def _network(config: Config, video: jax.Array) -> SVG:
    """The model for videos shaped like `video` [B, T, H, W, C] (C sets the decoder's output)."""
    m = config.model
    sizes = ("channels", "g_dim", "z_dim", "rnn_size", *(f"{n}_layers" for n in LSTMS))
    parts = SVGParts(
        arch=m.arch,
        **{k: m[k] for k in sizes},
        learned_prior=m.prior == "learned",
        out_channels=video.shape[-1],
        posterior_logvar_init=m.posterior_logvar_init,
    )
    return SVG(
        parts=parts,
        context_frames=config.data.context_frames,
        last_frame_skip=m.last_frame_skip,
    )


def _cond(config: Config, batch: dict, frames: int) -> jax.Array:
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


def _noise(config: Config, rng: jax.Array, b: int, t: int):
    """Posterior and prior noise eps_q, eps_p [B, T-1, z_dim]."""
    q, p = jax.random.split(rng)
    shape = (b, t - 1, config.model.z_dim)
    return jax.random.normal(q, shape), jax.random.normal(p, shape)


def _teacher_forcing(config: Config, rng: jax.Array, ratio: jax.Array, b: int, t: int):
    """use_real [T-1, B]: the step predicting frame t reads the real x_{t-1} if t <= c, and
    beyond the context with probability `ratio` per clip and frame, or once per batch."""
    context = jnp.arange(1, t)[:, None] <= config.data.context_frames
    shape = (t - 1, b) if config.train.teacher_forcing == "frame" else ()
    return jnp.broadcast_to(context | jax.random.bernoulli(rng, ratio, shape), (t - 1, b))


def _kl_per_step(dists: dict[str, jax.Array]) -> jax.Array:
    """KL(q || p) per clip and step [B, T-1], summed over z."""
    kl = losses.gaussian_kl(dists["mu_q"], dists["logvar_q"], dists["mu_p"], dists["logvar_p"])
    return jnp.sum(kl, axis=-1)


def _infer(config: Config, state: TrainState, video: jax.Array, batch: dict, rng, **kw):
    """The model in inference mode on `video` [B, T, H, W, C] (the condition from `batch`) ->
    predictions [B, T-1, H, W, C] and the posterior and prior parameters [B, T-1, z_dim]."""
    b, t = video.shape[:2]
    return _network(config, video).apply(
        {"params": state.params["model"], "batch_stats": state.batch_stats["model"]},
        video,
        _cond(config, {**batch, "video": video}, t),
        *_noise(config, rng, b, t),
        train=False,
        **kw,
    )


def init(config: Config, rng: jax.Array, batch: dict) -> TrainState:
    """Initialises the model (encoder, decoder, LSTMs: one network, one Adam as in SVG)."""
    video = jnp.asarray(batch["video"])
    b, t = video.shape[:2]
    eps_q, eps_p = _noise(config, rng, b, t)
    cond = _cond(config, batch, t)
    variables = _network(config, video).init(rng, video, cond, eps_q, eps_p, train=False)
    return TrainState.create(
        params={"model": variables["params"]},
        tx=optim.make_optimizers(config, ("model",)),
        batch_stats={"model": variables["batch_stats"]},
    )


def train_step(
    config: Config, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One Adam step on MSE + β KL over a batch of videos [B, T, H, W, C]."""
    video = batch["video"]
    model = _network(config, video)
    b, t = video.shape[:2]
    cond = _cond(config, batch, t)
    tf_rng, noise_rng = jax.random.split(rng)
    beta = schedules.beta(config.train, state.step)
    ratio = schedules.teacher_forcing_ratio(config.train, state.step)
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
            use_real=None if schedules.always_teacher_forced(config.train) else use_real,
            mutable=["batch_stats"],
        )
        mse = jnp.mean(losses.squared_error(preds, video[:, 1:]))
        kl = jnp.mean(_kl_per_step(dists))
        return mse + beta * kl, (new_vars["batch_stats"], mse, kl)

    (loss, (stats, mse, kl)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.params["model"]
    )
    metrics = dict(loss=loss, mse=mse, kl=kl, kl_weight=beta, teacher_forcing_ratio=ratio)
    forced = use_real[config.data.context_frames :]  # beyond the context
    metrics["teacher_forced_frac"] = jnp.mean(forced.astype(jnp.float32))
    state = state.apply_gradients("model", grads)
    return state.replace(step=state.step + 1, batch_stats={"model": stats}), metrics


def sample(
    config: Config, state: TrainState, context: dict[str, jax.Array], rng: jax.Array, horizon: int
) -> jax.Array:
    """Prediction with z from the prior: context {"video": [B, c, H, W, C]} -> next frames
    [B, horizon, H, W, C]. A conditional model (model.cond_dim > 0) needs the condition of
    every frame: context["cond"] [B, c + horizon, cond_dim]."""
    video = jnp.asarray(context["video"])
    b, c = video.shape[:2]
    t = c + horizon
    full = jnp.concatenate([video, jnp.zeros((b, horizon, *video.shape[2:]), video.dtype)], 1)
    steps = jnp.arange(1, t)
    use_real = jnp.broadcast_to((steps <= c)[:, None], (t - 1, b))
    preds, _ = _infer(config, state, full, context, rng, use_real=use_real, use_posterior=steps < c)
    return preds[:, c - 1 :]


def posterior_prediction(
    config: Config, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Teacher-forced prediction with z from the posterior (SVG's plot_rec): frames 1..T-1
    [B, T-1, H, W, C] and the posterior and prior parameters [B, T-1, z_dim]."""
    return _infer(config, state, batch["video"], batch, rng)


def reconstruct(
    config: Config, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The contract's reconstruction: frames 1..T-1 and their teacher-forced posterior
    predictions, both [B, T-1, H, W, C]."""
    preds, _ = posterior_prediction(config, state, batch, rng)
    return batch["video"][:, 1:], preds


def eval_step(
    config: Config, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation metrics on the predicted frames: KL and MSE / PSNR of the posterior
    reconstruction, PSNR of one prior sample, and PSNR of repeating the last context frame."""
    video = batch["video"]
    c = config.data.context_frames
    rec_rng, sample_rng = jax.random.split(rng)
    preds, dists = posterior_prediction(config, state, batch, rec_rng)
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


def default_config() -> Config:
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
            # SVG's --last_frame_skip: the decoder's skips come from the frame each step reads
            # (x_{t-1}, its own prediction when sampling), not from the last context frame.
            last_frame_skip=False,
            # Initial bias of the posterior's logvar head. SVG's is 0 (posterior std ~1 at the
            # start); negative values start from a less noisy z that the decoder can use early.
            posterior_logvar_init=0.0,
        )
    )
    config.optim.model = config_lib.optimizer("adam", lr=2e-3, b1=0.9, b2=0.999)
    t = config.train
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
    config.eval.evaluators = ("prediction",)
    return config
