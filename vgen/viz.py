"""Writing videos, filmstrips and plots (NumPy / PIL / matplotlib; no JAX).

Conventions: videos are float arrays in ``[0, 1]`` (values outside are clipped, NaN
becomes 0) with 1 (gray) or 3 (RGB) channels; gray is repeated to RGB. Outputs are
``uint8`` RGB arrays ready for GIF/PNG files or TensorBoard.

A "row" is a batch of clips of one kind, ``[N, T, H, W, C]`` (or a single clip
``[T, H, W, C]``, i.e. ``N = 1``), e.g. ``rows = [ground_truth, sample_1, sample_2]``.
All rows must share ``T, H, W``; concatenate the context frames onto predictions
first if they only cover the predicted steps. Rows may hold different numbers of
clips ``N``: missing cells are left blank (``pad_value``).

- :func:`video_grid`: an animated grid ``[T, H_grid, W_grid, 3]`` -- clips as
  columns, row kinds as rows, time as the animation (for GIFs / TensorBoard video).
- :func:`image_grid`, :func:`pairs_figure`: rows of images (or of clips) as one image.
- :func:`filmstrip`: a static paper-style figure ``[H_img, W_img, 3]`` -- time along
  x; for each clip, one strip per row kind (ground truth above samples).
- :func:`write_gif`, :func:`write_png`, :func:`write_pngs`: atomic file writers.
- :func:`plot_curves`: a line plot (e.g. PSNR per predicted step) saved to PNG and
  returned as an image.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "filmstrip",
    "image_grid",
    "pairs_figure",
    "plot_curves",
    "to_uint8",
    "video_grid",
    "write_gif",
    "write_png",
    "write_pngs",
]

PathLike = str | os.PathLike[str]


# ----------------------------------------------------------------------------- helpers


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Floats in ``[0, 1]`` -> ``uint8`` (clipped, rounded, NaN -> 0); uint8 passes."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x
    x = np.nan_to_num(x.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _to_rgb_float(x: np.ndarray, what: str) -> np.ndarray:
    """``[..., C]`` with C in {1, 3}, floats or uint8 -> float32 ``[..., 3]`` in [0, 1]."""
    x = np.asarray(x)
    if x.shape[-1] not in (1, 3):
        raise ValueError(f"{what}: last axis must be 1 (gray) or 3 (RGB), got {x.shape}")
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    x = np.clip(np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return x


def _prepare_rows(rows: Sequence[np.ndarray], fn: str) -> list[np.ndarray]:
    """Validate rows; return float32 ``[N, T, H, W, 3]`` arrays in [0, 1]."""
    if isinstance(rows, np.ndarray):
        raise TypeError(f"{fn}: rows must be a sequence of arrays, e.g. [ground_truth, samples]")
    if len(rows) == 0:
        raise ValueError(f"{fn}: need at least one row")
    out = []
    for i, row in enumerate(rows):
        row = np.asarray(row)
        if row.ndim == 4:
            row = row[None]
        if row.ndim != 5:
            raise ValueError(
                f"{fn}: row {i} must be [N, T, H, W, C] or [T, H, W, C], got shape {row.shape}"
            )
        out.append(_to_rgb_float(row, f"{fn}: row {i}"))
    thw = [r.shape[1:4] for r in out]
    if len(set(thw)) != 1:
        shapes = [tuple(np.shape(r)) for r in rows]
        raise ValueError(
            f"{fn}: all rows must have the same T, H, W (got row shapes {shapes}); "
            "prepend context frames to shorter rows first"
        )
    return out


def _check_pad(pad: int, fn: str) -> None:
    if pad < 0:
        raise ValueError(f"{fn}: pad must be >= 0, got {pad}")


# ----------------------------------------------------------------------------- layouts


def video_grid(rows: Sequence[np.ndarray], pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Tile rows of clips into one animated grid.

    Cell ``(r, n)`` (row kind ``r``, clip ``n``) shows ``rows[r][n]``; its top-left
    pixel is at ``(pad + r * (H + pad), pad + n * (W + pad))``. Pad pixels, including
    an outer border of width ``pad``, and cells of rows with fewer clips, are filled
    with ``pad_value``.

    Args:
      rows: ``R`` videos ``[N_r, T, H, W, C]`` or ``[T, H, W, C]``, floats in [0, 1],
        ``C`` in {1, 3}; same ``T, H, W`` for all rows.
      pad: pixels between cells and around the grid.
      pad_value: gray level in [0, 1] of the padding.

    Returns:
      ``[T, R * H + (R + 1) * pad, N * W + (N + 1) * pad, 3]`` uint8 with
      ``N = max_r N_r``.

    Raises:
      ValueError: on bad ranks, channel counts or mismatched ``T, H, W``.
    """
    _check_pad(pad, "video_grid")
    vids = _prepare_rows(rows, "video_grid")
    _, t, h, w, _ = vids[0].shape
    n_rows, n_cols = len(vids), max(v.shape[0] for v in vids)
    grid = np.full(
        (t, n_rows * h + (n_rows + 1) * pad, n_cols * w + (n_cols + 1) * pad, 3),
        np.clip(pad_value, 0.0, 1.0),
        dtype=np.float32,
    )
    for r, vid in enumerate(vids):
        y = pad + r * (h + pad)
        for n, clip in enumerate(vid):
            x = pad + n * (w + pad)
            grid[:, y : y + h, x : x + w] = clip
    return to_uint8(grid)


