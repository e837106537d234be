"""ALI's game on any kind of x (thesis ch. 4, Eq. 4.1): the pieces ALI (frames), RALI (clips)
and the 2-D experiment share.

An encoder G_z(x), a decoder G_x(z) and a discriminator D(x, z) of joint pairs. The encoder
returns either (μ, log σ), a Gaussian q(z | x) sampled by reparameterisation (Eq. 4.2), or the
code z itself, a deterministic function of x and noise it draws from the "noise" rng stream
(Eq. 4.3; `vgen.nn.mlp.NoiseInputMLP`).
D tells encoder pairs (x, ẑ ~ q(z | x)) (label 1) from decoder pairs (G_x(z), z ~ p(z))
(label 0); `vgen.adversarial.adversarial_step` updates both sides from one forward pass.

The networks are called as encoder(x, train=, **cond), decoder(z, train=, **cond) and
disc(x, z, train=, **cond), where `cond` holds what a method feeds every network besides x and
z (conditional ALI: {"y": one-hot labels [B, K] or None}; RALI: {}). A state is a TrainState with
params {"gen": {"encoder", "decoder"}, "disc"} and batch_stats {"gen": {"encoder", "decoder"}}.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vgen import losses, optim
from vgen.metrics import psnr
from vgen.ops.gaussian import sample_gaussian
from vgen.train_state import TrainState

Cond = dict[str, Any]


class Networks(NamedTuple):
    """The three networks of the game (flax modules, see the module docstring)."""

    encoder: nn.Module
    decoder: nn.Module
    disc: nn.Module


def _doubled(cond: Cond) -> Cond:
    """cond for D on [encoder pairs, decoder pairs]: every array repeated along the batch."""
    return jax.tree.map(lambda a: jnp.concatenate([a, a]), cond)


def init(
    config: ml_collections.ConfigDict,
    nets: Networks,
    rng: jax.Array,
    x: jax.Array,
    z: jax.Array,
    cond: Cond,
) -> TrainState:
    """The state for inputs like x and latents like z, optimisers config.optim.gen / .disc."""
    e_rng, d_rng, disc_rng = jax.random.split(rng, 3)
    e_vars = nets.encoder.init(e_rng, x, train=False, **cond)
    d_vars = nets.decoder.init(d_rng, z, train=False, **cond)
    disc_vars = nets.disc.init(disc_rng, x, z, train=False, **cond)
    return TrainState.create(
        params={
            "gen": {"encoder": e_vars["params"], "decoder": d_vars["params"]},
            "disc": disc_vars["params"],
        },
        tx=optim.make_optimizers(config, ("gen", "disc")),
        batch_stats={"gen": {"encoder": e_vars["batch_stats"], "decoder": d_vars["batch_stats"]}},
    )


def variables(state: TrainState, name: str) -> dict:
    """The variables of generator network `name` ("encoder" or "decoder")."""
    return {"params": state.params["gen"][name], "batch_stats": state.batch_stats["gen"][name]}


def code(encoder_out: jax.Array | tuple[jax.Array, jax.Array], rng: jax.Array | None) -> jax.Array:
    """ẑ from the encoder's output: a draw of N(μ, σ²) for (μ, log σ) (μ when rng is None), or
    the output itself for an encoder that draws its own noise (module docstring)."""
    if not isinstance(encoder_out, tuple):
        return encoder_out
    mu, log_sigma = encoder_out
    return mu if rng is None else sample_gaussian(mu, 2.0 * log_sigma, rng)


def noise_rngs(rng: jax.Array | None) -> dict:
    """The rngs of an encoder call: the "noise" stream of an encoder that draws its own."""
    return {} if rng is None else {"noise": rng}


def encode(
    nets: Networks, state: TrainState, x: jax.Array, rng: jax.Array | None, cond: Cond
) -> jax.Array:
    """ẑ ~ q(z | x) (the mean μ(x), or the code of zero noise, when rng is None), inference
    mode."""
    out = nets.encoder.apply(
        variables(state, "encoder"), x, train=False, rngs=noise_rngs(rng), **cond
    )
    return code(out, rng)


def decode(nets: Networks, state: TrainState, z: jax.Array, cond: Cond) -> jax.Array:
    """x̃ = G_x(z), inference mode."""
    return nets.decoder.apply(variables(state, "decoder"), z, train=False, **cond)


def autoencode(
    nets: Networks, state: TrainState, x: jax.Array, rng: jax.Array | None, cond: Cond
) -> jax.Array:
    """x̂ = G_x(ẑ), ẑ ~ q(z | x) (μ(x) when rng is None): the shape of x."""
    return decode(nets, state, encode(nets, state, x, rng, cond), cond)


def interpolate(
    nets: Networks,
    state: TrainState,
    x_a: jax.Array,
    x_b: jax.Array,
    steps: int,
    rng: jax.Array | None,
    cond_a: Cond,
    cond_b: Cond,
) -> jax.Array:
    """Decodings of z_a + s (z_b - z_a), s = 0 .. 1 in `steps` steps, where z_a, z_b are the
    codes of x_a, x_b [B, ...] (sampled with `rng`, else the means; thesis 4.4.2, Fig. 4.6):
    [B, steps, ...]. The conditions are interpolated alike (conditional ALI: the labels, i.e.
    their linear embeddings)."""
    rngs = (None, None) if rng is None else tuple(jax.random.split(rng))
    z_a, z_b = encode(nets, state, x_a, rngs[0], cond_a), encode(nets, state, x_b, rngs[1], cond_b)
    s = jnp.linspace(0.0, 1.0, steps)

    def mix(a, b):
        s_ = s.reshape(1, steps, *([1] * (a.ndim - 1)))
        return (a[:, None] + s_ * (b - a)[:, None]).reshape(-1, *a.shape[1:])

    out = decode(nets, state, mix(z_a, z_b), jax.tree.map(mix, cond_a, cond_b))
    return out.reshape(x_a.shape[0], steps, *out.shape[1:])


def interpolate_halves(
    nets: Networks, state: TrainState, x: jax.Array, steps: int, rng: jax.Array, cond: Cond
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolations from the first half of x [N, ...] to the second: x_a [N/2, ...],
    the decodings [N/2, steps, ...] and x_b [N/2, ...], as NumPy."""
    half = x.shape[0] // 2
    part = lambda sl: jax.tree.map(lambda a: a[sl], cond)
    a, b = slice(0, half), slice(half, 2 * half)
    inter = interpolate(nets, state, x[a], x[b], steps, rng, part(a), part(b))
    return np.asarray(x[a]), np.asarray(inter), np.asarray(x[b])


