"""The networks of the feature-flow GAN (`vgen.methods.ffgan`, thesis ch. 6.3).

  FFGenerator      Eq. 6.2, one step (FFGenCell, scanned over time):
                   x̃_t = D2(F[E1(x_{t-1}), D1(z_t, E2(E1(x_{t-1})))])
    E1: strided CNN + ConvLSTM -> fixels at the flow resolution (resolution / 2^num_down)
    E2: one more strided conv on the fixels, to condition the flow field
    D1: z_t and E2 features -> upsample -> ConvLSTM -> κ² flow logits per fixel -> softmax
    F : the going-out feature flow operator (vgen.ops.feature_flow)
    D2: upsampling CNN to pixels, plus a past-frame mask that can copy pixels of x_{t-1}
        (options: the mask head also sees the frames it copies at full resolution; a second
        source, the first context frame x_0, as the temporal skip of Ebert et al. 2017)
  FFDiscriminator  causal in time: a logit per time step from the frames up to it; option:
                   the inverse feature flow of successive frames as extra features (6.3.4)
Batch norm in the generator, weight norm in the discriminator (6.3.3).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.conv import SkipConv
from vgen.nn.convlstm import ConvLSTM, ConvLSTMCell
from vgen.nn.relation_flow import RelationFlow
from vgen.nn.scan import over_time
from vgen.ops.feature_flow import feature_flow, flow_correlation

DISCRIMINATORS = ("convlstm", "conv3d_convlstm")
# What the discriminator adds to its per-frame features (6.3.4): "" nothing, or the inverse
# feature flow between successive frames by "correlation" (Eq. 6.5) or a learned "relation".
INVERSE_FLOWS = ("", "correlation", "relation")

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
        # nn.Conv(3×3, SAME) of upsample2x(x), computed on x (`conv3x3_upsampled`)
        x = SkipConv(self.features, upsample=True, name="Conv_0")(x, None)
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
    mask_sees_frames: bool = False
    copy_first_frame: bool = False

    @nn.compact
    def __call__(self, carry, inputs):
        """carry: (E1 state, D1 state, x̃_{t-1}, x_0 [B, H, W, C]); inputs: real x_{t-1}
        [B, H, W, C], use_real [] bool, z_t [B, z_dim]."""
        e1_state, d1_state, generated_prev, first = carry
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
        sources = [x_prev, first] if self.copy_first_frame else [x_prev]
        mask_in = y
        if self.mask_sees_frames:  # the copied frames' own edges, not only upsampled features
            mask_in = jnp.concatenate([y] + [f * 2.0 - 1.0 for f in sources], axis=-1)
        # One logit per copied source, against the generated pixels' fixed logit 0: with one
        # source this is the sigmoid mask of 6.3. x_0's starts at -2, i.e. mostly unused.
        biases = jnp.array([self.mask_bias, -2.0][: len(sources)])
        logits = nn.Conv(
            len(sources),
            (3, 3),
            padding="SAME",
            bias_init=lambda *_: biases,
            name="past_frame_mask",
        )(mask_in)
        weights = jax.nn.softmax(jnp.concatenate([logits, jnp.zeros_like(logits[..., :1])], -1))
        x_pred = weights[..., -1:] * jax.nn.sigmoid(pixels)
        for k, source in enumerate(sources):
            x_pred = x_pred + weights[..., k : k + 1] * source
        carry = (e1_state, d1_state, x_pred, first)
        return carry, (x_pred, weights[..., : len(sources)], flow)


class FFGenerator(nn.Module):
    """Runs FFGenCell over time with `nn.scan`; teacher forcing is the per-step `use_real` mask."""

    channels: int
    fixel_channels: int
    num_down: int
    kappa: int
    mask_bias: float = 0.0
    mask_sees_frames: bool = False
    copy_first_frame: bool = False

    @nn.compact
    def __call__(self, video: jax.Array, use_real: jax.Array, z: jax.Array, train: bool):
        """video [B, T, H, W, C] (frames where use_real is False are ignored), use_real [T-1] bool,
        z [B, T-1, z_dim] -> predictions of frames 1..T-1 [B, T-1, H, W, C] and intermediates:
        "mask" [B, T-1, H, W, S], the weight of each copied source (x_{t-1}, then x_0)."""
        b, _, h, w, _ = video.shape
        grid = (b, h // 2**self.num_down, w // 2**self.num_down)
        carry = (
            ConvLSTMCell.zero_carry(grid, self.fixel_channels),
            ConvLSTMCell.zero_carry(grid, self.fixel_channels),
            jnp.zeros_like(video[:, 0]),
            video[:, 0],
        )
        args = (
            self.channels,
            self.fixel_channels,
            self.num_down,
            self.kappa,
            train,
            self.mask_bias,
            self.mask_sees_frames,
            self.copy_first_frame,
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
            cell = over_time(
                FFGenCell,
                in_axes=0,
                out_axes=0,
                variable_broadcast="params" if train else ["params", "batch_stats"],
                variable_carry="batch_stats" if train else (),
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
    inverse_flow: str = ""
    kappa: int = 3

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
        if self.inverse_flow:
            x = jnp.concatenate([x, self._inverse_flow(x)], axis=-1)
        top = self.channels * 2 ** (self.num_down - 1)
        x = ConvLSTM(top, weight_norm=True)(x)
        x = x.reshape(b * t, *x.shape[2:])
        x = nn.leaky_relu(_wn_conv(2 * top, (4, 4), (2, 2), pad)(x), 0.2)
        x = ConvLSTM(2 * top, weight_norm=True)(x.reshape(b, t, *x.shape[1:]))
        x = jnp.mean(x, axis=(2, 3))
        return nn.WeightNorm(nn.Dense(1))(x)[..., 0]

    def _inverse_flow(self, x: jax.Array) -> jax.Array:
        """x [B, T, h, w, F] -> the inverse flow F⁻¹(E(x_{t-1}), E(x_t)) per step (Eq. 6.4)
        [B, T, h, w, κ²], zero at t = 0: by correlation (Eq. 6.5, `flow_correlation`) or
        learned (`RelationFlow`)."""
        prev, curr = x[:, :-1], x[:, 1:]
        if self.inverse_flow == "correlation":
            fold = lambda a: a.reshape(-1, *a.shape[2:])
            flow = flow_correlation(fold(prev), fold(curr), self.kappa)
            flow = flow.reshape(*prev.shape[:2], *flow.shape[1:])
        else:
            flow = RelationFlow(self.kappa, name="relation_flow")(prev, curr)
        return jnp.concatenate([jnp.zeros_like(flow[:, :1]), flow], axis=1)
