"""Feature-flow GAN (thesis ch. 6.3): next-frame generation by moving features along a flow field.

Generator (Eq. 6.2, vgen.nn.ffgan_nets), one step:
  x̃_t = D2(F[E1(x_{t-1}), D1(z_t, E2(E1(x_{t-1})))])
with the flow F applied at resolution / flow_downsample; batch norm in the generator, weight norm
in the causal discriminator (6.3.3).

Training (6.3.3): non-saturating GAN loss with both updates in one step; closed/open loop: the
first `closed_loop_frames` predicted frames are generated from ground-truth inputs and also get an
L2 loss, the rest run free on the generator's own outputs (with `train.l2_open_loop_weight` > 0
they get an L2 loss too: a departure from the thesis, against the drift of free-running frames);
a curriculum adds predicted frames as training goes on. The discriminator is causal in time and
scores every prefix, so the curriculum is a mask over time steps and shapes never change (no
recompilation).
"""

import math
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections

from vgen import config_lib, losses, optim, schedules
from vgen.config_lib import require, require_at_least, require_choice, require_power_of_two
from vgen.data.pipeline import context_of
from vgen.metrics import psnr
from vgen.nn.ffgan_nets import DISCRIMINATORS, INVERSE_FLOWS, FFDiscriminator, FFGenerator
from vgen.train_state import TrainState

Config = ml_collections.ConfigDict

# The networks of every FF-GAN `:tiny` config.
TINY_MODEL = dict(channels=4, fixel_channels=8, disc_channels=4)

CONFIG_CHECKS = (
    require_power_of_two("model.flow_downsample", 2),
    require(
        lambda c: c.data.resolution % (2 * c.model.flow_downsample) == 0,
        "data.resolution must be divisible by 2 * model.flow_downsample (E2 halves the flow grid)",
    ),
    require(
        lambda c: c.model.kappa >= 3 and c.model.kappa % 2 == 1, "model.kappa must be odd and >= 3"
    ),
    require_choice("model.disc", DISCRIMINATORS),
    require_choice("model.disc_inverse_flow", INVERSE_FLOWS),
    require_at_least(1, "model.channels", "model.fixel_channels", "model.disc_channels"),
    require_at_least(0, "train.closed_loop_frames", "train.l2_open_loop_weight"),
)


def _networks(config: Config) -> tuple[FFGenerator, FFDiscriminator]:
    m = config.model
    gen = FFGenerator(
        channels=m.channels,
        fixel_channels=m.fixel_channels,
        num_down=int(math.log2(m.flow_downsample)),
        kappa=m.kappa,
        mask_bias=m.mask_bias,
        mask_sees_frames=m.mask_sees_frames,
        copy_first_frame=m.copy_first_frame,
    )
    disc_down = max(1, int(math.log2(config.data.resolution / 8)))
    disc = FFDiscriminator(
        channels=m.disc_channels,
        num_down=disc_down,
        variant=m.disc,
        inverse_flow=m.disc_inverse_flow,
        kappa=m.kappa,
    )
    return gen, disc


def _teacher_mask(config: Config, num_frames: int) -> jax.Array:
    """use_real [T-1]: the step predicting frame t reads the real x_{t-1} (context, closed loop)."""
    t = jnp.arange(1, num_frames)
    return t < config.data.context_frames + config.train.closed_loop_frames


def _draw_z(config: Config, rng: jax.Array, batch: int, frames: int):
    return jax.random.normal(rng, (batch, frames - 1, config.model.z_dim))


def _with_context(video: jax.Array, preds: jax.Array, context: int) -> jax.Array:
    """Real context frames followed by the generated frames: [B, T, H, W, C]."""
    generated = jnp.concatenate([video[:, :1], preds], axis=1)
    t = jnp.arange(video.shape[1])[None, :, None, None, None]
    return jnp.where(t < context, video, generated)


