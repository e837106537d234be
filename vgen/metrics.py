"""Image quality metrics for video frames, in ``jax.numpy``.

Every metric takes two arrays of frames ``[..., H, W, C]`` with values in
``[0, max_value]`` (usually ``[0, 1]``) and returns one value per frame, shape
``[...]`` (the leading dims of the input). All functions are pure, jittable and
vmappable; shape checks are static and raise ``ValueError`` at trace time.

- :func:`psnr`: peak signal-to-noise ratio in dB.
- :func:`ssim`: structural similarity, numerically matching
  ``skimage.metrics.structural_similarity(a, b, data_range=max_value, channel_axis=-1,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`` (Wang et al. 2004).

Scores inside a region (object-aware evaluation) take a mask ``[..., H, W, 1]`` of weights in
``[0, 1]`` (broadcast over channels):

- :func:`masked_psnr`: PSNR of the MSE over the region.
- :func:`masked_ssim`: the mean of skimage's full SSIM map (``full=True``) over the region.
- :func:`dilate`: grows a mask by ``radius`` pixels (a square window, Chebyshev distance).
- :func:`object_centroid`: where a frame differs from a known background (position estimate).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "PSNR_MSE_EPS",
    "SSIM_WIN_SIZE",
    "dilate",
    "masked_psnr",
    "masked_ssim",
    "object_centroid",
    "psnr",
    "ssim",
]

#: Lower clamp on the MSE in :func:`psnr`, so identical frames give a finite value
#: (``10 * log10(1 / 1e-10) = 100`` dB for ``max_value = 1``).
PSNR_MSE_EPS = 1e-10

# SSIM constants, as in Wang et al. (2004) and skimage with gaussian_weights=True.
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03
_SSIM_SIGMA = 1.5
_SSIM_TRUNCATE = 3.5
_SSIM_RADIUS = int(_SSIM_TRUNCATE * _SSIM_SIGMA + 0.5)  # 5, as in scipy.ndimage
#: Side of the SSIM Gaussian window (11); frames must be at least this large.
SSIM_WIN_SIZE = 2 * _SSIM_RADIUS + 1


def _float_dtype(*arrays: jax.Array) -> jnp.dtype:
    """Float dtype to compute in: the inputs' promoted dtype, at least float32."""
    dtype = jnp.result_type(*arrays)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.float32
    return jnp.promote_types(dtype, jnp.float32)


