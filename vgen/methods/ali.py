"""ALI: adversarially learned inference (thesis ch. 4, Dumoulin et al. 2017), on single frames.

An encoder G_z(x), a decoder G_x(z) and a discriminator D(x, z) of joint pairs play the game of
Eq. 4.1: D tells encoder pairs (x, ẑ ~ q(z | x)) (label 1) from decoder pairs (x̃ = G_x(z), z)
with z ~ p(z) = N(0, I) (label 0); encoder and decoder are trained together on the
non-saturating loss of Eq. 4.4 (the labels swapped). Algorithm 1: both updates come from the same
batch and the same forward pass, in one step, each side with its own Adam.

  G_z  strided 4×4 convs + batch norm + leaky ReLU down to 4×4, a 4×4 valid conv to 1×1, then a
       Dense to (μ, log σ) and z = μ + σ ⊙ ε (Eq. 4.2)
  G_x  Dense to 4×4, stride-2 transposed convs + batch norm + leaky ReLU, 3×3 conv, sigmoid
  D    x branch (strided maxout convs), z branch (two maxout Dense layers), joint maxout layers
       on their concatenation, one logit; dropout 0.2 on the inputs, 0.5 elsewhere, no batch norm
This follows the ALI paper's CIFAR-10/SVHN tables (maxout with 2 pieces, leaky slope 0.1,
N(0, 0.01) weights, zero biases, Adam 1e-4 / β1 0.5, batch norm running averages with momentum
0.95), with DCGAN-style strided 4×4 layers in place of the paper's mixed 1- and 2-strides so one
width setting serves every power-of-two resolution.

Conditional ALI (Eq. 4.7, thesis 4.4.4): with model.num_classes > 0 the one-hot label y is
embedded linearly, by one Dense per network, and fed to the encoder (before its last layer),
the decoder (with z) and the discriminator (into the joint layers).

Data. This is an image model trained on the video sources: each training step takes one random
frame of every clip (all frames of a clip are samples of q(x), so all are used); evaluation and
figures take the first frame. `sample` does not predict: it ignores the context frames and
returns `horizon` independent prior samples x̃ = G_x(z) per row (a conditional model uses the
clip's label), so the generic loop's sample grids show ground-truth clips above rows of samples.
The video evaluation protocol (PSNR against the true continuation) is not meaningful for ALI;
its results are the figures of `write_figures` (samples, reconstructions, interpolations).
"""

import math
import os
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from vgen import config_lib, losses, viz
from vgen.adversarial import adversarial_step
from vgen.data.pipeline import random_frames
from vgen.errors import ConfigError
from vgen.metrics import psnr
from vgen.nn.maxout import ALI_BN_MOMENTUM, maxout
from vgen.ops.gaussian import sample_gaussian
from vgen.train_state import TrainState

# ----------------------------------------------------------------------------- networks


def down_widths(channels: int, num_down: int) -> list[int]:
    """Feature maps after each stride-2 layer (doubling from `channels`), e.g. 32, 64, 128."""
    return [channels * 2**i for i in range(num_down)]


def _down_conv(features: int, init, use_bias: bool = True) -> nn.Conv:
    """A 4×4 convolution with stride 2 and padding 1: halves H and W."""
    return nn.Conv(features, (4, 4), (2, 2), ((1, 1), (1, 1)), use_bias=use_bias, kernel_init=init)


def _embed(y: jax.Array | None, features: int, std: float) -> list[jax.Array]:
    """[linear embedding of the one-hot (or mixed) label y [B, K]], or [] without a label."""
    if y is None:
        return []
    return [nn.Dense(features, kernel_init=nn.initializers.normal(std), name="embed_y")(y)]


