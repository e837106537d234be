"""Reconstruction scores of encoder-decoder models, from the method's `reconstruct` hook.

`reconstruct(config, state, batch, rng) -> (target, reconstruction)`, both [B, T', H, W, C]:
what the model reconstructs of each evaluation clip (T' = 1 for image models).

results.json: {"reconstruction": {"num_clips", "mse", "psnr", "ssim"}}, each score the mean
over clips and frames, plus "psnr_per_frame" and "ssim_per_frame" (mean over clips) when
T' > 1. Files: <workdir>/eval/reconstructions.png (targets above reconstructions, the first
8 clips); recon_mse, recon_psnr, recon_ssim in TensorBoard at the checkpoint's training step.
"""

import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from vgen import metrics, viz
from vgen.evaluators import EvalContext, chunks, rng_for
from vgen.sharding import to_host

REQUIRES = ("reconstruct",)
FIGURE_CLIPS = 8


@jax.jit
def _scores(target: jax.Array, recon: jax.Array) -> dict[str, jax.Array]:
    """target, recon [B, T', H, W, C] -> {"mse": [B], "psnr": [B, T'], "ssim": [B, T']}."""
    mse = jnp.mean(jnp.square(recon - target), axis=(1, 2, 3, 4))
    return {"mse": mse, "psnr": metrics.psnr(recon, target), "ssim": metrics.ssim(recon, target)}


def run(ctx: EvalContext) -> dict[str, Any]:
    """Scores `method.reconstruct` on the evaluation clips; writes reconstructions.png."""
    reconstruct = jax.jit(functools.partial(ctx.method.reconstruct, ctx.config))
    rng = rng_for(ctx, "reconstruction")
    scores = {"mse": [], "psnr": [], "ssim": []}
    shown = ([], [])  # targets, reconstructions of the first FIGURE_CLIPS clips
    for start, chunk in chunks(ctx):
        target, recon = reconstruct(ctx.state, chunk, jax.random.fold_in(rng, start))
        if target.shape != recon.shape or target.ndim != 5:
            raise ValueError(
                f"{ctx.config.method}.reconstruct must return (target, reconstruction), both "
                f"[B, T', H, W, C]; got {target.shape} and {recon.shape}"
            )
        for name, value in _scores(target, recon).items():
            scores[name].append(to_host(value))
        if start < FIGURE_CLIPS:
            shown[0].append(to_host(target)[: FIGURE_CLIPS - start])
            shown[1].append(to_host(recon)[: FIGURE_CLIPS - start])

    rows = [np.concatenate(r) for r in shown]
    viz.write_png(os.path.join(ctx.outdir, "reconstructions.png"), viz.pairs_figure(rows))
    scores = {k: np.concatenate(v) for k, v in scores.items()}  # [N] or [N, T']
    out = {"num_clips": len(scores["mse"])}
    out.update({k: float(v.mean()) for k, v in scores.items()})
    frames = scores["psnr"].shape[1]
    if frames > 1:
        for name in ("psnr", "ssim"):
            out[f"{name}_per_frame"] = scores[name].mean(axis=0).tolist()
    step = int(jax.device_get(ctx.state.step))
    ctx.writer.write_scalars(step, {f"recon_{k}": out[k] for k in ("mse", "psnr", "ssim")})
    print(
        f"reconstruction: {out['num_clips']} clips, MSE {out['mse']:.5f}, "
        f"PSNR {out['psnr']:.2f}, SSIM {out['ssim']:.3f}"
    )
    return {"reconstruction": out}
