"""The networks of the multimodal VAE for video (`vgen.methods.mvae`), two modalities per step
t = 1..T-1: a = x_t (the current frame) and b = x_{t-1} (the previous).

  MVAE            per modality i: a frame encoder E_i (vgen.nn.encoders), an LSTM over time that
                  makes the Gaussian expert (mu_i, logvar_i) of step t, and a decoder G_i without
                  skip connections; one parameter tree (encoders_i, lstms_i, decoders_i)
  Discriminators  Method-II: a VAE-GAN discriminator (vgen.nn.vaegan_nets) per modality
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen import losses
from vgen.nn import lstm
from vgen.nn.encoders import Decoder, Encoder, num_blocks
from vgen.nn.scan import scan_over_time
from vgen.nn.vaegan_nets import Discriminator
from vgen.ops.gaussian import reparameterize

MODALITIES = ("current", "previous")  # a = x_t, b = x_{t-1}
CURRENT, PREVIOUS = 0, 1


def modality_frames(video: jax.Array) -> list[jax.Array]:
    """Each modality's frames of video [B, T, H, W, C] at steps t = 1..T-1: [x_1..x_{T-1},
    x_0..x_{T-2}], each [B, T-1, H, W, C]."""
    return [video[:, 1:], video[:, :-1]]


def is_decoder(name: str) -> bool:
    """Whether a top-level MVAE parameter (or batch stats) subtree belongs to a decoder."""
    return name.startswith("decoders")


def merge_sides(encoder_side: dict, decoder_side: dict) -> dict:
    """An MVAE tree of the decoders' subtrees of `decoder_side` and every other (encoders,
    LSTMs) of `encoder_side`."""
    return {k: (decoder_side if is_decoder(k) else encoder_side)[k] for k in encoder_side}


class MVAE(nn.Module):
    """Encoders, expert LSTMs and decoders of both modalities (one parameter tree)."""

    arch: str
    channels: int
    g_dim: int
    z_dim: int
    rnn_size: int
    rnn_layers: int
    resolution: int
    out_channels: int

    def setup(self):
        self.encoders = [Encoder(self.arch, self.g_dim, self.channels) for _ in MODALITIES]
        self.lstms = [
            lstm.GaussianLSTM(self.z_dim, self.rnn_size, self.rnn_layers) for _ in MODALITIES
        ]
        self.decoders = [Decoder(self.arch, self.out_channels, self.channels) for _ in MODALITIES]

    def expert_step(self, i: int, carry, x: jax.Array, train: bool):
        """Expert i reads frames x [B, H, W, C]: (carry, (mu, logvar) [B, z_dim])."""
        h, _ = self.encoders[i](x, train)
        zeros = jnp.zeros((x.shape[0], self.z_dim), x.dtype)  # the LSTM's own z is not used
        carry, (_, mu, logvar) = self.lstms[i](carry, h, zeros)
        return carry, (mu, logvar)

    def decode(self, i: int, z: jax.Array, train: bool) -> jax.Array:
        """Decoder i: z [..., z_dim] -> frames [..., H, W, C] in (0, 1)."""
        flat = z.reshape(-1, self.z_dim)
        x = self.decoders[i](flat, [None] * num_blocks(self.resolution), train)
        return x.reshape(*z.shape[:-1], *x.shape[1:])

    def experts(self, video: jax.Array, train: bool) -> tuple[jax.Array, jax.Array]:
        """Video [B, T, H, W, C] -> mu, logvar [2, B, T-1, z_dim]: at step t expert a has read
        x_1..x_t and expert b x_0..x_{t-1}. Frames are encoded all at once, the LSTMs scanned."""
        b, t = video.shape[:2]
        hs = []
        for i, frames in ((CURRENT, video[:, 1:]), (PREVIOUS, video[:, :-1])):
            h, _ = self.encoders[i](frames.reshape(b * (t - 1), *video.shape[2:]), train)
            hs.append(h.reshape(b, t - 1, -1))

        def step(model, carries, h):
            outs = [model.lstms[i](carries[i], h[i], jnp.zeros((b, self.z_dim))) for i in (0, 1)]
            return tuple(c for c, _ in outs), tuple(o[1:] for _, o in outs)

        carry = lstm.zero_carry(b, self.rnn_size, self.rnn_layers)
        _, outs = scan_over_time(step, (1, 1))(self, (carry, carry), tuple(hs))
        return jnp.stack([o[0] for o in outs]), jnp.stack([o[1] for o in outs])

    def posteriors(
        self, video: jax.Array, subsets: jax.Array, eps: jax.Array, train: bool
    ) -> tuple[jax.Array, jax.Array]:
        """Each subset's PoE posterior q(z_t | X) at every step, sampled: video [B, T, H, W, C],
        subsets [S, 2], eps [S, B, T-1, z_dim] -> (z [S, B, T-1, z_dim], KL(q || N(0, I))
        [S, B, T-1])."""
        mu, logvar = self.experts(video, train)
        joint_mu, joint_logvar = losses.subset_posteriors(mu, logvar, subsets)
        kl = jnp.sum(losses.gaussian_kl(joint_mu, joint_logvar, 0.0, 0.0), axis=-1)
        return reparameterize(joint_mu, joint_logvar, eps), kl

    def decode_rows(self, z: jax.Array, train: bool) -> list[jax.Array]:
        """Each modality's decodings of the rows of z [S, B, T-1, z_dim] that may hold it
        (`losses.modality_rows`): [recon_a [S_a, B, T-1, H, W, C], recon_b [S_b, ...]]."""
        rows = losses.modality_rows(len(MODALITIES), z.shape[0])
        return [self.decode(i, z[jnp.array(rows[i])], train) for i in (CURRENT, PREVIOUS)]

    def reconstructions(
        self, video: jax.Array, subsets: jax.Array, eps: jax.Array, train: bool
    ) -> tuple[list[jax.Array], jax.Array]:
        """`decode_rows` of `posteriors`: ([recon_a, recon_b], KL [S, B, T-1])."""
        z, kl = self.posteriors(video, subsets, eps, train)
        return self.decode_rows(z, train), kl

    def __call__(self, video: jax.Array, train: bool) -> tuple[jax.Array, jax.Array]:
        """Initialisation: every network once; returns the experts and both decodings of mu."""
        mu, logvar = self.experts(video, train)
        return self.decode(CURRENT, mu[0], train), self.decode(PREVIOUS, mu[1], train)

    def predict(self, video: jax.Array, context: int, eps: jax.Array) -> jax.Array:
        """Frames 1..T-1 [B, T-1, H, W, C], each x̂_t = G_a(z_t), z_t ~ PoE(N(0, I), expert b of
        x_{t-1}) with noise eps [B, T-1, z_dim]; x_{t-1} is the real frame for t <= `context`,
        then the previous prediction (frames of `video` beyond the context are not read)."""
        b, t = video.shape[:2]
        use_real = jnp.arange(1, t) <= context

        def step(model, carry, inputs):
            lstm_carry, previous = carry
            x_real, real, eps_t = inputs
            x = jnp.where(real, x_real, previous)
            lstm_carry, (mu, logvar) = model.expert_step(PREVIOUS, lstm_carry, x, train=False)
            mu, logvar = losses.product_of_experts(mu[None], logvar[None])
            x_hat = model.decode(CURRENT, reparameterize(mu, logvar, eps_t), train=False)
            return (lstm_carry, x_hat), x_hat

        scan = scan_over_time(step, (1, 0, 1), variable_broadcast=["params", "batch_stats"])
        carry = (lstm.zero_carry(b, self.rnn_size, self.rnn_layers), jnp.zeros_like(video[:, 0]))
        _, preds = scan(self, carry, (video[:, :-1], use_real, eps))
        return preds


class Discriminators(nn.Module):
    """Method-II: a VAE-GAN discriminator (`vaegan_nets.Discriminator`) per modality."""

    channels: int
    num_down: int
    hidden: int

    def setup(self):
        self.nets = [Discriminator(self.channels, self.num_down, self.hidden) for _ in MODALITIES]

    def __call__(self, i: int, x: jax.Array, train: bool):
        """Discriminator i on frames x [N, H, W, C]: (logits [N], features)."""
        return self.nets[i](x, train)

    def real_and_fake(self, i: int, real: jax.Array, fake: jax.Array, like_layer: int, train: bool):
        """Discriminator i on real frames [..., H, W, C] (n of them) and fakes [S, ..., H, W, C]
        in one batch: (real logits [n], fake logits [S, n], features[like_layer] of the real
        frames [n, h, w, c] and of the fakes [S, n, h, w, c])."""
        n = math.prod(real.shape[:-3])
        frames = jnp.concatenate(
            [real.reshape(n, *real.shape[-3:]), fake.reshape(-1, *real.shape[-3:])]
        )
        logits, features = self(i, frames, train)
        f = features[like_layer]
        return logits[:n], logits[n:].reshape(-1, n), f[:n], f[n:].reshape(-1, n, *f.shape[1:])

    def both(self, x: jax.Array, train: bool):
        """Both discriminators on x (initialisation)."""
        return [net(x, train) for net in self.nets]