class Encoder(nn.Module):
    """G_z: frames [B, H, W, C] in [0, 1] (and labels [B, K]) -> μ, log σ [B, z_dim]."""

    channels: int
    num_down: int
    z_dim: int
    embed_dim: int
    init_std: float
    leak: float

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None, train: bool):
        init = nn.initializers.normal(self.init_std)
        bn = lambda: nn.BatchNorm(use_running_average=not train, momentum=ALI_BN_MOMENTUM)
        h = x * 2.0 - 1.0
        for width in down_widths(self.channels, self.num_down):
            h = nn.Conv(width, (4, 4), (2, 2), ((1, 1), (1, 1)), use_bias=False, kernel_init=init)(
                h
            )
            h = nn.leaky_relu(bn()(h), self.leak)
        h = nn.Conv(2 * h.shape[-1], (4, 4), padding="VALID", use_bias=False, kernel_init=init)(h)
        h = nn.leaky_relu(bn()(h), self.leak).reshape(x.shape[0], -1)
        h = jnp.concatenate([h, *_embed(y, self.embed_dim, self.init_std)], axis=-1)
        mu, log_sigma = jnp.split(nn.Dense(2 * self.z_dim, kernel_init=init)(h), 2, axis=-1)
        return mu, log_sigma


class Decoder(nn.Module):
    """G_x: latents [B, z_dim] (and labels [B, K]) -> frames [B, H, W, C] in [0, 1]."""

    channels: int
    num_down: int
    out_channels: int
    embed_dim: int
    init_std: float
    leak: float

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None, train: bool) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        bn = lambda: nn.BatchNorm(use_running_average=not train, momentum=ALI_BN_MOMENTUM)
        widths = down_widths(self.channels, self.num_down)
        h = jnp.concatenate([z, *_embed(y, self.embed_dim, self.init_std)], axis=-1)
        h = nn.Dense(16 * 2 * widths[-1], use_bias=False, kernel_init=init)(h)
        h = nn.leaky_relu(bn()(h), self.leak).reshape(z.shape[0], 4, 4, 2 * widths[-1])
        for width in reversed(widths):
            h = nn.ConvTranspose(width, (4, 4), (2, 2), "SAME", use_bias=False, kernel_init=init)(h)
            h = nn.leaky_relu(bn()(h), self.leak)
        return jax.nn.sigmoid(nn.Conv(self.out_channels, (3, 3), kernel_init=init)(h))


class Discriminator(nn.Module):
    """D: frames [B, H, W, C], latents [B, z_dim] (and labels [B, K]) -> logits [B]."""

    channels: int
    num_down: int
    embed_dim: int
    pieces: int
    init_std: float
    dropout_input: float
    dropout_hidden: float

    @nn.compact
    def __call__(self, x: jax.Array, z: jax.Array, y: jax.Array | None, train: bool):
        init = nn.initializers.normal(self.init_std)
        drop = lambda rate, h: nn.Dropout(rate, deterministic=not train)(h)
        k = self.pieces
        widths = down_widths(self.channels, self.num_down)
        top = 2 * widths[-1]

        hx = drop(self.dropout_input, x * 2.0 - 1.0)
        for i, width in enumerate(widths):
            hx = hx if i == 0 else drop(self.dropout_hidden, hx)
            hx = maxout(
                nn.Conv(width * k, (4, 4), (2, 2), ((1, 1), (1, 1)), kernel_init=init)(hx), k
            )
        hx = drop(self.dropout_hidden, hx)
        hx = maxout(nn.Conv(top * k, (4, 4), padding="VALID", kernel_init=init)(hx), k)

        hz = maxout(nn.Dense(top * k, kernel_init=init)(drop(self.dropout_input, z)), k)
        hz = maxout(nn.Dense(top * k, kernel_init=init)(drop(self.dropout_hidden, hz)), k)

        h = jnp.concatenate(
            [hx.reshape(x.shape[0], -1), hz, *_embed(y, self.embed_dim, self.init_std)], axis=-1
        )
        for _ in range(2):
            h = maxout(nn.Dense(2 * top * k, kernel_init=init)(drop(self.dropout_hidden, h)), k)
        return nn.Dense(1, kernel_init=init)(drop(self.dropout_hidden, h))[..., 0]


