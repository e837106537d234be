"""RALI: recurrent adversarially learned inference for whole videos (thesis 6.2, Fig. 6.3, 6.4).

ALI's game (thesis ch. 4, Eq. 4.1, `vgen.ali_game`) with x a whole clip x_{1:T}: a
discriminator D(x, z) tells encoder pairs (x, ẑ ~ q(z | x)) (label 1) from decoder pairs
(G_x(z), z ~ p(z)) (label 0); encoder and decoder are trained together on the non-saturating
loss of Eq. 4.4; both updates come from one forward pass in one step (Algorithm 1), each side
with its own Adam (the thesis gives no RALI settings, so ALI's: lr 1e-4, β1 0.5).

Networks (`vgen.nn.rali_nets`): ALI's frame convolutions per frame around ConvLSTMs over time on
an S×S grid (model.lstm_size). D "will look closely to the encoder of Figure 6.4 (left) but
rather with a single scalar output" (6.2): frame features and maxout features of z_t, tiled
over the grid, through ConvLSTMs, one logit per clip from the last state. Dropout as in ALI.

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
cannot be longer than `model.num_frames`. Its results are reconstruction scores of whole clips
(`reconstruct`) and the figures of `write_figures`, the default `eval.evaluators`.
"""

import math
import os

import jax
import jax.numpy as jnp
import ml_collections

from vgen import ali_game, config_lib, viz
from vgen.adversarial import adversarial_step
from vgen.nn.rali_nets import Decoder, Discriminator, Encoder
from vgen.train_state import TrainState

LATENTS = ("single", "sequence")
NO_COND: ali_game.Cond = {}  # RALI is unconditional


def _clip_fits(config: ml_collections.ConfigDict) -> bool:
    """With one z, context + horizon (training or evaluation) fit in model.num_frames."""
    d, horizon = config.data, max(config.data.predict_frames, config.eval.predict_frames)
    return config.model.latent != "single" or d.context_frames + horizon <= config.model.num_frames


CONFIG_CHECKS: tuple[config_lib.Check, ...] = (
    config_lib.require_choice("model.latent", LATENTS),
    config_lib.require_power_of_two("data.resolution", 16),
    config_lib.require_power_of_two("model.lstm_size", 2),
    config_lib.require(
        lambda c: c.model.lstm_size < c.data.resolution,
        "model.lstm_size must be below data.resolution (the convs halve the frames down to it)",
    ),
    config_lib.require_at_least(
        1,
        *(f"model.{n}" for n in ("channels", "z_dim", "lstm_features", "lstm_layers")),
        *(f"model.{n}" for n in ("mlp_hidden", "maxout_pieces", "num_frames")),
    ),
    config_lib.require_range(0.0, 1.0, "model.dropout_input", "model.dropout_hidden"),
    config_lib.require_positive("model.init_std"),
    config_lib.require(
        _clip_fits,
        "model.num_frames fixes the length of RALI's clips with one z (model.latent='single'); "
        "data.context_frames + data/eval.predict_frames is longer",
    ),
)

# The model of every `:tiny` config (configs/rali_*.py).
TINY_MODEL = dict(
    z_dim=4, num_frames=4, mlp_hidden=8, channels=4, lstm_size=4, lstm_features=8, lstm_layers=1
)


