"""Feature-flow GAN (thesis ch. 6.3): next-frame generation by moving features along a flow field.

Generator (Eq. 6.2), one step:  x̃_t = D2(F[E1(x_{t-1}), D1(z_t, E2(E1(x_{t-1})))])
  E1: strided CNN + ConvLSTM -> fixels at the flow resolution (resolution / flow_downsample)
  E2: one more strided conv on the fixels, to condition the flow field
  D1: z_t and E2 features -> upsample -> ConvLSTM -> κ² flow logits per fixel -> softmax
  F : the going-out feature flow operator (vgen.ops.feature_flow)
  D2: upsampling CNN to pixels, plus a past-frame mask that can copy pixels of x_{t-1}
Batch norm in the generator, weight norm in the discriminator (6.3.3).

Training (6.3.3): non-saturating GAN loss with both updates in one step; closed/open loop: the
first `closed_loop_frames` predicted frames are generated from ground-truth inputs and also get an
L2 loss, the rest run free on the generator's own outputs; a curriculum adds predicted frames as
training goes on. The discriminator is causal in time and scores every prefix, so the curriculum
is a mask over time steps and shapes never change (no recompilation).
"""

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from vgen import config_lib, losses, schedules
from vgen.data.pipeline import context_of
from vgen.errors import ConfigError
from vgen.metrics import psnr
from vgen.nn.convlstm import ConvLSTM, ConvLSTMCell
from vgen.nn.scan import time_unroll
from vgen.ops.feature_flow import feature_flow
from vgen.train_state import TrainState

DISCRIMINATORS = ("convlstm", "conv3d_convlstm")


# ----------------------------------------------------------------------------- generator


class Down(nn.Module):
    """Strided 4×4 conv halving H and W, batch norm, leaky ReLU."""

    features: int
    train: bool

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.Conv(self.features, (4, 4), strides=(2, 2), padding=((1, 1), (1, 1)))(x)
        x = nn.BatchNorm(use_running_average=not self.train, momentum=0.9)(x)
        return nn.leaky_relu(x, 0.2)


class Up(nn.Module):
    """Nearest-neighbour ×2 upsampling, 3×3 conv, batch norm, ReLU (no checkerboard artefacts)."""

    features: int
    train: bool

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        b, h, w, c = x.shape
        x = jax.image.resize(x, (b, 2 * h, 2 * w, c), "nearest")
        x = nn.Conv(self.features, (3, 3), padding="SAME")(x)
        x = nn.BatchNorm(use_running_average=not self.train, momentum=0.9)(x)
        return nn.relu(x)


