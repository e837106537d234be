"""RALI's recurrent networks on whole clips (thesis 6.2, Fig. 6.3, 6.4): ALI's frame blocks
(`vgen.nn.ali_nets`) per frame around ConvLSTMs over time.

  Encoder        per frame strided convs + batch norm + leaky ReLU down to an S×S grid, ConvLSTMs,
                 a Dense to (μ, log σ) per step ("sequence") or from the last state ("single")
  Decoder        per step an S×S input map (from z_t, or from [z, one-hot(t)] through an MLP
                 shared in time), batch norm + leaky ReLU, ConvLSTMs, per frame transposed
                 convs up to the frame and a sigmoid
  Discriminator  per frame strided maxout convs, per step two maxout Dense layers on z_t tiled
                 over the grid, ConvLSTMs, from the last state a maxout Dense and one logit
"""

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.errors import ConfigError
from vgen.nn.ali_nets import (
    batch_norm_act,
    conv_down,
    conv_up,
    down_widths,
    dropout,
    maxout_convs,
    maxout_dense,
)
from vgen.nn.convlstm import ConvLSTM


def per_frame(fn: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
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
        widths = down_widths(self.channels, self.num_down)
        norm_act = batch_norm_act(train, self.leak)
        h = per_frame(lambda x: conv_down(x, widths, init, norm_act), video)
        for _ in range(self.lstm_layers):
            h = ConvLSTM(self.lstm_features)(h)  # [B, T, S, S, F]
        if self.latent == "single":
            h = h[:, -1]  # the last state has read the whole clip
        h = h.reshape(*h.shape[:-3], -1)
        mu, log_sigma = jnp.split(nn.Dense(2 * self.z_dim, kernel_init=init)(h), 2, axis=-1)
        return mu, log_sigma


class Decoder(nn.Module):
    """G_x: latents z [B, T, z_dim] ("sequence") or [B, z_dim] ("single", then `num_frames`
    steps, default and at most `max_frames`) -> clips [B, T, H, W, out_channels] in [0, 1].

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
    num_frames: int | None = None

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        s, f = self.lstm_size, self.lstm_features
        if self.latent == "single":
            t = self.max_frames if self.num_frames is None else self.num_frames
            if t > self.max_frames:
                raise ConfigError(
                    f"RALI with one z generates at most model.num_frames={self.max_frames} "
                    f"frames (its MLP reads the time step), asked for {t}"
                )
            b = z.shape[0]
            steps = jnp.broadcast_to(jnp.eye(self.max_frames)[:t], (b, t, self.max_frames))
            u = jnp.concatenate([jnp.broadcast_to(z[:, None], (b, t, z.shape[-1])), steps], -1)
            # The MLP from z to each step, the same parameters at every step.
            u = nn.Dense(self.mlp_hidden, kernel_init=init, name="mlp_0")(u)
            u = nn.Dense(s * s * f, use_bias=False, kernel_init=init, name="mlp_1")(
                nn.leaky_relu(u, self.leak)
            )
        else:
            b, t = z.shape[:2]
            u = nn.Dense(s * s * f, use_bias=False, kernel_init=init, name="project")(z)
        u = u.reshape(b, t, s, s, f)
        self.sow("intermediates", "lstm_inputs", u)
        norm_act = batch_norm_act(train, self.leak)
        h = per_frame(norm_act, u)
        for _ in range(self.lstm_layers):
            h = ConvLSTM(f)(h)
        widths = down_widths(self.channels, self.num_down)
        return per_frame(lambda v: conv_up(v, widths, init, norm_act, self.out_channels), h)


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
        drop = dropout(train)
        drop_in = lambda h: drop(self.dropout_input, h)
        drop_hidden = lambda h: drop(self.dropout_hidden, h)
        k, top = self.pieces, self.lstm_features
        b, t = video.shape[:2]
        widths = down_widths(self.channels, self.num_down)

        hx = per_frame(lambda x: maxout_convs(x, widths, k, init, drop_in, drop_hidden), video)
        if z.ndim == 2:  # one z per clip: the same z beside every frame
            z = jnp.broadcast_to(z[:, None], (b, t, z.shape[-1]))
        hz = maxout_dense(z, top, k, init, drop_in)
        hz = maxout_dense(hz, top, k, init, drop_hidden)
        hz = jnp.broadcast_to(hz[:, :, None, None], (*hx.shape[:4], top))
        h = drop_hidden(jnp.concatenate([hx, hz], axis=-1))
        for _ in range(self.lstm_layers):
            h = ConvLSTM(top)(h)
        h = h[:, -1].reshape(b, -1)  # the last state has read every (x_t, z_t)
        h = maxout_dense(h, 2 * top, k, init, drop_hidden)
        return nn.Dense(1, kernel_init=init)(drop_hidden(h))[..., 0]