def init(config: Config, rng: jax.Array, batch: dict) -> TrainState:
    """Initialises generator and discriminator for videos shaped like batch["video"]."""
    gen, disc = _networks(config)
    video = jnp.asarray(batch["video"])
    b, t = video.shape[:2]
    g_rng, d_rng, z_rng = jax.random.split(rng, 3)
    z = _draw_z(config, z_rng, b, t)
    g_vars = gen.init(g_rng, video, _teacher_mask(config, t), z, train=False)
    d_vars = disc.init(d_rng, video)
    return TrainState.create(
        params={"gen": g_vars["params"], "disc": d_vars["params"]},
        tx=optim.make_optimizers(config, ("gen", "disc")),
        batch_stats={"gen": g_vars["batch_stats"]},
    )


def _active_steps(config: Config, step: jax.Array, num_frames: int):
    """[T] mask of the predicted frames the curriculum currently trains on, and their count."""
    c = config.data.context_frames
    length = schedules.curriculum_length(
        step,
        start=config.train.curriculum_start,
        end=num_frames - c,
        every=config.train.curriculum_every,
    )
    t = jnp.arange(num_frames)
    return (t >= c) & (t < c + length), length


def train_step(
    config: Config, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One simultaneous generator + discriminator update on a batch of videos [B, T, H, W, C]."""
    gen, disc = _networks(config)
    video = batch["video"]
    b, t = video.shape[:2]
    c = config.data.context_frames
    active, length = _active_steps(config, state.step, t)
    use_real = _teacher_mask(config, t)
    # L2 on frames generated from ground-truth inputs (warm-up on the context + closed loop).
    l2_mask = jnp.concatenate([jnp.zeros(1, bool), use_real]) & (jnp.arange(t) < c + length)
    z = _draw_z(config, rng, b, t)

    def gen_loss(g_params):
        (preds, _), new_vars = gen.apply(
            {"params": g_params, "batch_stats": state.batch_stats["gen"]},
            video,
            use_real,
            z,
            train=True,
            mutable=["batch_stats"],
        )
        fake = _with_context(video, preds, c)
        fake_logits = disc.apply({"params": state.params["disc"]}, fake)
        adv = losses.masked_mean(losses.gan_generator_loss(fake_logits), active[None])
        error = losses.squared_error(preds, video[:, 1:])
        l2 = losses.masked_mean(error, l2_mask[None, 1:])
        loss = adv + config.train.l2_weight * l2
        l2_open = None  # the thesis's training (weight 0) has no open-loop term in its program
        if config.train.l2_open_loop_weight > 0:
            l2_open = losses.masked_mean(error, (active & ~l2_mask)[None, 1:])
            loss = loss + config.train.l2_open_loop_weight * l2_open
        return loss, (fake, new_vars["batch_stats"], adv, l2, l2_open)

    (g_loss, (fake, g_stats, g_adv, l2, l2_open)), g_grads = jax.value_and_grad(
        gen_loss, has_aux=True
    )(state.params["gen"])
    fake = jax.lax.stop_gradient(fake)

    def disc_loss(d_params):
        real_logits = disc.apply({"params": d_params}, video)
        fake_logits = disc.apply({"params": d_params}, fake)
        per_step = losses.gan_discriminator_loss(real_logits, fake_logits)
        return losses.masked_mean(per_step, active[None]), (real_logits, fake_logits)

    (d_loss, (real_logits, fake_logits)), d_grads = jax.value_and_grad(disc_loss, has_aux=True)(
        state.params["disc"]
    )
    accuracy = lambda logits, real: losses.masked_mean(
        losses.discriminator_accuracy(logits, real), active[None]
    )
    metrics = dict(g_loss=g_loss, g_adv=g_adv, l2=l2, d_loss=d_loss)
    if l2_open is not None:
        metrics["l2_open_loop"] = l2_open
    metrics["d_acc_train_data"] = accuracy(real_logits, True)
    metrics["d_acc_samples"] = accuracy(fake_logits, False)
    metrics["curriculum_frames"] = length.astype(jnp.float32)
    state = state.apply_gradients("gen", g_grads).apply_gradients("disc", d_grads)
    return state.replace(step=state.step + 1, batch_stats={"gen": g_stats}), metrics


def _free_run(config, state: TrainState, context: jax.Array, rng: jax.Array, horizon: int):
    """Generator in inference mode from real context frames [B, c, H, W, C]: predictions of
    frames 1..c+horizon-1 [B, c+horizon-1, H, W, C] and intermediates (masks, flows)."""
    gen, _ = _networks(config)
    b, c = context.shape[:2]
    video = jnp.concatenate([context, jnp.zeros((b, horizon, *context.shape[2:]))], axis=1)
    return gen.apply(
        {"params": state.params["gen"], "batch_stats": state.batch_stats["gen"]},
        video,
        jnp.arange(1, c + horizon) <= c,  # frame t reads the real x_{t-1} while t - 1 < c
        _draw_z(config, rng, b, c + horizon),
        train=False,
    )


def sample(
    config: Config, state: TrainState, context: dict[str, jax.Array], rng: jax.Array, horizon: int
) -> jax.Array:
    """Free-running prediction: context {"video": [B, c, H, W, C]} -> next frames
    [B, horizon, H, W, C]."""
    video = context["video"]
    preds, _ = _free_run(config, state, video, rng, horizon)
    return preds[:, video.shape[1] - 1 :]


def eval_step(
    config: Config, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation metrics: the discriminator's accuracy on held-out data and on free-running
    samples (the curves of thesis Fig. 6.10), and the samples' PSNR."""
    _, disc = _networks(config)
    video = batch["video"]
    c = config.data.context_frames
    preds = sample(config, state, context_of(batch, c), rng, video.shape[1] - c)
    fake = jnp.concatenate([video[:, :c], preds], axis=1)
    d = lambda v: disc.apply({"params": state.params["disc"]}, v)[:, c:]
    return {
        "d_acc_val_data": jnp.mean(losses.discriminator_accuracy(d(video), True)),
        "d_acc_val_samples": jnp.mean(losses.discriminator_accuracy(d(fake), False)),
        "psnr_val_samples": jnp.mean(psnr(preds, video[:, c:])),
    }


def intermediates(
    config: Config, state: TrainState, context: dict, rng, horizon: int
) -> dict[str, Any]:
    """Copy masks [B, T-1, H, W, S] (S = 1, or 2 with model.copy_first_frame) and flow fields
    [B, T-1, h, w, κ²] of a free run."""
    return _free_run(config, state, context["video"], rng, horizon)[1]


def default_config() -> Config:
    """The common fields plus this method's model and training settings (thesis 6.3.3)."""
    config = config_lib.common_config()
    config.method = "ffgan"
    config.model = Config(
        dict(
            channels=32,  # first conv width of E1 (doubles per downsampling), mirrored in D2
            fixel_channels=64,  # feature (fixel) channels moved by F
            flow_downsample=4,  # frames -> flow grid: 120x120 -> 30x30 in the thesis
            kappa=3,  # flow patch size: each fixel can move one fixel per step
            z_dim=16,
            disc="conv3d_convlstm",  # the thesis's best discriminator; or "convlstm"
            disc_channels=32,
            # The discriminator also reads the inverse feature flow of successive frames
            # (6.3.4): "" (off), "correlation" (Eq. 6.5) or "relation" (learned).
            disc_inverse_flow="",
            # Initial logit of the past-frame mask: > 0 starts by copying x_{t-1}, so the
            # generator first learns where things change.
            mask_bias=2.0,
            # The mask head also sees the frames it copies, at full resolution (else only D2's
            # features, upsampled from the flow grid).
            mask_sees_frames=False,
            # A second copied source, the first context frame x_0 (Ebert et al. 2017's temporal
            # skip): background that a moving object uncovers can be copied from it.
            copy_first_frame=False,
        )
    )
    adam = lambda: config_lib.optimizer("adam", lr=2e-4, b1=0.5, b2=0.999)
    config.optim.gen, config.optim.disc = adam(), adam()
    t = config.train
    t.l2_weight = 10.0  # weight of the closed-loop L2 loss
    t.closed_loop_frames = 2  # predicted frames generated from ground truth (with L2)
    t.l2_open_loop_weight = 0.0  # L2 weight on the free-running frames (0: the thesis's)
    t.curriculum_start = 2  # predicted frames trained on at step 0 ...
    t.curriculum_every = 200  # ... one more every this many steps (0: all from the start)
    config.eval.evaluators = ("prediction",)
    return config
