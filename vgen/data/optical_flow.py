"""Dense optical flow of clips, for the two-stream classifier (thesis 5.2.2; Simonyan & Zisserman
2014), computed once per dataset split and cached on disk.

The flow is OpenCV's Farnebäck method (`cv2.calcOpticalFlowFarneback`), on each frame's luma.
Simonyan & Zisserman used Brox et al. (2004) and their successors (TSN, I3D) TV-L1; OpenCV has
Brox only on CUDA, and TV-L1 costs 10 ms (scikit-image) to 77 ms (OpenCV contrib) per 32×32
pair on this 2-core CPU, 1–7 CPU-hours for Dynamics' 50,000 training clips, where Farnebäck
costs 0.3 ms (under 2 minutes). Flows are in pixels per frame, (dx, dy), rounded to float16 (the
cache's precision, ~0.01 px at these magnitudes) whether cached or not, so both are identical.

`flow_of(video)` is usable inside jitted code (a host callback); `OpticalFlowSource` wraps an
indexed source (Dynamics) and adds batch["flow"] [B, T - 1, H, W, 2] from the cache.
"""

import hashlib
import json
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# Farnebäck's parameters for small frames (16–64 px): a 2-level pyramid (scale 0.5), 7-px
# averaging window, 3 iterations, polynomial expansion over 5-px neighbourhoods (σ 1.1).
FARNEBACK = dict(pyr_scale=0.5, levels=2, winsize=7, iterations=3, poly_n=5, poly_sigma=1.1)
CHUNK = 500  # clips rendered and flowed at a time when filling the cache


def _luma(frames: np.ndarray) -> np.ndarray:
    """[..., H, W, C] in [0, 1] -> uint8 [..., H, W] (Rec. 601 luma for 3 channels)."""
    x = np.asarray(frames, np.float32)
    y = x[..., 0] if x.shape[-1] == 1 else x[..., :3] @ np.float32([0.299, 0.587, 0.114])
    return np.clip(np.rint(y * 255.0), 0, 255).astype(np.uint8)


def farneback(video: np.ndarray) -> np.ndarray:
    """video [..., T, H, W, C] in [0, 1] -> flow [..., T - 1, H, W, 2] (float32 pixels, dx and
    dy, rounded to float16) from each frame to the next."""
    import cv2  # opencv-python-headless

    gray = _luma(video)
    lead, (t, h, w) = gray.shape[:-3], gray.shape[-3:]
    if t < 2:
        raise ValueError(f"optical flow needs >= 2 frames, got {t}")
    gray = gray.reshape(-1, t, h, w)
    out = np.empty((gray.shape[0], t - 1, h, w, 2), np.float32)
    for i, clip in enumerate(gray):
        for s in range(t - 1):
            out[i, s] = cv2.calcOpticalFlowFarneback(
                clip[s], clip[s + 1], None, flags=0, **FARNEBACK
            )
    return out.astype(np.float16).astype(np.float32).reshape(*lead, t - 1, h, w, 2)


def flow_of(video: jax.Array) -> jax.Array:
    """`farneback` as a host callback: usable under jit (no gradient flows through it)."""
    b, t, h, w, _ = video.shape
    shape = jax.ShapeDtypeStruct((b, t - 1, h, w, 2), jnp.float32)
    return jax.pure_callback(farneback, shape, jax.lax.stop_gradient(video))


def default_cache_dir() -> str:
    """$VGEN_FLOW_CACHE, else $XDG_CACHE_HOME/vgen/optical_flow (~/.cache by default)."""
    if os.environ.get("VGEN_FLOW_CACHE"):
        return os.environ["VGEN_FLOW_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vgen", "optical_flow")


class OpticalFlowSource:
    """An indexed clip source (`vgen.data.pipeline.IndexedClipSource`) whose batches also hold
    "flow" [B, T - 1, H, W, 2], read from a per-split cache that is computed on first use.

    The cache file is named by the source's identity (`identity`: everything that fixes its
    clips) and Farnebäck's parameters, so a changed dataset never reads stale flows. Training
    batches are the wrapped source's (the same indices from the same `rng`)."""

    def __init__(self, source: Any, identity: dict, cache_dir: str = ""):
        if not hasattr(source, "clips"):
            raise ValueError(
                f"optical flow caching needs an indexed dataset (Dynamics); "
                f"{type(source).__name__} has no clips(split, indices)"
            )
        self.source = source
        self.cache_dir = os.path.expanduser(cache_dir or default_cache_dir())
        key = json.dumps({"source": identity, "farneback": FARNEBACK}, sort_keys=True)
        self._tag = hashlib.sha256(key.encode()).hexdigest()[:16]
        self._flows: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:  # split_size, CLASS_NAMES, ... of the source
        return getattr(self.source, name)

    def cache_path(self, split: str) -> str:
        return os.path.join(self.cache_dir, f"{self._tag}-{split}.npy")

    def flows(self, split: str) -> np.ndarray:
        """The flows of every clip of `split`, [N, T - 1, H, W, 2] float16 (memory-mapped)."""
        if split not in self._flows:
            path = self.cache_path(split)
            if not os.path.exists(path):
                self._fill(split, path)
            try:
                self._flows[split] = np.load(path, mmap_mode="r")
            except ValueError as e:
                raise ValueError(f"unreadable optical-flow cache {path} ({e}); delete it") from e
            expected = self.source.split_size(split)
            if self._flows[split].shape[0] != expected:
                raise ValueError(
                    f"optical-flow cache {path} holds {self._flows[split].shape[0]} clips, the "
                    f"{split} split {expected}; delete it"
                )
        return self._flows[split]

    def _fill(self, split: str, path: str) -> None:
        n = self.source.split_size(split)
        out = None
        for start in range(0, n, CHUNK):
            video = np.asarray(
                self.source.clips(split, np.arange(start, min(n, start + CHUNK)))["video"]
            )
            flow = farneback(video).astype(np.float16)
            if out is None:
                out = np.empty((n, *flow.shape[1:]), np.float16)
            out[start : start + len(flow)] = flow
        os.makedirs(self.cache_dir, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            np.save(f, out)
        os.replace(tmp, path)  # atomic: a crash never leaves a partial cache

    def _with_flow(self, batch: dict, split: str, indices: np.ndarray) -> dict:
        flow = np.asarray(self.flows(split)[np.asarray(indices)], np.float32)
        return {**batch, "flow": jnp.asarray(flow)}

    def train_batch(self, rng: jax.Array, batch_size: int) -> dict:
        """The wrapped source's training batch, and its clips' flows."""
        size = self.source.split_size("train")
        indices = np.asarray(jax.random.randint(rng, (int(batch_size),), 0, size, jnp.int32))
        batch = self.source.clips("train", indices)
        return self._with_flow(batch, "train", indices)

    def eval_clips(self, num_clips: int, split: str = "test", ground_truth: bool = False) -> dict:
        batch = self.source.eval_clips(num_clips, split=split, ground_truth=ground_truth)
        return self._with_flow(batch, split, np.arange(int(num_clips)))

    def clips(self, split: str, indices, ground_truth: bool = False) -> dict:
        batch = self.source.clips(split, indices, ground_truth=ground_truth)
        return self._with_flow(batch, split, np.asarray(indices))
