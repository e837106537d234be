"""Video classifiers of the thesis's Dynamics comparison (5.2.2, Table 5.2; 6.3.4).

All follow 5.2.2's shared pattern: half-padded 3×3 convolutions of stride 2 halve the frame
down to 1×1, and a fully connected layer classifies. Widths: `channels`, doubling per layer up
to 8 × channels. Leaky ReLU (0.2) after every convolution; no normalisation (the thesis gives
none).

  conv3d           3-D convolutions whose time kernel is large early and shrinks with depth
                   (TIME_KERNELS, unpadded in time, so time is compressed early; computed as
                   2-D convolutions of stacked time taps, `_time_taps`); the fully
                   connected layer reads the concatenation of all remaining time steps
  convlstm         per-frame 2-D convolutions, and a ConvLSTM after each of the last two (far
                   from pixel space); the last one's final step is classified
  conv3d_convlstm  conv3d's layers, then convlstm's two ConvLSTM layers
  relation         the inverse feature flow learned as a relation network (6.3.4, after Santoro
                   et al. 2017; `vgen.nn.relation_flow`) from per-frame features on a grid 4×
                   coarser than the frame; the flows of all steps, stacked on the channel axis
                   as two-stream stacks optical flow, go through the strided convolutions
  two_stream       Simonyan & Zisserman (2014) as 5.2.2 adapts it: the temporal stream, a
                   VGG-like network (two half-padded 3×3 stride-1 convolutions, then 2×2 max
                   pooling, down to 1×1, then a fully connected layer) on the clip's optical
                   flows stacked on the channel axis; with `spatial_stream`, the same network
                   on single frames too, and the streams' class probabilities averaged (the
                   spatial one's over all frames, as S&Z average frames at test time)
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.nn.convlstm import ConvLSTM
from vgen.nn.relation_flow import RelationFlow
from vgen.nn.resample import max_pool2x2

ARCHS = ("conv3d", "convlstm", "conv3d_convlstm", "relation", "two_stream")
TIME_KERNELS = (4, 3, 2)  # conv3d's time kernel per layer (then 1), capped by the steps left
RELATION_DOWN = 2  # the relation network's feature grid: frame / 2**RELATION_DOWN
FLOW_SCALE = 2.0  # two-stream: flows (pixels per frame) are divided by this


def _width(channels: int, layer: int) -> int:
    return channels * 2 ** min(layer, 3)


def _down2d(x: jax.Array, features: int) -> jax.Array:
    """Half-padded 3×3 stride-2 conv + leaky ReLU on [..., H, W, C] (leading axes folded)."""
    lead = x.shape[:-3]
    y = nn.Conv(features, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))(
        x.reshape(-1, *x.shape[-3:])
    )
    return nn.leaky_relu(y.reshape(*lead, *y.shape[1:]), 0.2)


def _time_taps(x: jax.Array, kt: int) -> jax.Array:
    """[B, T, H, W, C] -> [B, T - kt + 1, H, W, kt·C]: each step with the kt - 1 after it, on
    the channel axis. A 2-D convolution of this is a 3-D convolution with time kernel kt
    (unpadded in time), the same function and parameter count; XLA's CPU 3-D convolutions
    are several times slower than 2-D ones."""
    steps = x.shape[1] - kt + 1
    return jnp.concatenate([x[:, tau : tau + steps] for tau in range(kt)], axis=-1)


def _vgg(x: jax.Array, channels: int, num_classes: int) -> jax.Array:
    """[N, H, W, C] -> logits [N, num_classes]: per block two half-padded 3×3 stride-1 convs +
    leaky ReLU, then 2×2 max pooling, down to 1×1; a fully connected layer at the end."""
    for layer in range(int(math.log2(x.shape[1]))):
        for _ in range(2):
            x = nn.leaky_relu(nn.Conv(_width(channels, layer), (3, 3), padding="SAME")(x), 0.2)
        x = max_pool2x2(x)
    return nn.Dense(num_classes)(x.reshape(x.shape[0], -1))


class VideoClassifier(nn.Module):
    """video [B, T, H, W, C] in [0, 1] (and, for two_stream, its optical flow
    [B, T - 1, H, W, 2] in pixels) -> class logits [B, num_classes] (H = W, a power of 2)."""

    arch: str
    num_classes: int
    channels: int = 16
    kappa: int = 3
    spatial_stream: bool = False

    @nn.compact
    def __call__(self, video: jax.Array, flow: jax.Array | None = None) -> jax.Array:
        if self.arch == "two_stream":
            return self._two_stream(video, flow)
        x = video * 2.0 - 1.0
        num_down = int(math.log2(x.shape[2]))
        if self.arch == "relation":
            return self._relation(x, num_down)
        recurrent = 2 if self.arch in ("convlstm", "conv3d_convlstm") else 0
        for layer in range(num_down):
            features = _width(self.channels, layer)
            if layer >= num_down - recurrent:
                x = ConvLSTM(features)(_down2d(x, features))
            elif self.arch in ("conv3d", "conv3d_convlstm"):
                kt = TIME_KERNELS[layer] if layer < len(TIME_KERNELS) else 1
                x = _down2d(_time_taps(x, min(kt, x.shape[1])), features)
            else:
                x = _down2d(x, features)
        # [B, T', 1, 1, F]: the recurrent models' last step, else every remaining step.
        x = x[:, -1] if recurrent else x
        return nn.Dense(self.num_classes)(x.reshape(x.shape[0], -1))

    def _relation(self, x: jax.Array, num_down: int) -> jax.Array:
        for layer in range(RELATION_DOWN):
            x = _down2d(x, _width(self.channels, layer))
        b, _, h, w, _ = x.shape
        flow = RelationFlow(self.kappa, name="relation")(x[:, :-1], x[:, 1:])
        flow = flow.transpose(0, 2, 3, 1, 4).reshape(b, h, w, -1)  # steps stacked on channels
        for layer in range(RELATION_DOWN, num_down):
            flow = _down2d(flow, _width(self.channels, layer))
        return nn.Dense(self.num_classes)(flow.reshape(b, -1))

    def _two_stream(self, video: jax.Array, flow: jax.Array | None) -> jax.Array:
        if flow is None:
            raise ValueError("the two_stream classifier needs the clip's optical flow")
        b, steps, h, w, _ = flow.shape
        stacked = (flow / FLOW_SCALE).transpose(0, 2, 3, 1, 4).reshape(b, h, w, steps * 2)
        temporal = _vgg(stacked, self.channels, self.num_classes)
        if not self.spatial_stream:
            return temporal
        t = video.shape[1]
        frames = (video * 2.0 - 1.0).reshape(b * t, *video.shape[2:])
        per_frame = jax.nn.softmax(_vgg(frames, self.channels, self.num_classes))  # own weights
        probs = 0.5 * (jax.nn.softmax(temporal) + per_frame.reshape(b, t, -1).mean(1))
        return jnp.log(probs)
