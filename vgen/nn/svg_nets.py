"""SVG (Denton & Fergus 2018) over a clip, from its networks: frame encoder and decoder
(vgen.nn.encoders), posterior, learned prior and frame predictor LSTMs (vgen.nn.lstm).

The step predicting frame t from x_{t-1} (t = 1 .. T-1): h_{t-1} = E(x_{t-1}); z_t from the
posterior LSTM on E(x_t) or from the prior (the learned LSTM on h_{t-1}, or N(0, I));
g_t = predictor([cond_t, h_{t-1}, z_t]); x̂_t = D(g_t, skips of x_{min(t-1, c-1)}), or with
last_frame_skip (SVG's --last_frame_skip) the skips of the frame the step reads, x_{t-1} (the
model's own prediction when it is fed back).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from vgen.nn import lstm
from vgen.nn.encoders import Decoder, Encoder
from vgen.nn.scan import scan_over_time

# Time axis of each latent_step input: h_{t-1}, h_t, cond_t, eps_q, eps_p ([B, T-1, ...]) and
# use_posterior ([T-1]).
LATENT_AXES = (1, 1, 1, 1, 1, 0)


class SVGParts(nn.Module):
    """The networks of SVG, called piecewise by `SVG`: encoder, decoder, posterior, prior and
    frame predictor (one parameter tree: {encoder, decoder, posterior, prior, predictor})."""

    arch: str
    channels: int
    g_dim: int
    z_dim: int
    rnn_size: int
    predictor_layers: int
    posterior_layers: int
    prior_layers: int
    learned_prior: bool
    out_channels: int
    posterior_logvar_init: float = 0.0  # initial bias of the posterior's logvar head

    def setup(self):
        self.encoder = Encoder(self.arch, self.g_dim, self.channels)
        self.decoder = Decoder(self.arch, self.out_channels, self.channels)
        self.posterior = lstm.GaussianLSTM(
            self.z_dim, self.rnn_size, self.posterior_layers, self.posterior_logvar_init
        )
        if self.learned_prior:
            self.prior = lstm.GaussianLSTM(self.z_dim, self.rnn_size, self.prior_layers)
        self.predictor = lstm.LSTM(self.g_dim, self.rnn_size, self.predictor_layers)

    def encode(self, x: jax.Array, train: bool) -> tuple[jax.Array, list[jax.Array]]:
        """Frames [N, H, W, C] -> h [N, g_dim] and skips."""
        return self.encoder(x, train)

    def decode(
        self,
        g: jax.Array,
        skips: list[jax.Array],
        train: bool,
        skip_index: jax.Array | None = None,
    ) -> jax.Array:
        """g [N, g_dim] and skips [N, ...] (or [M, ...] read at skip_index [N]) -> frames
        [N, H, W, C]."""
        return self.decoder(g, skips, train, skip_index)

    def zero_states(self, batch: int):
        """Zero LSTM states (predictor, posterior, prior) for `batch` clips."""
        prior_layers = self.prior_layers if self.learned_prior else 0
        return (
            lstm.zero_carry(batch, self.rnn_size, self.predictor_layers),
            lstm.zero_carry(batch, self.rnn_size, self.posterior_layers),
            lstm.zero_carry(batch, self.rnn_size, prior_layers),
        )

    def latent_step(self, states, inputs):
        """One step of the LSTMs. inputs: h_{t-1}, h_t [B, g_dim], cond_t [B, D], eps_q, eps_p
        [B, z_dim], use_posterior [] bool -> (states, (g_t [B, g_dim], (mu_q, logvar_q, mu_p,
        logvar_p) [B, z_dim]))."""
        pred_state, post_state, prior_state = states
        h_in, h_target, cond, eps_q, eps_p, use_posterior = inputs
        post_state, (z_q, mu_q, logvar_q) = self.posterior(post_state, h_target, eps_q)
        if self.learned_prior:
            prior_state, (z_p, mu_p, logvar_p) = self.prior(prior_state, h_in, eps_p)
        else:
            z_p, mu_p, logvar_p = eps_p, jnp.zeros_like(eps_p), jnp.zeros_like(eps_p)
        z = jnp.where(use_posterior, z_q, z_p)
        # The lab report's order: condition, frame embedding, latent.
        pred_state, g = self.predictor(pred_state, jnp.concatenate([cond, h_in, z], axis=-1))
        return (pred_state, post_state, prior_state), (g, (mu_q, logvar_q, mu_p, logvar_p))


class SVG(nn.Module):
    """SVG over a clip: predictions of frames 1..T-1 and the posterior/prior of each z_t.

    Teacher-forced (use_real None: every input frame real, as SVG trains) the encoder and the
    decoder run once over all frames and only the LSTMs are scanned over time; otherwise the
    whole step (encode the input, LSTMs, decode) is scanned, so that predictions can be fed back.
    """

    parts: SVGParts  # its networks (bound as the submodule "parts")
    context_frames: int
    last_frame_skip: bool = False  # skips of x_{t-1} at every step, not of the last context

    def __call__(
        self,
        video: jax.Array,
        cond: jax.Array,
        eps_q: jax.Array,
        eps_p: jax.Array,
        train: bool,
        use_real: jax.Array | None = None,
        use_posterior: jax.Array | None = None,
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """video [B, T, H, W, C] (frames never read may be zeros), cond [B, T, D] (D may be 0),
        eps_q, eps_p [B, T-1, z_dim] ~ N(0, I); use_real [T-1, B] bool: the step predicting
        frame t reads the real x_{t-1} (None: always); use_posterior [T-1] bool: z_t from the
        posterior (None: always) -> predictions [B, T-1, H, W, C] and {"mu_q", "logvar_q",
        "mu_p", "logvar_p"}: [B, T-1, z_dim]."""
        b, t = video.shape[:2]
        frames = video.reshape(b * t, *video.shape[2:])
        h, skips = self.parts.encode(frames, train)
        h = h.reshape(b, t, -1)
        # Step t reads the skips of x_{t-1} while it is a context frame, then those of x_{c-1}
        # (or of x_{t-1} throughout, with last_frame_skip).
        source = np.arange(t - 1)
        if not self.last_frame_skip:
            source = np.minimum(source, self.context_frames - 1)
        if use_posterior is None:
            use_posterior = jnp.ones(t - 1, bool)
        latent_inputs = (h[:, :-1], h[:, 1:], cond[:, 1:], eps_q, eps_p, use_posterior)
        states = self.parts.zero_states(b)
        if use_real is None:
            latent = scan_over_time(
                lambda parts, c, x: parts.latent_step(c, x), LATENT_AXES, convolutions=False
            )
            _, (g, dists) = latent(self.parts, states, latent_inputs)
            flat = lambda a: a.reshape(b * (t - 1), *a.shape[2:])
            # Each distinct skip map once: the decoder reads row `index` for each step.
            used = source.max() + 1
            skips = [s.reshape(b, t, *s.shape[1:])[:, :used] for s in skips]
            skips = [s.reshape(b * used, *s.shape[2:]) for s in skips]
            index = (np.arange(b)[:, None] * used + source[None, :]).reshape(-1)
            preds = self.parts.decode(flat(g), skips, train, jnp.asarray(index))
            preds = preds.reshape(b, t - 1, *preds.shape[1:])
        else:

            def step(parts, carry, inputs):
                states, prev_pred = carry
                *latent_in, x_prev, real, skips_t = inputs
                x_in = jnp.where(real[:, None, None, None], x_prev, prev_pred)
                h_in, skips_in = parts.encode(x_in, train)
                states, (g, dists) = parts.latent_step(states, (h_in, *latent_in[1:]))
                x_pred = parts.decode(g, skips_in if self.last_frame_skip else skips_t, train)
                return (states, jax.lax.stop_gradient(x_pred)), (x_pred, dists)

            # Training updates the running statistics step by step; inference only reads them.
            free = scan_over_time(
                step,
                (*LATENT_AXES, 1, 0, 1),  # + x_{t-1}, use_real, skips
                variable_broadcast="params" if train else ["params", "batch_stats"],
                variable_carry="batch_stats" if train else (),
            )
            skips = [s.reshape(b, t, *s.shape[1:])[:, source] for s in skips]
            carry = (states, jnp.zeros_like(video[:, 0]))
            inputs = (*latent_inputs, video[:, :-1], use_real, skips)
            _, (preds, dists) = free(self.parts, carry, inputs)
        mu_q, logvar_q, mu_p, logvar_p = dists
        return preds, {"mu_q": mu_q, "logvar_q": logvar_q, "mu_p": mu_p, "logvar_p": logvar_p}
