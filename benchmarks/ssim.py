"""Benchmark of SSIM (vgen.metrics.ssim) against its baselines, as the evaluation calls it.

    python benchmarks/ssim.py [--quick] [--repeats N]

Times (jitted, warm-up excluded, median of --repeats runs) SSIM per frame of a batch of frame
pairs, for the frame sizes of the datasets (Dynamics 32x32, SM-MNIST / BAIR 64x64, KTH 128x128):
  ssim        vgen's: the separable Gaussian as two matmuls with banded matrices;
  depthwise   the same arithmetic as two depthwise (feature_group_count) convolutions, vgen's
              implementation before this benchmark (kept here as the baseline);
  skimage     skimage.metrics.structural_similarity, the reference implementation (CPU, one
              frame at a time; timed on a subset and scaled to the batch).
A Dynamics evaluation chunk of 16 clips x 100 samples x 6 predicted frames is 9,600 frames.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

try:
    import vgen  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax
import jax.numpy as jnp
import numpy as np
from skimage.metrics import structural_similarity

from vgen import metrics

try:
    from timing import median_seconds
except ImportError:
    from benchmarks.timing import median_seconds

CASES = ((32, 9600), (64, 2400), (128, 600))  # (frame side, frames): ~30 MB of pixels each
SKIMAGE_FRAMES = 50


def depthwise_filter_valid(x: jax.Array) -> jax.Array:
    """The baseline: the separable Gaussian as two depthwise convolutions [N, H, W, K]."""
    k = x.shape[-1]
    w = jnp.asarray(metrics._gaussian_kernel_1d(), x.dtype)
    for shape in ((-1, 1, 1, 1), (1, -1, 1, 1)):
        x = jax.lax.conv_general_dilated(
            x,
            jnp.tile(w.reshape(shape), (1, 1, 1, k)),
            window_strides=(1, 1),
            padding="VALID",
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=k,
            precision=jax.lax.Precision.HIGHEST,
        )
    return x


def _example(side: int, frames: int) -> tuple[jax.Array, jax.Array]:
    ka, kb = jax.random.split(jax.random.key(side))
    a = jax.random.uniform(ka, (frames, side, side, 3))
    b = jnp.clip(a + 0.1 * jax.random.normal(kb, a.shape), 0.0, 1.0)
    return a, b


def _compiled(filter_fn: Callable) -> Callable:
    """A jitted SSIM whose Gaussian filter is `filter_fn` (a fresh trace per input shape)."""

    def ssim_with(a: jax.Array, b: jax.Array) -> jax.Array:
        original = metrics._gaussian_filter_valid
        metrics._gaussian_filter_valid = filter_fn
        try:
            return metrics.ssim(a, b)
        finally:
            metrics._gaussian_filter_valid = original

    return jax.jit(ssim_with)


def skimage_ssim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array(
        [
            structural_similarity(
                x,
                y,
                data_range=1.0,
                channel_axis=-1,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
            )
            for x, y in zip(a, b, strict=True)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 32x32 case, a few seconds")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement")
    args = parser.parse_args()
    cases = CASES[:1] if args.quick else CASES
    ops = {
        "ssim": _compiled(metrics._gaussian_filter_valid),
        "depthwise": _compiled(depthwise_filter_valid),
    }

    print(f"jax {jax.__version__}, devices: {jax.devices()}")
    print(f"float32 RGB frames, median of {args.repeats} runs; skimage on {SKIMAGE_FRAMES} frames")
    header = (
        f"{'size':>7} {'frames':>6} {'ssim s':>8} {'depthwise s':>11} {'skimage s':>9} "
        f"{'vs depthwise':>12} {'vs skimage':>10} {'max |diff|':>10}"
    )
    print(header)
    print("-" * len(header))
    for side, frames in cases:
        a, b = _example(side, frames)
        t = {name: median_seconds(op, a, b, repeats=args.repeats) for name, op in ops.items()}
        an, bn = np.asarray(a[:SKIMAGE_FRAMES]), np.asarray(b[:SKIMAGE_FRAMES])
        start = time.perf_counter()
        ref = skimage_ssim(an, bn)
        t["skimage"] = (time.perf_counter() - start) * frames / SKIMAGE_FRAMES
        diff = np.max(np.abs(np.asarray(ops["ssim"](a, b))[:SKIMAGE_FRAMES] - ref))
        print(
            f"{f'{side}x{side}':>7} {frames:>6} {t['ssim']:>8.3f} {t['depthwise']:>11.3f} "
            f"{t['skimage']:>9.3f} {t['depthwise'] / t['ssim']:>11.1f}x "
            f"{t['skimage'] / t['ssim']:>9.1f}x {diff:>10.1e}"
        )


if __name__ == "__main__":
    main()
