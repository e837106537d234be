"""RALI: recurrent adversarially learned inference for whole videos (thesis 6.2, Fig. 6.3, 6.4).

ALI (thesis ch. 4, `vgen.methods.ali`) with x a whole clip x_{1:T}. The same game (Eq. 4.1):
a discriminator D(x, z) tells encoder pairs (x, ẑ ~ q(z | x)) (label 1) from decoder pairs
(G_x(z), z ~ p(z)) (label 0); encoder and decoder are trained together on the non-saturating
loss of Eq. 4.4; both updates come from one forward pass in one step (Algorithm 1), each side
with its own Adam (the thesis gives no RALI settings, so ALI's: lr 1e-4, β1 0.5).

  G_z  per frame: strided 4×4 convs + batch norm + leaky ReLU down to an S×S grid
       (model.lstm_size); over time: model.lstm_layers ConvLSTMs; heads: a Dense to (μ, log σ)
  G_x  per step an S×S input map (see the latents below), batch norm + leaky ReLU, ConvLSTMs
       over time, then per frame stride-2 transposed convs + batch norm + leaky ReLU and a
       3×3 conv with a sigmoid
  D    "its design will look closely to the encoder of Figure 6.4 (left) but rather with a
       single scalar output" (6.2): per frame strided maxout convs (x branch); per step two
       maxout Dense layers on z_t (z branch), tiled over the S×S grid and concatenated with the
       frame features; ConvLSTMs over time; the last hidden state, a maxout Dense, one logit
       per clip. Dropout as in ALI, no batch norm.

Latent structures (`model.latent`):
  "sequence"  z_{1:T}, one z_t ~ N(0, I) per frame (Fig. 6.3). The encoder's head reads every
              hidden state h_t; the decoder's step t reads a linear map of z_t (shared in time).
  "single"    one z ~ N(0, I) per clip (Fig. 6.4, the thesis's best). The encoder's head reads
              the last hidden state h_T, which has seen the whole clip. The thesis: "Our best
              experiment was done by using a MLP that parametrized these connections [from z to
              the first recurrence] (shared parameters across time)", and this MLP "fix[es] in
              advance the number of timesteps that will be generated". Both hold for what is
              done here: one MLP, the same at every step, reads [z, one-hot(t)] (the one-hot
              over `model.num_frames` steps is what fixes the length) and outputs the input map
              of the first decoder ConvLSTM at step t. Its depth (one hidden layer of
              `model.mlp_hidden` leaky-ReLU units) is not in the thesis. D sees z at every step.

`sample` generates a clip of context + horizon frames from the prior (RALI ignores the
context frames: it generates whole videos unconditionally) and returns its last `horizon`
frames, so that frame t of a sample is step t of a generated clip; the generic loop's sample
grids show the ground truth above (real context, generated frames). With "single" the clip
cannot be longer than `model.num_frames`. The prediction protocol (PSNR against the true
continuation) is not meaningful for RALI; its results are the figures of `write_figures`.
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
from vgen.errors import ConfigError
from vgen.methods.ali import down_widths
from vgen.metrics import psnr
from vgen.nn.convlstm import ConvLSTM
from vgen.nn.maxout import ALI_BN_MOMENTUM, maxout
from vgen.ops.gaussian import sample_gaussian
from vgen.train_state import TrainState

LATENTS = ("single", "sequence")


# ----------------------------------------------------------------------------- networks


def _per_frame(fn: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """Applies a frame-wise fn to [B, T, ...] by folding time into the batch."""
    b, t = x.shape[:2]
    y = fn(x.reshape(b * t, *x.shape[2:]))
    return y.reshape(b, t, *y.shape[1:])


class Encoder(nn.Module):
    """G_z: clips [B, T, H, W, C] in [0, 1] -> μ, log σ, each [B, T, z_dim] ("sequence") or
    [B, z_dim] ("single")."""

    latent: str
    channels: int
    num_down: int
    lstm_features: int
    lstm_layers: int
    z_dim: int
    init_std: float
    leak: float

    @nn.compact
    def __call__(self, video: jax.Array, train: bool) -> tuple[jax.Array, jax.Array]:
        init = nn.initializers.normal(self.init_std)

        def frames(h):
            h = h * 2.0 - 1.0
            for width in down_widths(self.channels, self.num_down):
                h = nn.Conv(width, (4, 4), (2, 2), ((1, 1), (1, 1)), use_bias=False,
                            kernel_init=init)(h)  # fmt: skip
                h = nn.BatchNorm(use_running_average=not train, momentum=ALI_BN_MOMENTUM)(h)
                h = nn.leaky_relu(h, self.leak)
            return h

        h = _per_frame(frames, video)
        for _ in range(self.lstm_layers):
            h = ConvLSTM(self.lstm_features)(h)  # [B, T, S, S, F]
        if self.latent == "single":
            h = h[:, -1]  # the last state has read the whole clip
        h = h.reshape(*h.shape[:-3], -1)
        mu, log_sigma = jnp.split(nn.Dense(2 * self.z_dim, kernel_init=init)(h), 2, axis=-1)
        return mu, log_sigma


class Decoder(nn.Module):
    """G_x: latents z [B, T, z_dim] ("sequence") or [B, z_dim] ("single", then `num_frames`
    steps, <= `max_frames`) -> clips [B, T, H, W, out_channels] in [0, 1].

    Sows the per-step inputs of the first ConvLSTM, [B, T, S, S, F], as
    intermediates["lstm_inputs"]."""

    latent: str
    channels: int
    num_down: int
    lstm_size: int
    lstm_features: int
    lstm_layers: int
    max_frames: int
    mlp_hidden: int
    out_channels: int
    init_std: float
    leak: float

    @nn.compact
    def __call__(self, z: jax.Array, train: bool, num_frames: int | None = None) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        s, f = self.lstm_size, self.lstm_features
        if self.latent == "single":
            t = self.max_frames if num_frames is None else num_frames
            if t > self.max_frames:
                raise ConfigError(
                    f"RALI with one z generates at most model.num_frames={self.max_frames} "
                    f"frames (its MLP reads the time step), asked for {t}"
                )
            b = z.shape[0]
            steps = jnp.broadcast_to(jnp.eye(self.max_frames)[:t], (b, t, self.max_frames))
            u = jnp.concatenate([jnp.broadcast_to(z[:, None], (b, t, z.shape[-1])), steps], -1)
            # The MLP from z to each step, the same parameters at every step.
            u = nn.leaky_relu(nn.Dense(self.mlp_hidden, kernel_init=init, name="mlp_0")(u),
                              self.leak)  # fmt: skip
            u = nn.Dense(s * s * f, use_bias=False, kernel_init=init, name="mlp_1")(u)
        else:
            b, t = z.shape[:2]
            u = nn.Dense(s * s * f, use_bias=False, kernel_init=init, name="project")(z)
        u = u.reshape(b, t, s, s, f)
        self.sow("intermediates", "lstm_inputs", u)
        bn = lambda: nn.BatchNorm(use_running_average=not train, momentum=ALI_BN_MOMENTUM)
        h = _per_frame(lambda v: nn.leaky_relu(bn()(v), self.leak), u)
        for _ in range(self.lstm_layers):
            h = ConvLSTM(f)(h)

        def frames(h):
            for width in reversed(down_widths(self.channels, self.num_down)):
                h = nn.ConvTranspose(width, (4, 4), (2, 2), "SAME", use_bias=False,
                                     kernel_init=init)(h)  # fmt: skip
                h = nn.leaky_relu(bn()(h), self.leak)
            return jax.nn.sigmoid(nn.Conv(self.out_channels, (3, 3), kernel_init=init)(h))

        return _per_frame(frames, h)


class Discriminator(nn.Module):
    """D: clips [B, T, H, W, C], latents [B, T, z_dim] or [B, z_dim] -> logits [B]."""

    channels: int
    num_down: int
    lstm_features: int
    lstm_layers: int
    pieces: int
    init_std: float
    dropout_input: float
    dropout_hidden: float

    @nn.compact
    def __call__(self, video: jax.Array, z: jax.Array, train: bool) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        drop = lambda rate, h: nn.Dropout(rate, deterministic=not train)(h)
        k, top = self.pieces, self.lstm_features
        b, t = video.shape[:2]

        def frames(h):
            h = drop(self.dropout_input, h * 2.0 - 1.0)
            for i, width in enumerate(down_widths(self.channels, self.num_down)):
                h = h if i == 0 else drop(self.dropout_hidden, h)
                h = nn.Conv(width * k, (4, 4), (2, 2), ((1, 1), (1, 1)), kernel_init=init)(h)
                h = maxout(h, k)
            return h

        hx = _per_frame(frames, video)  # [B, T, S, S, F]
        if z.ndim == 2:  # one z per clip: the same z beside every frame
            z = jnp.broadcast_to(z[:, None], (b, t, z.shape[-1]))
        hz = maxout(nn.Dense(top * k, kernel_init=init)(drop(self.dropout_input, z)), k)
        hz = maxout(nn.Dense(top * k, kernel_init=init)(drop(self.dropout_hidden, hz)), k)
        hz = jnp.broadcast_to(hz[:, :, None, None], (*hx.shape[:4], top))
        h = drop(self.dropout_hidden, jnp.concatenate([hx, hz], axis=-1))
        for _ in range(self.lstm_layers):
            h = ConvLSTM(top)(h)
        h = h[:, -1].reshape(b, -1)  # the last state has read every (x_t, z_t)
        h = maxout(nn.Dense(2 * top * k, kernel_init=init)(drop(self.dropout_hidden, h)), k)
        return nn.Dense(1, kernel_init=init)(drop(self.dropout_hidden, h))[..., 0]


# ---------------------------------------------------------------------------- interface


def validate_config(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError for model settings this method cannot run."""
    m, d, r = config.model, config.data, config.data.resolution
    if m.latent not in LATENTS:
        raise ConfigError(f"model.latent must be one of {LATENTS}, got {m.latent!r}")
    if r < 8 or r & (r - 1):
        raise ConfigError(f"data.resolution must be a power of two for RALI, got {r}")
    s = m.lstm_size
    if s < 2 or s & (s - 1) or s >= r:
        raise ConfigError(
            f"model.lstm_size must be a power of two >= 2 and below data.resolution ({r}), got {s}"
        )
    for name in ("channels", "z_dim", "lstm_features", "lstm_layers", "mlp_hidden",
                 "maxout_pieces", "num_frames"):  # fmt: skip
        if m[name] < 1:
            raise ConfigError(f"model.{name} must be >= 1, got {m[name]}")
    for name in ("dropout_input", "dropout_hidden"):
        if not 0.0 <= m[name] < 1.0:
            raise ConfigError(f"model.{name} must be in [0, 1), got {m[name]}")
    if not m.init_std > 0:
        raise ConfigError(f"model.init_std must be > 0, got {m.init_std}")
    if m.latent == "single":
        horizon = max(d.predict_frames, config.eval.get("predict_frames", 0))
        if d.context_frames + horizon > m.num_frames:
            raise ConfigError(
                f"model.num_frames ({m.num_frames}) fixes the length of RALI's clips with one z; "
                f"data.context_frames + data/eval.predict_frames = "
                f"{d.context_frames + horizon} is longer"
            )
    for name in ("lr_gen", "lr_disc"):
        if not config.train[name] > 0:
            raise ConfigError(f"train.{name} must be > 0, got {config.train[name]}")