def image_grid(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Rows of images [N, H, W, C] -> one uint8 image [H', W', 3] (row r, column n)."""
    return video_grid([np.asarray(r)[:, None] for r in rows])[0]


def pairs_figure(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Rows of clips [N, T, H, W, C] of one kind each (e.g. targets, reconstructions) as one
    uint8 image [H', W', 3]: a grid of frames when T == 1 (row r, column n), else a filmstrip."""
    if all(np.shape(r)[1] == 1 for r in rows):
        return image_grid([np.asarray(r)[:, 0] for r in rows])
    return filmstrip(rows)


def filmstrip(
    rows: Sequence[np.ndarray],
    pad: int = 1,
    pad_value: float = 1.0,
    group_pad: int = 4,
    stride: int = 1,
) -> np.ndarray:
    """A static paper-style figure: frames left to right, one strip per clip and row kind.

    For each clip ``n`` there is a group of ``R`` strips (``rows[0][n]`` on top, e.g.
    the ground truth, then ``rows[1][n]``, ...); groups are stacked vertically,
    separated by ``group_pad`` extra pixels. Within a group, strip ``r`` frame ``k``
    (the ``k``-th kept frame, ``t = k * stride``) has its top-left pixel at
    ``(pad + n * (R * (H + pad) + group_pad) + r * (H + pad), pad + k * (W + pad))``.

    Args:
      rows: ``R`` videos ``[N_r, T, H, W, C]`` or ``[T, H, W, C]``, floats in [0, 1],
        ``C`` in {1, 3}; same ``T, H, W`` for all rows.
      pad: pixels between frames and strips and around the image.
      pad_value: gray level in [0, 1] of the padding (and of missing clips).
      group_pad: extra pixels between consecutive clips' groups.
      stride: keep every ``stride``-th frame (``t = 0, stride, 2 * stride, ...``).

    Returns:
      ``[N * (R * (H + pad) + group_pad) - group_pad + pad, K * W + (K + 1) * pad, 3]``
      uint8, with ``N = max_r N_r`` and ``K = ceil(T / stride)``.

    Raises:
      ValueError: on bad ranks, channel counts, mismatched ``T, H, W`` or bad pads.
    """
    _check_pad(pad, "filmstrip")
    if group_pad < 0:
        raise ValueError(f"filmstrip: group_pad must be >= 0, got {group_pad}")
    if stride < 1:
        raise ValueError(f"filmstrip: stride must be >= 1, got {stride}")
    vids = [v[:, ::stride] for v in _prepare_rows(rows, "filmstrip")]
    _, k, h, w, _ = vids[0].shape
    n_rows, n_clips = len(vids), max(v.shape[0] for v in vids)
    group_h = n_rows * (h + pad) + group_pad
    img = np.full(
        (n_clips * group_h - group_pad + pad, k * w + (k + 1) * pad, 3),
        np.clip(pad_value, 0.0, 1.0),
        dtype=np.float32,
    )
    for r, vid in enumerate(vids):
        for n, clip in enumerate(vid):
            y = pad + n * group_h + r * (h + pad)
            for i, frame in enumerate(clip):
                x = pad + i * (w + pad)
                img[y : y + h, x : x + w] = frame
    return to_uint8(img)


# ----------------------------------------------------------------------------- writers


def _atomic_write(path: PathLike, write: Callable[[str], None]) -> Path:
    """Create parent dirs, call ``write(tmp_path)`` in the same dir, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _as_rgb_uint8(
    x: np.ndarray, ndim: int, what: str, allow_no_channel: bool = False
) -> np.ndarray:
    """uint8 (or float [0, 1]) ``[..., 3]`` / ``[..., 1]`` (or gray without C) -> uint8 RGB."""
    x = np.asarray(x)
    if allow_no_channel and x.ndim == ndim - 1:
        x = x[..., None]
    if x.ndim != ndim or x.shape[-1] not in (1, 3):
        raise ValueError(f"{what}: expected shape with {ndim} dims ending in 1 or 3, got {x.shape}")
    x = to_uint8(x)
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return np.ascontiguousarray(x)


def write_gif(path: PathLike, video: np.ndarray, fps: int = 8) -> Path:
    """Write an animated GIF that loops forever, atomically.

    Args:
      path: output file; parent directories are created.
      video: ``[T, H, W, 3]`` uint8 (also accepted: floats in [0, 1], gray ``[T, H, W, 1]``).
      fps: frames per second (GIF delays are stored in 10 ms units).

    Returns:
      The written path.

    Note: GIF uses a 256-colour palette per frame, and PIL merges consecutive
    identical frames into one longer frame (the total duration is kept).
    """
    frames = _as_rgb_uint8(video, 4, "write_gif")
    if frames.shape[0] == 0:
        raise ValueError("write_gif: video has no frames")
    if fps <= 0:
        raise ValueError(f"write_gif: fps must be > 0, got {fps}")
    images = [Image.fromarray(f) for f in frames]
    duration = max(1, round(1000 / fps))

    def write(tmp: str) -> None:
        images[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=duration,
            loop=0,
            optimize=False,
        )

    return _atomic_write(path, write)


def write_png(path: PathLike, image: np.ndarray) -> Path:
    """Write an RGB PNG atomically.

    Args:
      path: output file; parent directories are created.
      image: ``[H, W, 3]`` uint8 (also accepted: floats in [0, 1], gray ``[H, W(, 1)]``).

    Returns:
      The written path.
    """
    img = Image.fromarray(_as_rgb_uint8(image, 3, "write_png", allow_no_channel=True))
    return _atomic_write(path, lambda tmp: img.save(tmp, format="PNG"))


def write_pngs(outdir: PathLike, images: Mapping[str, np.ndarray]) -> dict[str, str]:
    """Writes ``<outdir>/<name>.png`` for each named image; returns ``{name: path}``."""
    return {name: str(write_png(Path(outdir) / f"{name}.png", im)) for name, im in images.items()}


# ----------------------------------------------------------------------------- plots


def _save_figure(fig, canvas, path: PathLike) -> np.ndarray:
    """Lays out and renders a matplotlib figure on its Agg canvas, writes it as PNG; returns
    the pixels [H, W, 3] uint8."""
    fig.tight_layout()
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    write_png(path, image)
    return image


def plot_curves(
    path: PathLike,
    curves: Mapping[str, Sequence[float]],
    x: Sequence[int] | None = None,
    xlabel: str = "predicted step",
    ylabel: str = "PSNR",
    title: str = "",
) -> np.ndarray:
    """Line plot of named curves (e.g. a metric per predicted step), saved as PNG.

    Uses matplotlib's Agg canvas directly (no pyplot state, no display).

    Args:
      path: output PNG; parent directories are created; written atomically.
      curves: label -> y values; one line each, with a legend.
      x: shared x values, one per point of every curve; default ``1, 2, ..., len(y)``
        for each curve.
      xlabel, ylabel, title: axis labels and title.

    Returns:
      The rendered plot ``[H, W, 3]`` uint8 (the exact pixels written to ``path``).

    Raises:
      ValueError: if ``x`` is given and a curve's length differs from it.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6, 4), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for label, ys in curves.items():
        ys = np.asarray(ys, dtype=np.float64).reshape(-1)
        if x is None:
            xs = np.arange(1, len(ys) + 1)
        else:
            xs = np.asarray(x)
            if len(xs) != len(ys):
                raise ValueError(
                    f"plot_curves: curve {label!r} has {len(ys)} points but x has {len(xs)}"
                )
        ax.plot(xs, ys, marker="o" if len(ys) <= 32 else None, markersize=3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if curves:
        ax.legend()
    return _save_figure(fig, canvas, path)


def plot_confusion(
    path: PathLike, matrix: np.ndarray, labels: Sequence[str], title: str = ""
) -> np.ndarray:
    """A confusion matrix [K, K] (rows: true class, columns: predicted; counts) as a PNG, each
    row shaded by its share of the row; returns the rendered [H, W, 3] uint8 image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    if matrix.shape != (k, k) or len(labels) != k:
        raise ValueError(f"plot_confusion: matrix {matrix.shape} and {len(labels)} labels")
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(1.0 + 0.6 * k, 1.0 + 0.55 * k), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(k):
        for j in range(k):
            colour = "white" if shares[i, j] > 0.5 else "black"
            count = str(int(matrix[i, j]))
            ax.text(j, i, count, ha="center", va="center", color=colour, fontsize=7)
    ax.set_xticks(range(k), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(k), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return _save_figure(fig, canvas, path)