# ---------------------------------------------------------------------------- interface


def validate_config(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError for model settings this method cannot run."""
    m, r = config.model, config.data.resolution
    if r < 16 or r & (r - 1):
        raise ConfigError(f"data.resolution must be a power of two >= 16 for ALI, got {r}")
    for name in ("channels", "z_dim", "embed_dim", "maxout_pieces"):
        if m[name] < 1:
            raise ConfigError(f"model.{name} must be >= 1, got {m[name]}")
    if m.num_classes < 0:
        raise ConfigError(f"model.num_classes must be >= 0 (0: unconditional), got {m.num_classes}")
    for name in ("dropout_input", "dropout_hidden"):
        if not 0.0 <= m[name] < 1.0:
            raise ConfigError(f"model.{name} must be in [0, 1), got {m[name]}")
    if not m.init_std > 0:
        raise ConfigError(f"model.init_std must be > 0, got {m.init_std}")
    for name in ("lr_gen", "lr_disc"):
        if not config.train[name] > 0:
            raise ConfigError(f"train.{name} must be > 0, got {config.train[name]}")


def _networks(
    config: ml_collections.ConfigDict, image_channels: int
) -> tuple[Encoder, Decoder, Discriminator]:
    """(encoder, decoder, discriminator) for frames with `image_channels` channels."""
    m = config.model
    num_down = int(math.log2(config.data.resolution)) - 2  # down to 4×4
    common = dict(channels=m.channels, num_down=num_down, init_std=m.init_std)
    encoder = Encoder(z_dim=m.z_dim, embed_dim=m.embed_dim, leak=m.leak, **common)
    decoder = Decoder(out_channels=image_channels, embed_dim=m.embed_dim, leak=m.leak, **common)
    disc = Discriminator(
        embed_dim=m.embed_dim,
        pieces=m.maxout_pieces,
        dropout_input=m.dropout_input,
        dropout_hidden=m.dropout_hidden,
        **common,
    )
    return encoder, decoder, disc


def one_hot_labels(config: ml_collections.ConfigDict, label: jax.Array | None) -> jax.Array | None:
    """One-hot labels [B, num_classes] for conditional ALI, None for the unconditional model."""
    k = config.model.num_classes
    if k == 0:
        return None
    if label is None or jnp.ndim(label) != 1:
        shape = None if label is None else jnp.shape(label)
        raise ConfigError(
            f"conditional ALI (model.num_classes={k}) needs one class label per example, "
            f"a batch['label'] of shape [B]; data {config.data.name!r} gives {shape}"
        )
    return jax.nn.one_hot(label, k)


def init(config: ml_collections.ConfigDict, rng: jax.Array, example_batch: dict) -> TrainState:
    """Initialises encoder, decoder and discriminator for frames like example_batch["video"]."""
    validate_config(config)
    video = jnp.asarray(example_batch["video"])
    x = video[:, 0]
    y = one_hot_labels(config, example_batch.get("label"))
    encoder, decoder, disc = _networks(config, x.shape[-1])
    e_rng, d_rng, disc_rng = jax.random.split(rng, 3)
    z = jnp.zeros((x.shape[0], config.model.z_dim))
    e_vars = encoder.init(e_rng, x, y, train=False)
    d_vars = decoder.init(d_rng, z, y, train=False)
    disc_vars = disc.init(disc_rng, x, z, y, train=False)
    t = config.train
    adam = lambda lr: optax.adam(lr, b1=t.adam_b1, b2=t.adam_b2)
    return TrainState.create(
        params={
            "gen": {"encoder": e_vars["params"], "decoder": d_vars["params"]},
            "disc": disc_vars["params"],
        },
        tx={"gen": adam(t.lr_gen), "disc": adam(t.lr_disc)},
        batch_stats={"gen": {"encoder": e_vars["batch_stats"], "decoder": d_vars["batch_stats"]}},
    )


def encode(
    config: ml_collections.ConfigDict,
    state: TrainState,
    x: jax.Array,
    y: jax.Array | None,
    rng: jax.Array | None,
) -> jax.Array:
    """ẑ ~ q(z | x) for frames x [B, H, W, C] (the mean μ(x) when rng is None): [B, z_dim]."""
    encoder, _, _ = _networks(config, x.shape[-1])
    variables = {
        "params": state.params["gen"]["encoder"],
        "batch_stats": state.batch_stats["gen"]["encoder"],
    }
    mu, log_sigma = encoder.apply(variables, x, y, train=False)
    return mu if rng is None else sample_gaussian(mu, 2.0 * log_sigma, rng)


def decode(
    config: ml_collections.ConfigDict,
    state: TrainState,
    z: jax.Array,
    y: jax.Array | None,
    channels: int,
) -> jax.Array:
    """x̃ = G_x(z) for latents z [B, z_dim] (inference mode): [B, H, W, channels]."""
    _, decoder, _ = _networks(config, channels)
    variables = {
        "params": state.params["gen"]["decoder"],
        "batch_stats": state.batch_stats["gen"]["decoder"],
    }
    return decoder.apply(variables, z, y, train=False)


def joint_logits_fn(
    config: ml_collections.ConfigDict,
    stats: dict,
    x: jax.Array,
    y: jax.Array | None,
    z: jax.Array,
    rng: jax.Array,
) -> Callable:
    """The forward pass of a training step, for `adversarial_grads`.

    Frames x [B, H, W, C], labels y [B, K] or None, prior samples z [B, z_dim], the generator's
    batch stats {"encoder", "decoder"}. Returns logits_fn(gen_params, disc_params) ->
    ((D(x, ẑ) [B], D(G_x(z), z) [B]), (new batch stats, mean encoder σ)), networks in training
    mode (batch statistics, dropout from `rng`)."""
    encoder, decoder, disc = _networks(config, x.shape[-1])
    eps_rng, drop_rng = jax.random.split(rng)
    b = x.shape[0]

    def logits_fn(gen, disc_params):
        (mu, log_sigma), e_vars = encoder.apply(
            {"params": gen["encoder"], "batch_stats": stats["encoder"]},
            x,
            y,
            train=True,
            mutable=["batch_stats"],
        )
        z_hat = sample_gaussian(mu, 2.0 * log_sigma, eps_rng)
        x_tilde, d_vars = decoder.apply(
            {"params": gen["decoder"], "batch_stats": stats["decoder"]},
            z,
            y,
            train=True,
            mutable=["batch_stats"],
        )
        # One discriminator call on both kinds of pairs (as the ALI code does).
        logits = disc.apply(
            {"params": disc_params},
            jnp.concatenate([x, x_tilde]),
            jnp.concatenate([z_hat, z]),
            None if y is None else jnp.concatenate([y, y]),
            train=True,
            rngs={"dropout": drop_rng},
        )
        new_stats = {"encoder": e_vars["batch_stats"], "decoder": d_vars["batch_stats"]}
        return (logits[:b], logits[b:]), (new_stats, jnp.mean(jnp.exp(log_sigma)))

    return logits_fn


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One simultaneous discriminator + encoder/decoder update (Algorithm 1) on one random frame
    of each clip of batch["video"] [B, T, H, W, C]."""
    frame_rng, z_rng, net_rng = jax.random.split(rng, 3)
    x = random_frames(batch["video"], frame_rng)
    y = one_hot_labels(config, batch.get("label"))
    z = jax.random.normal(z_rng, (x.shape[0], config.model.z_dim))
    logits_fn = joint_logits_fn(config, state.batch_stats["gen"], x, y, z, net_rng)
    return adversarial_step(state, logits_fn)


def reconstruct(
    config: ml_collections.ConfigDict,
    state: TrainState,
    x: jax.Array,
    rng: jax.Array | None,
    label: jax.Array | None = None,
) -> jax.Array:
    """x̂ = G_x(ẑ), ẑ ~ q(z | x) (μ(x) when rng is None): frames [B, H, W, C] -> [B, H, W, C]."""
    y = one_hot_labels(config, label)
    return decode(config, state, encode(config, state, x, y, rng), y, x.shape[-1])


def interpolate(
    config: ml_collections.ConfigDict,
    state: TrainState,
    x_a: jax.Array,
    x_b: jax.Array,
    steps: int,
    rng: jax.Array | None = None,
    label_a: jax.Array | None = None,
    label_b: jax.Array | None = None,
) -> jax.Array:
    """Decodings of z_a + s (z_b - z_a), s = 0 .. 1 in `steps` steps, where z_a, z_b are the
    codes of frames x_a, x_b [B, H, W, C] (thesis 4.4.2, Fig. 4.6): [B, steps, H, W, C].

    Codes are sampled from q(z | x) with `rng`, or the means without. A conditional model also
    interpolates the one-hot labels, i.e. their linear embeddings."""
    rngs = (None, None) if rng is None else tuple(jax.random.split(rng))
    y_a, y_b = one_hot_labels(config, label_a), one_hot_labels(config, label_b)
    z_a, z_b = encode(config, state, x_a, y_a, rngs[0]), encode(config, state, x_b, y_b, rngs[1])
    s = jnp.linspace(0.0, 1.0, steps)[None, :, None]
    mix = lambda a, b: (a[:, None] + s * (b - a)[:, None]).reshape(-1, a.shape[-1])
    y = None if y_a is None else mix(y_a, y_b)
    frames = decode(config, state, mix(z_a, z_b), y, x_a.shape[-1])
    return frames.reshape(x_a.shape[0], steps, *frames.shape[1:])


def sample(
    config: ml_collections.ConfigDict,
    state: TrainState,
    context: dict[str, jax.Array],
    rng: jax.Array,
    horizon: int,
) -> jax.Array:
    """`horizon` independent prior samples G_x(z), z ~ N(0, I), per row: [B, horizon, H, W, C].

    ALI is an image model and does not predict: the context {"video": [B, c, H, W, C]} only
    sets B and the shapes. A conditional model samples row b with the clip's context["label"]
    [B], or, without labels, with labels drawn from p(y), uniform over the classes."""
    video = context["video"]
    b, c = video.shape[0], video.shape[-1]
    z_rng, y_rng = jax.random.split(rng)
    z = jax.random.normal(z_rng, (b * horizon, config.model.z_dim))
    label = context.get("label")
    if label is None or jnp.ndim(label) != 1:
        label = jax.random.randint(y_rng, (b * horizon,), 0, max(config.model.num_classes, 1))
    else:
        label = jnp.repeat(label, horizon)
    frames = decode(config, state, z, one_hot_labels(config, label), c)
    return frames.reshape(b, horizon, *frames.shape[1:])


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation metrics on the first frame of each clip: reconstruction error of
    G_x(G_z(x)) and the discriminator's accuracy on encoder and decoder pairs (no dropout)."""
    x = batch["video"][:, 0]
    y = one_hot_labels(config, batch.get("label"))
    _, _, disc = _networks(config, x.shape[-1])
    e_rng, z_rng = jax.random.split(rng)
    z_hat = encode(config, state, x, y, e_rng)
    z = jax.random.normal(z_rng, z_hat.shape)
    x_hat = decode(config, state, z_hat, y, x.shape[-1])
    x_tilde = decode(config, state, z, y, x.shape[-1])
    d = lambda xx, zz: disc.apply({"params": state.params["disc"]}, xx, zz, y, train=False)
    return {
        "recon_mse_val": jnp.mean(losses.squared_error(x_hat, x)),
        "psnr_val_recon": jnp.mean(psnr(x_hat, x)),
        "d_acc_val_data": jnp.mean(losses.discriminator_accuracy(d(x, z_hat), True)),
        "d_acc_val_samples": jnp.mean(losses.discriminator_accuracy(d(x_tilde, z), False)),
    }


# ----------------------------------------------------------------------------- figures


def write_figures(
    config: ml_collections.ConfigDict,
    state: TrainState,
    batch: dict,
    rng: jax.Array,
    outdir: str,
    num: int = 8,
    steps: int = 8,
) -> dict[str, str]:
    """Writes the thesis-style figures of the first frames of `batch` (>= 2 clips) to outdir:

    samples.png          prior samples (Fig. 4.2a); conditional: one row per class, one fixed z
                         per column (Fig. 4.7)
    reconstructions.png  data frames above their reconstructions G_x(G_z(x)) (Fig. 4.2b)
    interpolations.png   per row x_a, decodings of codes interpolated from z_a to z_b, x_b
                         (Fig. 4.6)
    Returns {name: path}.
    """
    x = jnp.asarray(batch["video"])[:num, 0]
    label = batch.get("label")
    label = None if label is None or config.model.num_classes == 0 else jnp.asarray(label)[:num]
    n, c = x.shape[0], x.shape[-1]
    s_rng, r_rng, i_rng = jax.random.split(rng, 3)
    k = config.model.num_classes
    if k:
        z = jnp.tile(jax.random.normal(s_rng, (num, config.model.z_dim)), (k, 1))
        y = jax.nn.one_hot(jnp.repeat(jnp.arange(k), num), k)
        samples = np.asarray(decode(config, state, z, y, c)).reshape(k, num, *x.shape[1:])
    else:
        samples = np.asarray(sample(config, state, {"video": x[:1, None]}, s_rng, num * num))
        samples = samples.reshape(num, num, *x.shape[1:])
    recon = reconstruct(config, state, x, r_rng, label)
    half = n // 2
    lab = lambda sl: None if label is None else label[sl]
    inter = interpolate(
        config, state, x[:half], x[half : 2 * half], steps, i_rng, lab(slice(0, half)),
        lab(slice(half, 2 * half)),
    )  # fmt: skip
    inter_rows = [
        np.concatenate([x[i : i + 1], inter[i], x[half + i : half + i + 1]]) for i in range(half)
    ]
    figures = {
        "samples": viz.image_grid(list(samples)),
        "reconstructions": viz.image_grid([x, recon]),
        "interpolations": viz.image_grid(inter_rows),
    }
    return {
        name: str(viz.write_png(os.path.join(outdir, f"{name}.png"), image))
        for name, image in figures.items()
    }


def default_config() -> ml_collections.ConfigDict:
    """The common fields plus ALI's model and training settings (ALI paper, CIFAR-10 table)."""
    config = config_lib.common_config()
    config.method = "ali"
    config.data.context_frames = 1  # ALI reads single frames; see the module docstring
    config.data.predict_frames = 7
    config.model = ml_collections.ConfigDict(
        dict(
            channels=32,  # feature maps after the first stride-2 layer, doubling per layer
            z_dim=64,
            num_classes=0,  # > 0: conditional ALI on batch["label"] (Eq. 4.7)
            embed_dim=32,  # linear label embedding fed to each network
            maxout_pieces=2,
            leak=0.1,  # leaky ReLU slope of encoder and decoder
            init_std=0.01,  # N(0, init_std) weights, zero biases
            dropout_input=0.2,  # discriminator dropout on x and z
            dropout_hidden=0.5,  # ... and before every later layer
        )
    )
    t = config.train
    t.batch_size = 100
    t.lr_gen = 1e-4
    t.lr_disc = 1e-4
    t.adam_b1 = 0.5
    t.adam_b2 = 0.999  # the paper's table writes β2 = 10⁻³, i.e. 1 - β2
    return config