def _networks(
    config: ml_collections.ConfigDict, image_channels: int
) -> tuple[Encoder, Decoder, Discriminator]:
    """(encoder, decoder, discriminator) for frames with `image_channels` channels."""
    m = config.model
    num_down = int(math.log2(config.data.resolution // m.lstm_size))
    common = dict(
        channels=m.channels,
        num_down=num_down,
        lstm_features=m.lstm_features,
        lstm_layers=m.lstm_layers,
        init_std=m.init_std,
    )
    encoder = Encoder(latent=m.latent, z_dim=m.z_dim, leak=m.leak, **common)
    decoder = Decoder(
        latent=m.latent,
        lstm_size=m.lstm_size,
        max_frames=m.num_frames,
        mlp_hidden=m.mlp_hidden,
        out_channels=image_channels,
        leak=m.leak,
        **common,
    )
    disc = Discriminator(
        pieces=m.maxout_pieces,
        dropout_input=m.dropout_input,
        dropout_hidden=m.dropout_hidden,
        **common,
    )
    return encoder, decoder, disc


def prior_sample(
    config: ml_collections.ConfigDict, rng: jax.Array, batch: int, frames: int
) -> jax.Array:
    """z ~ p(z) = N(0, I): [batch, frames, z_dim] ("sequence") or [batch, z_dim] ("single")."""
    per_step = (frames,) if config.model.latent == "sequence" else ()
    return jax.random.normal(rng, (batch, *per_step, config.model.z_dim))


def init(config: ml_collections.ConfigDict, rng: jax.Array, example_batch: dict) -> TrainState:
    """Initialises encoder, decoder and discriminator for clips like example_batch["video"]."""
    validate_config(config)
    video = jnp.asarray(example_batch["video"])
    b, t = video.shape[:2]
    encoder, decoder, disc = _networks(config, video.shape[-1])
    e_rng, d_rng, disc_rng = jax.random.split(rng, 3)
    z = jnp.zeros(prior_sample(config, e_rng, b, t).shape)
    e_vars = encoder.init(e_rng, video, train=False)
    d_vars = decoder.init(d_rng, z, train=False, num_frames=t)
    disc_vars = disc.init(disc_rng, video, z, train=False)
    tr = config.train
    adam = lambda lr: optax.adam(lr, b1=tr.adam_b1, b2=tr.adam_b2)
    return TrainState.create(
        params={
            "gen": {"encoder": e_vars["params"], "decoder": d_vars["params"]},
            "disc": disc_vars["params"],
        },
        tx={"gen": adam(tr.lr_gen), "disc": adam(tr.lr_disc)},
        batch_stats={"gen": {"encoder": e_vars["batch_stats"], "decoder": d_vars["batch_stats"]}},
    )


def _variables(state: TrainState, name: str) -> dict:
    return {"params": state.params["gen"][name], "batch_stats": state.batch_stats["gen"][name]}


def encode(
    config: ml_collections.ConfigDict, state: TrainState, video: jax.Array, rng: jax.Array | None
) -> jax.Array:
    """ẑ ~ q(z | x_{1:T}) for clips [B, T, H, W, C] (the mean μ(x) when rng is None):
    [B, T, z_dim] ("sequence") or [B, z_dim] ("single")."""
    encoder, _, _ = _networks(config, video.shape[-1])
    mu, log_sigma = encoder.apply(_variables(state, "encoder"), video, train=False)
    return mu if rng is None else sample_gaussian(mu, 2.0 * log_sigma, rng)


def decode(
    config: ml_collections.ConfigDict,
    state: TrainState,
    z: jax.Array,
    channels: int,
    num_frames: int | None = None,
) -> jax.Array:
    """x̃ = G_x(z) (inference mode): [B, T, H, W, channels], T = z.shape[1] ("sequence") or
    `num_frames` (default model.num_frames; "single")."""
    _, decoder, _ = _networks(config, channels)
    return decoder.apply(_variables(state, "decoder"), z, train=False, num_frames=num_frames)


def joint_logits_fn(
    config: ml_collections.ConfigDict, stats: dict, video: jax.Array, z: jax.Array, rng: jax.Array
) -> Callable:
    """The forward pass of a training step, for `ali.adversarial_grads`.

    Clips video [B, T, H, W, C], prior samples z (`prior_sample`), the generator's batch stats
    {"encoder", "decoder"}. Returns logits_fn(gen_params, disc_params) ->
    ((D(x, ẑ) [B], D(G_x(z), z) [B]), (new batch stats, mean encoder σ)), networks in training
    mode (batch statistics, dropout from `rng`)."""
    encoder, decoder, disc = _networks(config, video.shape[-1])
    eps_rng, drop_rng = jax.random.split(rng)
    b, t = video.shape[:2]

    def logits_fn(gen, disc_params):
        (mu, log_sigma), e_vars = encoder.apply(
            {"params": gen["encoder"], "batch_stats": stats["encoder"]},
            video,
            train=True,
            mutable=["batch_stats"],
        )
        z_hat = sample_gaussian(mu, 2.0 * log_sigma, eps_rng)
        x_tilde, d_vars = decoder.apply(
            {"params": gen["decoder"], "batch_stats": stats["decoder"]},
            z,
            train=True,
            num_frames=t,
            mutable=["batch_stats"],
        )
        logits = disc.apply(
            {"params": disc_params},
            jnp.concatenate([video, x_tilde]),
            jnp.concatenate([z_hat, z]),
            train=True,
            rngs={"dropout": drop_rng},
        )
        new_stats = {"encoder": e_vars["batch_stats"], "decoder": d_vars["batch_stats"]}
        return (logits[:b], logits[b:]), (new_stats, jnp.mean(jnp.exp(log_sigma)))

    return logits_fn


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One simultaneous discriminator + encoder/decoder update (Algorithm 1) on the whole clips
    batch["video"] [B, T, H, W, C]."""
    video = batch["video"]
    z_rng, net_rng = jax.random.split(rng)
    z = prior_sample(config, z_rng, *video.shape[:2])
    logits_fn = joint_logits_fn(config, state.batch_stats["gen"], video, z, net_rng)
    return adversarial_step(state, logits_fn)


def reconstruct(
    config: ml_collections.ConfigDict, state: TrainState, video: jax.Array, rng: jax.Array | None
) -> jax.Array:
    """x̂ = G_x(ẑ), ẑ ~ q(z | x) (μ(x) when rng is None): clips [B, T, H, W, C] -> same shape."""
    z = encode(config, state, video, rng)
    return decode(config, state, z, video.shape[-1], video.shape[1])


def interpolate(
    config: ml_collections.ConfigDict,
    state: TrainState,
    video_a: jax.Array,
    video_b: jax.Array,
    steps: int,
    rng: jax.Array | None = None,
) -> jax.Array:
    """Decodings of z_a + s (z_b - z_a), s = 0 .. 1 in `steps` steps, where z_a, z_b are the
    codes of clips video_a, video_b [B, T, H, W, C] (sampled with `rng`, else the means; for
    "sequence" the whole z_{1:T} is interpolated): [B, steps, T, H, W, C]."""
    rngs = (None, None) if rng is None else tuple(jax.random.split(rng))
    z_a, z_b = encode(config, state, video_a, rngs[0]), encode(config, state, video_b, rngs[1])
    s = jnp.linspace(0.0, 1.0, steps).reshape(1, steps, *([1] * (z_a.ndim - 1)))
    z = (z_a[:, None] + s * (z_b - z_a)[:, None]).reshape(-1, *z_a.shape[1:])
    b, t = video_a.shape[:2]
    clips = decode(config, state, z, video_a.shape[-1], t)
    return clips.reshape(b, steps, *clips.shape[1:])


def sample(
    config: ml_collections.ConfigDict,
    state: TrainState,
    context: dict[str, jax.Array],
    rng: jax.Array,
    horizon: int,
) -> jax.Array:
    """The last `horizon` frames of clips of c + horizon frames generated from the prior:
    [B, horizon, H, W, C]. RALI is unconditional: context {"video": [B, c, H, W, C]} only sets
    B, c and the shapes."""
    b, c = context["video"].shape[:2]
    z = prior_sample(config, rng, b, c + horizon)
    return decode(config, state, z, context["video"].shape[-1], c + horizon)[:, c:]


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation metrics on whole clips: the losses and accuracies of D on encoder and decoder
    pairs (no dropout) and the reconstruction error of G_x(G_z(x))."""
    video = batch["video"]
    _, _, disc = _networks(config, video.shape[-1])
    e_rng, z_rng = jax.random.split(rng)
    z_hat = encode(config, state, video, e_rng)
    z = prior_sample(config, z_rng, *video.shape[:2])
    x_hat = decode(config, state, z_hat, video.shape[-1], video.shape[1])
    x_tilde = decode(config, state, z, video.shape[-1], video.shape[1])
    d = lambda xx, zz: disc.apply({"params": state.params["disc"]}, xx, zz, train=False)
    data_logits, sample_logits = d(video, z_hat), d(x_tilde, z)
    return {
        "d_loss_val": jnp.mean(losses.gan_discriminator_loss(data_logits, sample_logits)),
        "g_loss_val": jnp.mean(losses.ali_generator_loss(data_logits, sample_logits)),
        "d_acc_val_data": jnp.mean(losses.discriminator_accuracy(data_logits, True)),
        "d_acc_val_samples": jnp.mean(losses.discriminator_accuracy(sample_logits, False)),
        "recon_mse_val": jnp.mean(losses.squared_error(x_hat, video)),
        "psnr_val_recon": jnp.mean(psnr(x_hat, video)),
    }


# ----------------------------------------------------------------------------- figures


def write_figures(
    config: ml_collections.ConfigDict,
    state: TrainState,
    batch: dict,
    rng: jax.Array,
    outdir: str,
    num: int = 8,
    steps: int = 6,
) -> dict[str, str]:
    """Writes video figures of RALI for the clips of `batch` (>= 2) to outdir, each as an
    animated grid NAME.gif (clips as columns) and a filmstrip NAME.png (time left to right):

    samples          `num` clips generated from the prior (Fig. 6.5)
    reconstructions  data clips above their reconstructions G_x(G_z(x))
    interpolations   per pair of clips: x_a, decodings of codes interpolated from z_a to z_b
                     in `steps` steps, x_b
    Returns {name: path} with names "samples", "samples_gif", ...
    """
    video = jnp.asarray(batch["video"])[:num]
    n, t, c = video.shape[0], video.shape[1], video.shape[-1]
    s_rng, r_rng, i_rng = jax.random.split(rng, 3)
    samples = decode(config, state, prior_sample(config, s_rng, num, t), c, t)
    recon = reconstruct(config, state, video, r_rng)
    half = n // 2
    x_a, x_b = video[:half], video[half : 2 * half]
    inter = np.asarray(interpolate(config, state, x_a, x_b, steps, i_rng))
    x_a, x_b = np.asarray(x_a), np.asarray(x_b)
    inter_rows = [x_a, *(inter[:, i] for i in range(steps)), x_b]  # rows: interpolation steps
    figures = {
        "samples": (viz.video_grid([samples]), viz.filmstrip([samples])),
        "reconstructions": (viz.video_grid([video, recon]), viz.filmstrip([video, recon])),
        "interpolations": (
            viz.video_grid(
                [np.concatenate([x_a[i : i + 1], inter[i], x_b[i : i + 1]]) for i in range(half)]
            ),  # fmt: skip
            viz.filmstrip(inter_rows),
        ),
    }
    paths = {}
    for name, (grid, strip) in figures.items():
        paths[f"{name}_gif"] = str(viz.write_gif(os.path.join(outdir, f"{name}.gif"), grid))
        paths[name] = str(viz.write_png(os.path.join(outdir, f"{name}.png"), strip))
    return paths


def default_config() -> ml_collections.ConfigDict:
    """The common fields plus RALI's model and training settings (ALI's where the thesis gives
    none)."""
    config = config_lib.common_config()
    config.method = "rali"
    config.data.context_frames = 1  # RALI generates whole clips; see the module docstring
    config.data.predict_frames = 15
    config.model = ml_collections.ConfigDict(
        dict(
            latent="single",  # "single": one z per clip (Fig. 6.4); "sequence": z_t (Fig. 6.3)
            z_dim=128,  # per clip ("single") or per frame ("sequence")
            num_frames=16,  # "single": clip length fixed by the MLP's one-hot time input
            mlp_hidden=256,  # "single": hidden units of the MLP from (z, t) to step t
            channels=32,  # feature maps after the first stride-2 layer, doubling per layer
            lstm_size=8,  # the ConvLSTMs run on lstm_size × lstm_size grids
            lstm_features=128,
            lstm_layers=2,  # "the network will be deep and have multiple stages of h" (6.2)
            maxout_pieces=2,
            leak=0.1,  # leaky ReLU slope of encoder and decoder
            init_std=0.01,  # N(0, init_std) weights of the non-recurrent layers, zero biases
            dropout_input=0.2,  # discriminator dropout on x and z
            dropout_hidden=0.5,  # ... and before every later layer
        )
    )
    t = config.train
    t.batch_size = 32
    t.lr_gen = 1e-4
    t.lr_disc = 1e-4
    t.adam_b1 = 0.5
    t.adam_b2 = 0.999
    return config