def networks(
    config: ml_collections.ConfigDict, image_channels: int, num_frames: int | None = None
) -> ali_game.Networks:
    """(encoder, decoder, discriminator) for frames with `image_channels` channels; with one z
    the decoder generates `num_frames` steps (default model.num_frames)."""
    m = config.model
    common = dict(
        channels=m.channels,
        num_down=int(math.log2(config.data.resolution // m.lstm_size)),
        lstm_features=m.lstm_features,
        lstm_layers=m.lstm_layers,
        init_std=m.init_std,
    )
    decoder = Decoder(
        latent=m.latent,
        lstm_size=m.lstm_size,
        max_frames=m.num_frames,
        mlp_hidden=m.mlp_hidden,
        out_channels=image_channels,
        leak=m.leak,
        num_frames=num_frames,
        **common,
    )
    return ali_game.Networks(
        Encoder(latent=m.latent, z_dim=m.z_dim, leak=m.leak, **common),
        decoder,
        Discriminator(
            pieces=m.maxout_pieces,
            dropout_input=m.dropout_input,
            dropout_hidden=m.dropout_hidden,
            **common,
        ),
    )


def _clip_networks(config: ml_collections.ConfigDict, video: jax.Array) -> ali_game.Networks:
    """The networks for clips like video [B, T, H, W, C]."""
    return networks(config, video.shape[-1], video.shape[1])


def prior_sample(
    config: ml_collections.ConfigDict, rng: jax.Array, batch: int, frames: int
) -> jax.Array:
    """z ~ p(z) = N(0, I): [batch, frames, z_dim] ("sequence") or [batch, z_dim] ("single")."""
    per_step = (frames,) if config.model.latent == "sequence" else ()
    return jax.random.normal(rng, (batch, *per_step, config.model.z_dim))


def init(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> TrainState:
    """Initialises encoder, decoder and discriminator for clips like batch["video"]."""
    video = jnp.asarray(batch["video"])
    z = jnp.zeros(prior_sample(config, rng, *video.shape[:2]).shape)
    return ali_game.init(config, _clip_networks(config, video), rng, video, z, NO_COND)


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One simultaneous discriminator + encoder/decoder update (Algorithm 1) on the whole clips
    batch["video"] [B, T, H, W, C]."""
    video = batch["video"]
    z_rng, net_rng = jax.random.split(rng)
    z = prior_sample(config, z_rng, *video.shape[:2])
    nets, stats = _clip_networks(config, video), state.batch_stats["gen"]
    logits_fn = ali_game.joint_logits_fn(nets, stats, video, z, *jax.random.split(net_rng), NO_COND)
    return adversarial_step(state, logits_fn)


def reconstruct(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The contract's reconstruction: the clips x = batch["video"] and G_x(ẑ), ẑ ~ q(z | x)
    sampled with rng, both [B, T, H, W, C]."""
    video = batch["video"]
    return video, ali_game.autoencode(_clip_networks(config, video), state, video, rng, NO_COND)


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
    nets = networks(config, context["video"].shape[-1], c + horizon)
    return ali_game.decode(nets, state, z, NO_COND)[:, c:]


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation metrics on whole clips (`ali_game.eval_metrics`): D's losses and accuracies
    on encoder and decoder pairs (no dropout), the reconstruction error of G_x(G_z(x))."""
    video = batch["video"]
    return ali_game.eval_metrics(_clip_networks(config, video), state, video, rng, NO_COND)


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
    nets = _clip_networks(config, video)
    s_rng, r_rng, i_rng = jax.random.split(rng, 3)
    prior = prior_sample(config, s_rng, num, video.shape[1])
    samples = ali_game.decode(nets, state, prior, NO_COND)
    recon = ali_game.autoencode(nets, state, video, r_rng, NO_COND)
    x_a, inter, x_b = ali_game.interpolate_halves(nets, state, video, steps, i_rng, NO_COND)
    inter_rows = [x_a, *(inter[:, i] for i in range(steps)), x_b]  # rows: interpolation steps
    figures = {
        "samples": (viz.video_grid([samples]), viz.filmstrip([samples])),
        "reconstructions": (viz.video_grid([video, recon]), viz.filmstrip([video, recon])),
        "interpolations": (
            viz.video_grid(ali_game.with_ends(x_a, inter, x_b)),
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
    config.train.batch_size = 32
    for name in ("gen", "disc"):  # ALI's Adam: lr 1e-4, β1 0.5
        config.optim[name] = config_lib.optimizer("adam", 1e-4, b1=0.5, b2=0.999)
    config.eval.evaluators = ("reconstruction", "figures")
    return config
