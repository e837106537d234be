"""Object-aware prediction scores, for sources that know each clip's object and background.

On Dynamics the object covers a few percent of the frame, so full-frame PSNR rewards a model
that erases it: the background alone is wrong only where the object is. These scores look at
the object itself, per predicted step:

  object_psnr, object_ssim  PSNR / SSIM inside the ground-truth object region: the pixels the
                            object covers at that step, dilated by `eval.object_dilation`
                            pixels (metrics.masked_psnr, metrics.masked_ssim)
  position_error            distance in pixels between the predicted and the true object
                            position. The prediction's position is the centroid of its
                            difference from the clip's background where that exceeds
                            `eval.object_threshold` (metrics.object_centroid); the true one
                            is the centroid of the object's coverage. A prediction with no
                            pixel over the threshold has lost the object and scores the
                            frame's diagonal, the largest error there is.
  object_found              the fraction of predictions in which the object is found

Each is scored for every sample and for the baselines: copy_last (the last context frame
repeated), mean_context (the mean of the context frames, repeated) and background (the clip's
own background, object erased), which also gets the full-frame PSNR and SSIM.
"""

import math

import jax
import jax.numpy as jnp

from vgen import metrics

# The scores per sample [B, S, T] and the direction of "best" for each.
HIGHER_IS_BETTER = {"object_psnr": True, "object_ssim": True, "position_error": False}


def region(mask: jax.Array, dilation: int) -> jax.Array:
    """The scored region: pixels with any object coverage, grown by `dilation` pixels.
    [..., H, W, 1] in [0, 1] -> {0, 1} of the same shape."""
    return metrics.dilate((mask > 0).astype(jnp.float32), dilation)


def true_positions(mask: jax.Array) -> jax.Array:
    """Centroid of the object coverage [..., H, W, 1] -> [..., 2] (row, column) in pixels."""
    position, _ = metrics.object_centroid(mask, jnp.zeros_like(mask), 0.0)
    return position


def position_error(
    frames: jax.Array, background: jax.Array, truth: jax.Array, threshold: float
) -> tuple[jax.Array, jax.Array]:
    """(error [...] in pixels, found [...]) of frames [..., H, W, C] against true positions
    truth [..., 2]; a frame whose object is not found scores the frame diagonal."""
    position, found = metrics.object_centroid(frames, background, threshold)
    h, w = frames.shape[-3:-1]
    error = jnp.linalg.norm(position - truth, axis=-1)
    return jnp.where(found, error, math.hypot(h, w)), found


def scores(
    frames: jax.Array,
    mask: jax.Array,
    background: jax.Array,
    truth: jax.Array,
    *,
    dilation: int,
    threshold: float,
) -> dict[str, jax.Array]:
    """The object scores of predictions frames [..., T, H, W, C] (leading axes broadcast
    against the clips') of clips truth [B, T, H, W, C] with mask [B, T, H, W, 1] and
    background [B, T, H, W, C]: {"object_psnr", "object_ssim", "position_error",
    "object_found"}, each [..., T] (the broadcast leading shape)."""
    where = region(mask, dilation)
    error, found = position_error(frames, background, true_positions(mask), threshold)
    return {
        "object_psnr": metrics.masked_psnr(frames, truth, where),
        "object_ssim": metrics.masked_ssim(frames, truth, where),
        "position_error": error,
        "object_found": found.astype(jnp.float32),
    }
