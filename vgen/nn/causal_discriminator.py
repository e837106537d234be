"""FF-GAN's causal video discriminator (thesis 6.3.3): weight norm, a logit per time step."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.convlstm import ConvLSTM

DISCRIMINATORS = ("convlstm", "conv3d_convlstm")


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
