"""What LPIPS and FVD add to `--mode eval`: seconds per scored frame and per embedded clip on the
default JAX device, and the total for an evaluation of a given size.

Run from the repo root: ``python benchmarks/perceptual_cost.py [--clips=256] [--samples=100]``.
Shapes are those of `svg_lp_dynamics.py` by default (32×32×3, 2 context + 6 predicted frames).
LPIPS scores every predicted frame of every sample (clips × samples × predicted frames, in
chunks of 16 clips × all samples as the evaluator does); FVD embeds every clip once per set
(the real clips, the best and a random sample, and one set per baseline: copy-last and, on
Dynamics, the background), each clip stretched to 16 frames and resized to 224×224.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import numpy as np

try:
    import vgen  # noqa: F401
except ImportError:  # run as a plain script from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vgen import fvd, lpips
from vgen.evaluators.prediction import _lpips_scores

try:
    from timing import median_seconds
except ImportError:
    from benchmarks.timing import median_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--context", type=int, default=2)
    parser.add_argument("--predicted", type=int, default=6)
    parser.add_argument("--fvd_sets", type=int, default=5, help="real, best, random, baselines")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    r, chunk = args.resolution, 16
    shape = (args.samples, chunk, args.predicted, r, r, 3)
    samples = rng.random(shape, np.float32)
    truth = rng.random(shape[1:], np.float32)
    variables = lpips.weights("alexnet")
    score = lambda: _lpips_scores(samples, truth, variables, net="alexnet")
    lpips_chunk = median_seconds(score, repeats=args.repeats)
    frames = args.samples * chunk * args.predicted
    lpips_total = lpips_chunk * args.clips / chunk

    clips = rng.random((16, args.context + args.predicted, r, r, 3), np.float32)
    fvd.embed(clips[:8])  # compile
    start = time.perf_counter()
    fvd.embed(clips)
    per_clip = (time.perf_counter() - start) / len(clips)
    fvd_total = per_clip * args.clips * args.fvd_sets

    print(f"device: {jax.devices()[0].device_kind}, frames {r}x{r}x3")
    size = f"{args.clips} clips x {args.samples} samples x {args.predicted} frames"
    print(f"LPIPS (AlexNet): {lpips_chunk / frames * 1e3:.3f} ms a frame; {size}: ", end="")
    print(f"{lpips_total / 60:.1f} min")
    print(f"FVD (I3D, 16x224x224 a clip): {per_clip:.2f} s a clip; ", end="")
    print(f"{args.clips} clips x {args.fvd_sets} sets: {fvd_total / 60:.1f} min")


if __name__ == "__main__":
    main()