class FFGenCell(nn.Module):
    """One generator step: carry (E1 state, D1 state, last generated frame) -> next frame."""

    channels: int
    fixel_channels: int
    num_down: int
    kappa: int
    train: bool
    mask_bias: float = 0.0

    @nn.compact
    def __call__(self, carry, inputs):
        """inputs: real x_{t-1} [B, H, W, C], use_real [] bool, z_t [B, z_dim]."""
        e1_state, d1_state, generated_prev = carry
        real_prev, use_real, z = inputs
        x_prev = jnp.where(use_real, real_prev, generated_prev)

        h = x_prev * 2.0 - 1.0
        for i in range(self.num_down):
            h = Down(self.channels * 2**i, self.train)(h)
        e1_state, fixels = ConvLSTMCell(self.fixel_channels, name="E1_h")(e1_state, h)

        e2 = Down(self.fixel_channels, self.train, name="E2")(fixels)
        zc = max(self.fixel_channels // 4, 1)
        zg = nn.Dense(e2.shape[1] * e2.shape[2] * zc, name="z_proj")(z)
        d = jnp.concatenate([zg.reshape(*e2.shape[:3], zc), e2], axis=-1)
        d = Up(self.fixel_channels, self.train, name="D1_up")(d)
        d1_state, d = ConvLSTMCell(self.fixel_channels, name="D1_h")(d1_state, d)
        flow = jax.nn.softmax(nn.Conv(self.kappa**2, (3, 3), name="flow_logits")(d), axis=-1)

        y = feature_flow(fixels, flow)
        for i in reversed(range(self.num_down)):
            y = Up(self.channels * 2**i, self.train)(y)
        pixels = nn.Conv(x_prev.shape[-1], (3, 3), padding="SAME", name="to_pixels")(y)
        mask_logit = nn.Conv(
            1,
            (3, 3),
            padding="SAME",
            bias_init=nn.initializers.constant(self.mask_bias),
            name="past_frame_mask",
        )(y)
        mask = jax.nn.sigmoid(mask_logit)
        x_pred = mask * x_prev + (1.0 - mask) * jax.nn.sigmoid(pixels)
        return (e1_state, d1_state, x_pred), (x_pred, mask, flow)


class FFGenerator(nn.Module):
    """Runs FFGenCell over time with `nn.scan`; teacher forcing is the per-step `use_real` mask."""

    channels: int
    fixel_channels: int
    num_down: int
    kappa: int
    mask_bias: float = 0.0

    @nn.compact
    def __call__(self, video: jax.Array, use_real: jax.Array, z: jax.Array, train: bool):
        """video [B, T, H, W, C] (frames where use_real is False are ignored), use_real [T-1] bool,
        z [B, T-1, z_dim] -> predictions of frames 1..T-1 [B, T-1, H, W, C] and intermediates."""
        b, _, h, w, _ = video.shape
        grid = (b, h // 2**self.num_down, w // 2**self.num_down)
        carry = (
            ConvLSTMCell.zero_carry(grid, self.fixel_channels),
            ConvLSTMCell.zero_carry(grid, self.fixel_channels),
            jnp.zeros_like(video[:, 0]),
        )
        args = (
            self.channels,
            self.fixel_channels,
            self.num_down,
            self.kappa,
            train,
            self.mask_bias,
        )
        time_major = (jnp.swapaxes(video[:, :-1], 0, 1), use_real, jnp.swapaxes(z, 0, 1))
        if self.is_initializing():
            # A scan cannot create its carried batch statistics (the carry's structure would
            # change), so init runs the plain cell once; params and stats have the same tree.
            step = jax.tree.map(lambda x: x[0], time_major)
            _, out = FFGenCell(*args, name="cell")(carry, step)
            preds, masks, flows = jax.tree.map(lambda x: jnp.repeat(x[None], len(use_real), 0), out)
        else:
            # Training updates the running statistics step by step; inference only reads them.
            cell = nn.scan(
                FFGenCell,
                variable_broadcast="params" if train else ["params", "batch_stats"],
                variable_carry="batch_stats" if train else (),
                split_rngs={"params": False},
                unroll=time_unroll(),
            )(*args, name="cell")
            _, (preds, masks, flows) = cell(carry, time_major)
        swap = lambda a: jnp.swapaxes(a, 0, 1)
        return swap(preds), {"mask": swap(masks), "flow": swap(flows)}


# ------------------------------------------------------------------------- discriminator


def _wn_conv(
    features: int, kernel: tuple[int, ...], strides: tuple[int, ...], padding
) -> nn.Module:
    return nn.WeightNorm(nn.Conv(features, kernel, strides=strides, padding=padding))


class FFDiscriminator(nn.Module):
    """Causal video discriminator: a logit per time step from the frames up to that step.

    "convlstm": per-frame strided CNN, then two ConvLSTMs far from full resolution (6.3.3).
    "conv3d_convlstm": the same with causal 3-D convolutions (time kernel 3, padded on the past
    side only) in place of the per-frame CNN: the Dynamics-classifier design the thesis moved to.
    """

    channels: int
    num_down: int
    variant: str

    @nn.compact
    def __call__(self, video: jax.Array) -> jax.Array:
        """video [B, T, H, W, C] in [0, 1] -> logits [B, T]."""
        b, t = video.shape[:2]
        x = video * 2.0 - 1.0
        pad = ((1, 1), (1, 1))
        for i in range(self.num_down):
            ch = self.channels * 2**i
            if self.variant == "conv3d_convlstm":
                x = _wn_conv(ch, (3, 4, 4), (1, 2, 2), ((2, 0), *pad))(x)
            else:
                x = x.reshape(b * t, *x.shape[2:])
                x = _wn_conv(ch, (4, 4), (2, 2), pad)(x)
                x = x.reshape(b, t, *x.shape[1:])
            x = nn.leaky_relu(x, 0.2)
        top = self.channels * 2 ** (self.num_down - 1)
        x = ConvLSTM(top, weight_norm=True)(x)
        x = x.reshape(b * t, *x.shape[2:])
        x = nn.leaky_relu(_wn_conv(2 * top, (4, 4), (2, 2), pad)(x), 0.2)
        x = ConvLSTM(2 * top, weight_norm=True)(x.reshape(b, t, *x.shape[1:]))
        x = jnp.mean(x, axis=(2, 3))
        return nn.WeightNorm(nn.Dense(1))(x)[..., 0]


# ---------------------------------------------------------------------------- interface


def validate_config(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError for model settings this method cannot run."""
    m = config.model
    down = m.flow_downsample
    if down < 2 or down & (down - 1):
        raise ConfigError(f"model.flow_downsample must be a power of two >= 2, got {down}")
    if config.data.resolution % (2 * down):
        raise ConfigError(
            f"data.resolution ({config.data.resolution}) must be divisible by "
            f"2 * model.flow_downsample ({2 * down})"
        )
    if m.kappa < 3 or m.kappa % 2 == 0:
        raise ConfigError(f"model.kappa must be odd and >= 3, got {m.kappa}")
    if m.disc not in DISCRIMINATORS:
        raise ConfigError(f"model.disc must be one of {DISCRIMINATORS}, got {m.disc!r}")
    if config.train.closed_loop_frames < 0:
        raise ConfigError("train.closed_loop_frames must be >= 0")
    for name in ("lr_gen", "lr_disc"):
        if not config.train[name] > 0:
            raise ConfigError(f"train.{name} must be > 0, got {config.train[name]}")


def _networks(config: ml_collections.ConfigDict) -> tuple[FFGenerator, FFDiscriminator]:
    m = config.model
    gen = FFGenerator(
        channels=m.channels,
        fixel_channels=m.fixel_channels,
        num_down=int(math.log2(m.flow_downsample)),
        kappa=m.kappa,
        mask_bias=m.mask_bias,
    )
    disc_down = max(1, int(math.log2(config.data.resolution / 8)))
    disc = FFDiscriminator(channels=m.disc_channels, num_down=disc_down, variant=m.disc)
    return gen, disc


def _teacher_mask(config: ml_collections.ConfigDict, num_frames: int) -> jax.Array:
    """use_real [T-1]: the step predicting frame t reads the real x_{t-1} (context, closed loop)."""
    t = jnp.arange(1, num_frames)
    return t < config.data.context_frames + config.train.closed_loop_frames


def _draw_z(config: ml_collections.ConfigDict, rng: jax.Array, batch: int, frames: int):
    return jax.random.normal(rng, (batch, frames - 1, config.model.z_dim))


def _with_context(video: jax.Array, preds: jax.Array, context: int) -> jax.Array:
    """Real context frames followed by the generated frames: [B, T, H, W, C]."""
    generated = jnp.concatenate([video[:, :1], preds], axis=1)
    t = jnp.arange(video.shape[1])[None, :, None, None, None]
    return jnp.where(t < context, video, generated)


def init(config: ml_collections.ConfigDict, rng: jax.Array, example_batch: dict) -> TrainState:
    """Initialises generator and discriminator for videos shaped like example_batch["video"]."""
    validate_config(config)
    gen, disc = _networks(config)
    video = jnp.asarray(example_batch["video"])
    b, t = video.shape[:2]
    g_rng, d_rng, z_rng = jax.random.split(rng, 3)
    z = _draw_z(config, z_rng, b, t)
    g_vars = gen.init(g_rng, video, _teacher_mask(config, t), z, train=False)
    d_vars = disc.init(d_rng, video)
    adam = lambda lr: optax.adam(lr, b1=config.train.adam_b1, b2=config.train.adam_b2)
    return TrainState.create(
        params={"gen": g_vars["params"], "disc": d_vars["params"]},
        tx={"gen": adam(config.train.lr_gen), "disc": adam(config.train.lr_disc)},
        batch_stats={"gen": g_vars["batch_stats"]},
    )


def _active_steps(config: ml_collections.ConfigDict, step: jax.Array, num_frames: int):
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
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
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
        l2 = losses.masked_mean(losses.squared_error(preds, video[:, 1:]), l2_mask[None, 1:])
        loss = adv + config.train.l2_weight * l2
        return loss, (fake, new_vars["batch_stats"], adv, l2)

    (g_loss, (fake, g_stats, g_adv, l2)), g_grads = jax.value_and_grad(gen_loss, has_aux=True)(
        state.params["gen"]
    )
    fake = jax.lax.stop_gradient(fake)

    def disc_loss(d_params):
        real_logits = disc.apply({"params": d_params}, video)
        fake_logits = disc.apply({"params": d_params}, fake)
        per_step = losses.gan_discriminator_loss(real_logits, fake_logits)
        return losses.masked_mean(per_step, active[None]), (real_logits, fake_logits)

    (d_loss, (real_logits, fake_logits)), d_grads = jax.value_and_grad(disc_loss, has_aux=True)(
        state.params["disc"]
    )
    state = state.apply_gradients("gen", g_grads).apply_gradients("disc", d_grads)
    state = state.replace(step=state.step + 1, batch_stats={"gen": g_stats})
    metrics = {
        "g_loss": g_loss,
        "g_adv": g_adv,
        "l2": l2,
        "d_loss": d_loss,
        "d_acc_train_data": losses.masked_mean(
            losses.discriminator_accuracy(real_logits, True), active[None]
        ),
        "d_acc_samples": losses.masked_mean(
            losses.discriminator_accuracy(fake_logits, False), active[None]
        ),
        "curriculum_frames": length.astype(jnp.float32),
    }
    return state, metrics


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
    config: ml_collections.ConfigDict,
    state: TrainState,
    context: dict[str, jax.Array],
    rng: jax.Array,
    horizon: int,
) -> jax.Array:
    """Free-running prediction: context {"video": [B, c, H, W, C]} -> next frames
    [B, horizon, H, W, C]."""
    video = context["video"]
    preds, _ = _free_run(config, state, video, rng, horizon)
    return preds[:, video.shape[1] - 1 :]


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
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
    config: ml_collections.ConfigDict, state: TrainState, context: dict, rng, horizon: int
) -> dict[str, Any]:
    """Past-frame masks [B, T-1, H, W, 1] and flow fields [B, T-1, h, w, κ²] of a free run."""
    return _free_run(config, state, context["video"], rng, horizon)[1]


def default_config() -> ml_collections.ConfigDict:
    """The common fields plus this method's model and training settings (thesis 6.3.3)."""
    config = config_lib.common_config()
    config.method = "ffgan"
    config.model = ml_collections.ConfigDict(
        dict(
            channels=32,  # first conv width of E1 (doubles per downsampling), mirrored in D2
            fixel_channels=64,  # feature (fixel) channels moved by F
            flow_downsample=4,  # frames -> flow grid: 120x120 -> 30x30 in the thesis
            kappa=3,  # flow patch size: each fixel can move one fixel per step
            z_dim=16,
            disc="conv3d_convlstm",  # the thesis's best discriminator; or "convlstm"
            disc_channels=32,
            # Initial logit of the past-frame mask: > 0 starts by copying x_{t-1}, so the
            # generator first learns where things change.
            mask_bias=2.0,
        )
    )
    t = config.train
    t.lr_gen = 2e-4
    t.lr_disc = 2e-4
    t.adam_b1 = 0.5
    t.adam_b2 = 0.999
    t.l2_weight = 10.0  # weight of the closed-loop L2 loss
    t.closed_loop_frames = 2  # predicted frames generated from ground truth (with L2)
    t.curriculum_start = 2  # predicted frames trained on at step 0 ...
    t.curriculum_every = 200  # ... one more every this many steps (0: all from the start)
    return config