def _broadcast_pair(name: str, a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Broadcasts the leading axes of two frame stacks; their frames must have one shape."""
    a, b = jnp.asarray(a), jnp.asarray(b)
    if a.ndim < 3 or b.ndim < 3 or a.shape[-3:] != b.shape[-3:]:
        raise ValueError(
            f"{name}: frame shapes must match ([..., H, W, C]), got {a.shape} and {b.shape}"
        )
    try:
        shape = jnp.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{name}: leading axes do not broadcast: {a.shape} and {b.shape}"
        ) from None
    return jnp.broadcast_to(a, shape), jnp.broadcast_to(b, shape)


def psnr(
    a: jax.Array, b: jax.Array, max_value: float = 1.0, per_channel: bool = False
) -> jax.Array:
    """Peak signal-to-noise ratio in dB, per frame.

    ``10 * log10(max_value**2 / MSE)`` with the MSE taken over ``H, W, C``; with
    ``per_channel`` the MSE is taken over ``H, W`` and the channels' PSNRs are averaged,
    as the SVG and SRVP evaluations do (the two differ on colour frames only). The MSE
    is clamped below at :data:`PSNR_MSE_EPS` (1e-10), so identical frames give a
    finite value (100 dB for ``max_value = 1``) instead of ``inf``.

    Args:
      a, b: frames ``[..., H, W, C]`` in ``[0, max_value]``; leading axes broadcast.
      max_value: the data range (peak value) of the frames.
      per_channel: average the per-channel PSNRs instead of pooling the channels' errors.

    Returns:
      PSNR ``[...]``, one value per frame, float32 (or wider for wider inputs).
    """
    a, b = _broadcast_pair("psnr", a, b)
    dtype = _float_dtype(a, b)
    a = jnp.asarray(a, dtype)
    b = jnp.asarray(b, dtype)
    mse = jnp.mean(jnp.square(a - b), axis=(-3, -2) if per_channel else (-3, -2, -1))
    mse = jnp.maximum(mse, PSNR_MSE_EPS)
    value = 10.0 * jnp.log10(jnp.asarray(max_value, dtype) ** 2 / mse)
    return jnp.mean(value, axis=-1) if per_channel else value


def _gaussian_kernel_1d() -> np.ndarray:
    """Normalised 1-D Gaussian (sigma 1.5, radius 5), as ``scipy.ndimage``'s."""
    x = np.arange(-_SSIM_RADIUS, _SSIM_RADIUS + 1, dtype=np.float64)
    w = np.exp(-0.5 / (_SSIM_SIGMA * _SSIM_SIGMA) * x * x)
    return w / w.sum()


def _valid_filter_matrix(n: int) -> np.ndarray:
    """[n - 10, n] banded matrix: row i holds the 1-D Gaussian at columns i .. i + 10, so that
    ``matrix @ signal`` is the 'valid' filtering of a length-n signal."""
    w = _gaussian_kernel_1d()
    m = np.zeros((n - w.size + 1, n))
    for i in range(m.shape[0]):
        m[i, i : i + w.size] = w
    return m


def _gaussian_filter_valid(x: jax.Array) -> jax.Array:
    """Separable Gaussian blur of every channel, 'valid' region only.

    Each 1-D pass is a matmul with a banded matrix rather than a depthwise convolution: the
    same sums, and several times faster on CPU, where XLA's grouped convolutions are slow
    (benchmarks/ssim.py).

    Args:
      x: ``[N, H, W, K]``.

    Returns:
      ``[N, H - 10, W - 10, K]``: each channel filtered independently.
    """
    _, h, w, _ = x.shape
    mh = jnp.asarray(_valid_filter_matrix(h), x.dtype)
    mw = jnp.asarray(_valid_filter_matrix(w), x.dtype)
    hi = jax.lax.Precision.HIGHEST
    x = jnp.einsum("ih,nhwk->niwk", mh, x, precision=hi)
    return jnp.einsum("jw,niwk->nijk", mw, x, precision=hi)


def ssim(a: jax.Array, b: jax.Array, max_value: float = 1.0) -> jax.Array:
    """Structural similarity (SSIM), per frame.

    Matches ``skimage.metrics.structural_similarity(a, b, data_range=max_value,
    channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``:
    local means, variances (population normalisation) and covariance from an 11x11
    Gaussian window (sigma 1.5, truncated at 3.5 sigma), ``K1 = 0.01``, ``K2 = 0.03``;
    the SSIM map is averaged over channels and over the region at least 5 pixels away
    from the border (skimage's crop), which equals a 'valid' convolution.

    Args:
      a, b: frames ``[..., H, W, C]`` in ``[0, max_value]`` (leading axes broadcast),
        ``H, W >= 11``.
      max_value: the data range of the frames.

    Returns:
      SSIM ``[...]``, one value per frame (1 for identical frames).

    Raises:
      ValueError: if shapes differ or a frame is smaller than 11x11.
    """
    a, b = _broadcast_pair("ssim", a, b)
    *lead, h, w, c = a.shape
    if h < SSIM_WIN_SIZE or w < SSIM_WIN_SIZE:
        raise ValueError(
            f"ssim: frames must be at least {SSIM_WIN_SIZE}x{SSIM_WIN_SIZE} "
            f"(the Gaussian window size), got H={h}, W={w} (shape {a.shape})"
        )
    s = _ssim_map(a, b, max_value, pad=False)  # [N, H - 10, W - 10, C]
    # Every channel's valid region has the same size, so the overall mean equals
    # skimage's mean over channels of per-channel means.
    return jnp.mean(s, axis=(1, 2, 3)).reshape(lead)


def _ssim_map(a: jax.Array, b: jax.Array, max_value: float, pad: bool) -> jax.Array:
    """The SSIM map of frames [..., H, W, C] -> [N, H', W', C]: the 'valid' region
    (H' = H - 10) or, with `pad`, the whole frame with symmetric padding (scipy's 'reflect'
    mode, which skimage's full map uses)."""
    *_, h, w, c = a.shape
    dtype = _float_dtype(a, b)
    x = jnp.asarray(a, dtype).reshape(-1, h, w, c)
    y = jnp.asarray(b, dtype).reshape(-1, h, w, c)

    # Filter the five moments in one pass: channels [x, y, xx, yy, xy] * C.
    stats = jnp.concatenate([x, y, x * x, y * y, x * y], axis=-1)
    if pad:
        r = _SSIM_RADIUS
        stats = jnp.pad(stats, ((0, 0), (r, r), (r, r), (0, 0)), mode="symmetric")
    ux, uy, uxx, uyy, uxy = jnp.split(_gaussian_filter_valid(stats), 5, axis=-1)
    vx = uxx - ux * ux  # population (co)variances: cov_norm = 1
    vy = uyy - uy * uy
    vxy = uxy - ux * uy

    c1 = (_SSIM_K1 * max_value) ** 2
    c2 = (_SSIM_K2 * max_value) ** 2
    num = (2 * ux * uy + c1) * (2 * vxy + c2)
    den = (ux * ux + uy * uy + c1) * (vx + vy + c2)
    return num / den


def _check_mask(name: str, frames: jax.Array, mask: jax.Array) -> jax.Array:
    mask = jnp.asarray(mask)
    if mask.ndim < 3 or mask.shape[-1] != 1 or mask.shape[-3:-1] != frames.shape[-3:-1]:
        raise ValueError(
            f"{name}: mask must be [..., H, W, 1] for frames {frames.shape}, got {mask.shape}"
        )
    return mask


def masked_psnr(a: jax.Array, b: jax.Array, mask: jax.Array, max_value: float = 1.0) -> jax.Array:
    """PSNR in dB inside a region, per frame: the MSE is the mask-weighted mean over H, W, C.

    Args:
      a, b: frames ``[..., H, W, C]`` (leading axes broadcast).
      mask: weights ``[..., H, W, 1]`` in [0, 1], broadcast against the frames; a frame with
        an empty mask scores as identical frames do (100 dB).
      max_value: the data range of the frames.

    Returns:
      ``[...]``, one value per frame.
    """
    a, b = _broadcast_pair("masked_psnr", a, b)
    mask = _check_mask("masked_psnr", a, mask)
    dtype = _float_dtype(a, b)
    sq = jnp.square(jnp.asarray(a, dtype) - jnp.asarray(b, dtype))
    weight = jnp.broadcast_to(jnp.asarray(mask, dtype), sq.shape[:-1] + (1,))
    total = jnp.sum(weight, axis=(-3, -2, -1)) * sq.shape[-1]
    mse = jnp.sum(sq * weight, axis=(-3, -2, -1)) / jnp.maximum(total, 1e-12)
    mse = jnp.maximum(mse, PSNR_MSE_EPS)
    return 10.0 * jnp.log10(jnp.asarray(max_value, dtype) ** 2 / mse)


def masked_ssim(a: jax.Array, b: jax.Array, mask: jax.Array, max_value: float = 1.0) -> jax.Array:
    """SSIM inside a region, per frame: the mask-weighted mean of the full SSIM map.

    The map is skimage's ``structural_similarity(..., full=True)`` map (every pixel, with
    symmetric padding at the border), averaged over channels, so objects near the border are
    scored too (the plain :func:`ssim` crops 5 pixels).

    Args:
      a, b: frames ``[..., H, W, C]`` (leading axes broadcast), ``H, W >= 11``.
      mask: weights ``[..., H, W, 1]`` in [0, 1], broadcast against the frames; a frame with
        an empty mask scores 1.
      max_value: the data range of the frames.

    Returns:
      ``[...]``, one value per frame.
    """
    a, b = _broadcast_pair("masked_ssim", a, b)
    mask = _check_mask("masked_ssim", a, mask)
    *lead, h, w, c = a.shape
    if h < SSIM_WIN_SIZE or w < SSIM_WIN_SIZE:
        raise ValueError(f"masked_ssim: frames must be at least 11x11, got {a.shape}")
    s = jnp.mean(_ssim_map(a, b, max_value, pad=True), axis=-1).reshape(*lead, h, w)
    weight = jnp.broadcast_to(mask[..., 0], s.shape).astype(s.dtype)
    total = jnp.sum(weight, axis=(-2, -1))
    weighted = jnp.sum(s * weight, axis=(-2, -1))
    return jnp.where(total > 0, weighted / jnp.maximum(total, 1e-12), 1.0)


def dilate(mask: jax.Array, radius: int) -> jax.Array:
    """Grows a mask ``[..., H, W, 1]`` by ``radius`` pixels: the max over a
    ``(2 radius + 1)`` square window (pixels within Chebyshev distance ``radius``)."""
    if radius < 0:
        raise ValueError(f"dilate: radius must be >= 0, got {radius}")
    mask = jnp.asarray(mask)
    if radius == 0:
        return mask
    *lead, h, w, c = mask.shape
    flat = mask.reshape(-1, h, w, c)
    window = (1, 2 * radius + 1, 2 * radius + 1, 1)
    out = jax.lax.reduce_window(flat, -jnp.inf, jax.lax.max, window, (1, 1, 1, 1), "SAME")
    return out.reshape(mask.shape)


def object_centroid(
    frames: jax.Array, background: jax.Array, threshold: float
) -> tuple[jax.Array, jax.Array]:
    """Where frames differ from their background: the centroid of the difference mass.

    A pixel's mass is ``d = max over channels |frame - background|`` where ``d > threshold``
    (0 elsewhere); the position is the mass-weighted mean pixel centre.

    Args:
      frames, background: ``[..., H, W, C]`` (leading axes broadcast).
      threshold: the least difference that counts as object.

    Returns:
      ``(position [..., 2] as (row, column) in pixels, pixel centres at integers; found [...])``
      where ``found`` is False when no pixel passes the threshold (position is then 0, 0).
    """
    frames, background = _broadcast_pair("object_centroid", frames, background)
    dtype = _float_dtype(frames, background)
    d = jnp.max(jnp.abs(jnp.asarray(frames, dtype) - jnp.asarray(background, dtype)), axis=-1)
    mass = jnp.where(d > threshold, d, 0.0)
    h, w = mass.shape[-2:]
    total = jnp.sum(mass, axis=(-2, -1))
    rows = jnp.sum(mass * jnp.arange(h, dtype=dtype)[:, None], axis=(-2, -1))
    cols = jnp.sum(mass * jnp.arange(w, dtype=dtype)[None, :], axis=(-2, -1))
    found = total > 0
    safe = jnp.where(found, total, 1.0)
    return jnp.stack([rows / safe, cols / safe], axis=-1), found
