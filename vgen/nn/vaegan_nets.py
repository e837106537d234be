"""The networks of VAE-GAN (Larsen et al. 2016; the reference code's `architectures.img64x64`),
for frames in [0, 1] at any power-of-two resolution. c = channels; 5×5 convolutions, "↓" stride
2, batch norm (BN) everywhere but in the discriminator's first layer:

  Encoder        conv 2c↓, 4c↓, 8c↓ + BN + ReLU; Dense hidden + BN + ReLU; Dense μ, Dense log σ²
  Decoder        Dense to an (R / 2^num_down)² × 8c map + BN + ReLU; transposed conv 8c↑, 4c↑,
                 c↑ + BN + ReLU; conv to C channels, sigmoid (the paper's tanh is for [−1, 1])
  Discriminator  conv c + ReLU; conv 4c↓, 8c↓, 8c↓ + BN + ReLU; Dense hidden + BN + ReLU;
                 Dense 1, and every conv's output before its BN and ReLU (the features Dis_l)
with num_down stride-2 layers per network (3 above). The MVAE's Method-II uses the
discriminator.
"""

import flax.linen as nn
import jax

BN_MOMENTUM = 0.9  # running average: 0.9 * old + 0.1 * batch (reference code)


def _bn(train: bool) -> nn.BatchNorm:
    return nn.BatchNorm(use_running_average=not train, momentum=BN_MOMENTUM)


def _encoder_widths(channels: int, num_down: int) -> list[int]:
    """Feature maps of the encoder's stride-2 convs: 2c, 4c, 8c, then 8c."""
    return [channels * min(2 ** (i + 1), 8) for i in range(num_down)]


class Encoder(nn.Module):
    """Frames [B, H, W, C] in [0, 1] -> μ, log σ² [B, z_dim]."""

    channels: int
    num_down: int
    hidden: int
    z_dim: int

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> tuple[jax.Array, jax.Array]:
        h = x * 2.0 - 1.0
        for width in _encoder_widths(self.channels, self.num_down):
            h = nn.Conv(width, (5, 5), (2, 2), use_bias=False)(h)
            h = nn.relu(_bn(train)(h))
        h = h.reshape(x.shape[0], -1)
        h = nn.relu(_bn(train)(nn.Dense(self.hidden, use_bias=False)(h)))
        return nn.Dense(self.z_dim, name="mu")(h), nn.Dense(self.z_dim, name="logvar")(h)


class Decoder(nn.Module):
    """Latents [B, z_dim] -> frames [B, resolution, resolution, out_channels] in [0, 1]."""

    channels: int
    num_down: int
    resolution: int
    out_channels: int

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        widths = _encoder_widths(self.channels, self.num_down)[::-1]
        widths[-1] = self.channels
        side = self.resolution // 2**self.num_down
        h = nn.Dense(side * side * widths[0], use_bias=False)(z)
        h = nn.relu(_bn(train)(h)).reshape(z.shape[0], side, side, widths[0])
        for width in widths:
            h = nn.ConvTranspose(width, (5, 5), (2, 2), "SAME", use_bias=False)(h)
            h = nn.relu(_bn(train)(h))
        return jax.nn.sigmoid(nn.Conv(self.out_channels, (5, 5))(h))


class Discriminator(nn.Module):
    """Frames x [B, H, W, C] in [0, 1] -> (logits [B], features).

    `features` lists the outputs of the 1 + num_down convolutions, before their batch norm and
    ReLU: [B, H, W, channels], then [B, H / 2^i, W / 2^i, w_i] for i = 1 .. num_down with
    w_i = 4c, 8c, 8c, ...; the defaults are the paper's, whose Dis_l is features[3]. With
    train=True, apply it with mutable=["batch_stats"] (batch norm on the batch's statistics).
    """

    channels: int = 32
    num_down: int = 3
    hidden: int = 512

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> tuple[jax.Array, list[jax.Array]]:
        features = [nn.Conv(self.channels, (5, 5))(x * 2.0 - 1.0)]
        h = nn.relu(features[-1])
        for i in range(self.num_down):
            width = self.channels * min(2 ** (i + 2), 8)
            features.append(nn.Conv(width, (5, 5), (2, 2), use_bias=False)(h))
            h = nn.relu(_bn(train)(features[-1]))
        h = h.reshape(x.shape[0], -1)
        h = nn.relu(_bn(train)(nn.Dense(self.hidden, use_bias=False)(h)))
        return nn.Dense(1)(h)[:, 0], features
