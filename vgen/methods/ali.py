"""ALI: adversarially learned inference (thesis ch. 4, Dumoulin et al. 2017), on single frames.

An encoder G_z(x), a decoder G_x(z) and a discriminator D(x, z) of joint pairs play the game of
Eq. 4.1 (`vgen.ali_game`): D tells encoder pairs (x, ẑ ~ q(z | x)) (label 1) from decoder pairs
(x̃ = G_x(z), z) with z ~ p(z) = N(0, I) (label 0); encoder and decoder are trained together on
the non-saturating loss of Eq. 4.4 (the labels swapped). Algorithm 1: both updates come from the
same batch and the same forward pass, in one step, each side with its own Adam.

Networks (`vgen.nn.ali_nets`): the ALI paper's CIFAR-10/SVHN tables (maxout with 2 pieces, leaky
slope 0.1, N(0, 0.01) weights, zero biases, Adam 1e-4 / β1 0.5, batch norm running averages
with momentum 0.95, dropout 0.2 on D's inputs and 0.5 elsewhere), with DCGAN-style strided 4×4
layers in place of the paper's mixed 1- and 2-strides so one width setting serves every
power-of-two resolution.

Conditional ALI (Eq. 4.7, thesis 4.4.4): with model.num_classes > 0 the one-hot label y is
embedded linearly, by one Dense per network, and fed to the encoder (before its last layer),
the decoder (with z) and the discriminator (into the joint layers).

Data. This is an image model trained on the video sources: each training step takes one random
frame of every clip (all frames of a clip are samples of q(x), so all are used); evaluation and
figures take the first frame. `sample` does not predict: it ignores the context frames and
returns `horizon` independent prior samples x̃ = G_x(z) per row (a conditional model uses the
clip's label), so the generic loop's sample grids show ground-truth clips above rows of samples.
Its results are reconstruction scores (`reconstruct`) and the figures of `write_figures`
(samples, reconstructions, interpolations), the default `eval.evaluators`.
"""

import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vgen import ali_game, config_lib, viz
from vgen.adversarial import adversarial_step
from vgen.data.pipeline import random_frames
from vgen.errors import ConfigError
from vgen.nn.ali_nets import Decoder, Discriminator, Encoder
from vgen.train_state import TrainState

CONFIG_CHECKS: tuple[config_lib.Check, ...] = (
    config_lib.require_power_of_two("data.resolution", 16),
    config_lib.require_at_least(
        1, *(f"model.{n}" for n in ("channels", "z_dim", "embed_dim", "maxout_pieces"))
    ),
    config_lib.require_at_least(0, "model.num_classes"),  # 0: unconditional
    config_lib.require_range(0.0, 1.0, "model.dropout_input", "model.dropout_hidden"),
    config_lib.require_positive("model.init_std"),
)

# The model of every `:tiny` config (configs/ali_*.py).
TINY_MODEL = dict(channels=4, z_dim=4, embed_dim=4)


def networks(config: ml_collections.ConfigDict, image_channels: int) -> ali_game.Networks:
    """(encoder, decoder, discriminator) for frames with `image_channels` channels."""
    m = config.model
    num_down = int(math.log2(config.data.resolution)) - 2  # down to 4×4
    common = dict(channels=m.channels, num_down=num_down, init_std=m.init_std)
    return ali_game.Networks(
        Encoder(z_dim=m.z_dim, embed_dim=m.embed_dim, leak=m.leak, **common),
        Decoder(out_channels=image_channels, embed_dim=m.embed_dim, leak=m.leak, **common),
        Discriminator(
            embed_dim=m.embed_dim,
            pieces=m.maxout_pieces,
            dropout_input=m.dropout_input,
            dropout_hidden=m.dropout_hidden,
            **common,
        ),
    )


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


def conditions(config: ml_collections.ConfigDict, label: jax.Array | None) -> ali_game.Cond:
    """What every network reads besides x and z: {"y": one-hot labels [B, K] or None}."""
    return {"y": one_hot_labels(config, label)}


def init(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> TrainState:
    """Initialises encoder, decoder and discriminator for frames like batch["video"]."""
    x = jnp.asarray(batch["video"])[:, 0]
    cond = conditions(config, batch.get("label"))
    z = jnp.zeros((x.shape[0], config.model.z_dim))
    return ali_game.init(config, networks(config, x.shape[-1]), rng, x, z, cond)


def train_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One simultaneous discriminator + encoder/decoder update (Algorithm 1) on one random frame
    of each clip of batch["video"] [B, T, H, W, C]."""
    frame_rng, z_rng, net_rng = jax.random.split(rng, 3)
    x = random_frames(batch["video"], frame_rng)
    z = jax.random.normal(z_rng, (x.shape[0], config.model.z_dim))
    nets, stats = networks(config, x.shape[-1]), state.batch_stats["gen"]
    cond = conditions(config, batch.get("label"))
    logits_fn = ali_game.joint_logits_fn(nets, stats, x, z, *jax.random.split(net_rng), cond)
    return adversarial_step(state, logits_fn)


def reconstruct(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The contract's reconstruction: the first frame x of each clip and G_x(ẑ), ẑ ~ q(z | x)
    sampled with rng, both [B, 1, H, W, C]."""
    x = batch["video"][:, :1]
    cond = conditions(config, batch.get("label"))
    recon = ali_game.autoencode(networks(config, x.shape[-1]), state, x[:, 0], rng, cond)
    return x, recon[:, None]


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
    frames = ali_game.decode(networks(config, c), state, z, conditions(config, label))
    return frames.reshape(b, horizon, *frames.shape[1:])


def eval_step(
    config: ml_collections.ConfigDict, state: TrainState, batch: dict, rng: jax.Array
) -> dict[str, jax.Array]:
    """Validation metrics on the first frame of each clip (`ali_game.eval_metrics`): D's losses
    and accuracies on encoder and decoder pairs, the reconstruction error of G_x(G_z(x))."""
    x = batch["video"][:, 0]
    cond = conditions(config, batch.get("label"))
    return ali_game.eval_metrics(networks(config, x.shape[-1]), state, x, rng, cond)


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
    nets, cond = networks(config, x.shape[-1]), conditions(config, label)
    s_rng, r_rng, i_rng = jax.random.split(rng, 3)
    k = config.model.num_classes
    if k:
        z = jnp.tile(jax.random.normal(s_rng, (num, config.model.z_dim)), (k, 1))
        y = jax.nn.one_hot(jnp.repeat(jnp.arange(k), num), k)
        samples = np.asarray(ali_game.decode(nets, state, z, {"y": y}))
        samples = samples.reshape(k, num, *x.shape[1:])
    else:
        samples = np.asarray(sample(config, state, {"video": x[:1, None]}, s_rng, num * num))
        samples = samples.reshape(num, num, *x.shape[1:])
    recon = ali_game.autoencode(nets, state, x, r_rng, cond)
    inter = ali_game.interpolate_halves(nets, state, x, steps, i_rng, cond)
    figures = {
        "samples": viz.image_grid(list(samples)),
        "reconstructions": viz.image_grid([x, recon]),
        "interpolations": viz.image_grid(ali_game.with_ends(*inter)),
    }
    return viz.write_pngs(outdir, figures)


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
    config.train.batch_size = 100
    # Adam 1e-4, β1 0.5 for each side; the paper's table writes β2 = 10⁻³, i.e. 1 - β2.
    for name in ("gen", "disc"):
        config.optim[name] = config_lib.optimizer("adam", 1e-4, b1=0.5, b2=0.999)
    config.eval.evaluators = ("reconstruction", "figures")
    return config