def with_ends(x_a: np.ndarray, inter: np.ndarray, x_b: np.ndarray) -> list[np.ndarray]:
    """One row per pair: x_a, its interpolations, x_b, each [steps + 2, ...]."""
    return [np.concatenate([x_a[i : i + 1], inter[i], x_b[i : i + 1]]) for i in range(len(x_a))]


def joint_logits_fn(
    nets: Networks,
    stats: dict,
    x: jax.Array,
    z: jax.Array,
    eps_rng: jax.Array,
    dropout_rng: jax.Array | None,
    cond: Cond,
) -> Callable:
    """The forward pass of a training step, for `vgen.adversarial.adversarial_step`.

    Inputs x [B, ...], prior samples z [B, ...], the generator's batch stats {"encoder",
    "decoder"}. Returns logits_fn(gen_params, disc_params) -> ((D(x, ẑ) [B], D(G_x(z), z) [B]),
    (new batch stats, {"encoder_sigma": mean σ of a Gaussian encoder; none for another})),
    networks in training mode (batch statistics; ẑ's noise from `eps_rng`, D's dropout from
    `dropout_rng`, None for a D without dropout)."""
    rngs = {} if dropout_rng is None else {"dropout": dropout_rng}
    b = x.shape[0]

    def logits_fn(gen, disc_params):
        encoder_out, e_vars = nets.encoder.apply(
            {"params": gen["encoder"], "batch_stats": stats["encoder"]},
            x,
            train=True,
            mutable=["batch_stats"],
            rngs=noise_rngs(eps_rng),
            **cond,
        )
        z_hat = code(encoder_out, eps_rng)
        x_tilde, d_vars = nets.decoder.apply(
            {"params": gen["decoder"], "batch_stats": stats["decoder"]},
            z,
            train=True,
            mutable=["batch_stats"],
            **cond,
        )
        # One discriminator call on both kinds of pairs (as the ALI code does).
        logits = nets.disc.apply(
            {"params": disc_params},
            jnp.concatenate([x, x_tilde]),
            jnp.concatenate([z_hat, z]),
            train=True,
            rngs=rngs,
            **_doubled(cond),
        )
        new_stats = {"encoder": e_vars["batch_stats"], "decoder": d_vars["batch_stats"]}
        metrics = {}
        if isinstance(encoder_out, tuple):
            metrics["encoder_sigma"] = jnp.mean(jnp.exp(encoder_out[1]))
        return (logits[:b], logits[b:]), (new_stats, metrics)

    return logits_fn


def eval_metrics(
    nets: Networks, state: TrainState, x: jax.Array, rng: jax.Array, cond: Cond
) -> dict[str, jax.Array]:
    """Validation metrics on x (inference mode, no dropout): D's losses and accuracies on
    encoder and decoder pairs, the reconstruction error of G_x(G_z(x)) and its PSNR."""
    e_rng, z_rng = jax.random.split(rng)
    z_hat = encode(nets, state, x, e_rng, cond)
    z = jax.random.normal(z_rng, z_hat.shape)  # z ~ p(z)
    x_hat, x_tilde = decode(nets, state, z_hat, cond), decode(nets, state, z, cond)
    d = lambda xx, zz: nets.disc.apply(
        {"params": state.params["disc"]}, xx, zz, train=False, **cond
    )
    data_logits, sample_logits = d(x, z_hat), d(x_tilde, z)
    return {
        "d_loss_val": jnp.mean(losses.gan_discriminator_loss(data_logits, sample_logits)),
        "g_loss_val": jnp.mean(losses.ali_generator_loss(data_logits, sample_logits)),
        "d_acc_val_data": jnp.mean(losses.discriminator_accuracy(data_logits, True)),
        "d_acc_val_samples": jnp.mean(losses.discriminator_accuracy(sample_logits, False)),
        "recon_mse_val": jnp.mean(losses.squared_error(x_hat, x)),
        "psnr_val_recon": jnp.mean(psnr(x_hat, x)),
    }
