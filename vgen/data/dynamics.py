"""The "Dynamics" dataset: procedurally rendered toy physics clips (the default dataset).

A re-creation, in pure ``jax.numpy``, of the Dynamics dataset of the M.Sc. thesis
(section 5.2): one object moves over a static textured background, and the class is
the motion only. 10 classes = path {linear, sinusoidal, hypocycloidal} x speed
{constant, accelerating, bouncing} + rotation. Object shape (disc, square, triangle),
colour and size and the background texture are randomised per clip; the thesis split
sizes (5000/500/500 clips per class for train/val/test) are the defaults.

Two properties the thesis asks for hold by construction and are tested:
- a single frame does not give the class away: every class draws its object from the same
  shapes, sizes and colours and places it over the same region of the frame;
- the data "never displays two static frames": a translating object travels at least
  ``MIN_PATH_SPEED`` frame sides along its path over the clip, spread over its frames (so at
  least ``MIN_PATH_SPEED * R / (T - 1)`` pixels per frame: 0.9 px at 32x32 and 8 frames);
  speeds are arc length per frame, accelerating paths start at a fraction of their mean
  speed, not at rest, and hypocycloids drift so their cusps become bends. A rotating object
  turns at least ``MIN_OMEGA`` rad per frame. Objects are two-tone (the half on one side of
  the object's own axis is darker) so that a spinning disc is visible; the thesis renders with
  Bullet, where a shaded object's rotation shows. (The displacement between two frames can
  still be small where a path turns back within one frame interval, at a wall or a cusp.)

``render_clips(..., ground_truth=True)`` also returns what the renderer knows: each frame's
object coverage ("mask") and the clip's object-free background, for object-aware scores.

The motions are kinematic, so instead of a physics engine every clip is a pure,
deterministic function of a PRNG key and a label; :func:`render_clips` renders a whole
batch in one jitted, vmapped call (CPU or accelerator). :class:`DynamicsSource` maps
``(seed, split, index)`` to keys, so clip ``i`` of a split never changes.

Coordinates: positions are ``(y, x)`` in ``[-1, 1]``, ``y`` growing downwards (row
index) and ``x`` to the right (column index); the frame spans 2 units, so one pixel is
``2 / resolution``. Videos are ``[N, T, H, W, 3]`` float32 in ``[0, 1]``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from vgen.data.pipeline import IndexedClipSource, as_typed_keys, clip_keys

__all__ = [
    "CLASS_NAMES",
    "COND_DIM",
    "NUM_CLASSES",
    "SPLITS",
    "DynamicsSource",
    "render_clips",
]

PATHS = ("linear", "sinusoidal", "hypocycloidal")
SPEEDS = ("constant", "accelerating", "bouncing")
# Label = 3 * path + speed for the 9 path/speed classes; label 9 is rotation.
CLASS_NAMES: tuple[str, ...] = tuple(f"{p}/{s}" for p in PATHS for s in SPEEDS) + ("rotation",)
NUM_CLASSES = len(CLASS_NAMES)
ROTATION_LABEL = NUM_CLASSES - 1
COND_DIM = 4  # (y, x, dy, dx): centre position and its per-frame velocity
SPLITS = ("train", "val", "test")

# Object size: "radius" as a fraction of the frame side (so 5-10 px at 64x64), every class;
# `object_size` of render_clips / DynamicsSource overrides it.
SIZE_RANGE = (0.08, 0.15)
# Accelerating paths: speed at the start as a fraction of the mean speed (the end is 2 - a).
_START_SPEED_RANGE = (0.35, 0.6)
# Rotation: angular speed in rad / frame.
_OMEGA_RANGE = (0.25, 0.45)
# The least motion of an object (see the module docstring): the path length, in frame sides,
# travelled over a clip (the shortest paths, accelerating ones shrunk into the box, travel
# ~0.23), and the least angular speed of a rotation.
MIN_PATH_SPEED = 0.2
MIN_OMEGA = _OMEGA_RANGE[0]
# The darker half of a two-tone object: its brightness factor.
_SHADE = 0.6
# Shapes: 0 disc, 1 square, 2 triangle. Circumradius of each shape in units of its size
# (the square's half-side is 0.85 * size, the triangle's circumradius 1.15 * size).
_SQUARE_HALF_SIDE = 0.85
_TRIANGLE_CIRCUMRADIUS = 1.15
_SHAPE_EXTENT = (1.0, _SQUARE_HALF_SIDE * math.sqrt(2.0), _TRIANGLE_CIRCUMRADIUS)


# ----------------------------------------------------------------------------- geometry


def _fold(u: jax.Array, limit: jax.Array) -> jax.Array:
    """Reflects ``u`` into ``[-limit, limit]`` (triangle wave): a bounce off the walls."""
    return limit - jnp.abs(jnp.mod(u + limit, 4.0 * limit) - 2.0 * limit)


def _unit(angle: jax.Array) -> jax.Array:
    """Unit vector ``(y, x)`` at ``angle``."""
    return jnp.stack([jnp.sin(angle), jnp.cos(angle)])


def _hypocycloid(theta: jax.Array, ratio: jax.Array) -> jax.Array:
    """Hypocycloid with outer radius 1 and ``R / r = ratio`` at angles ``theta`` [T] -> [T, 2]."""
    r = 1.0 / ratio
    k = (1.0 - r) / r
    x = (1.0 - r) * jnp.cos(theta) + r * jnp.cos(k * theta)
    y = (1.0 - r) * jnp.sin(theta) - r * jnp.sin(k * theta)
    return jnp.stack([y, x], axis=-1)


def _sdf(q: jax.Array, shape: jax.Array, size: jax.Array) -> jax.Array:
    """Signed distance of points ``q`` [..., 2] (object frame, (y, x)) to the shape's edge."""
    y, x = q[..., 0], q[..., 1]
    disc = jnp.sqrt(x * x + y * y) - size

    d = jnp.abs(q) - _SQUARE_HALF_SIDE * size
    outside = jnp.sqrt(jnp.sum(jnp.maximum(d, 0.0) ** 2, axis=-1))
    square = outside + jnp.minimum(jnp.max(d, axis=-1), 0.0)

    # Equilateral triangle pointing up (-y), half-side h (Inigo Quilez's exact SDF).
    h = _TRIANGLE_CIRCUMRADIUS * size * math.sqrt(3.0) / 2.0
    k = math.sqrt(3.0)
    px = jnp.abs(x) - h
    py = -y + h / k
    flip = px + k * py > 0.0
    px, py = (
        jnp.where(flip, (px - k * py) / 2.0, px),
        jnp.where(flip, (-k * px - py) / 2.0, py),
    )
    px = px - jnp.clip(px, -2.0 * h, 0.0)
    triangle = -jnp.sqrt(px * px + py * py) * jnp.sign(py)

    return jnp.select([shape == 0, shape == 1], [disc, square], triangle)


def _hsv_to_rgb(h: jax.Array, s: jax.Array, v: jax.Array) -> jax.Array:
    """Scalar HSV (all in [0, 1]) -> RGB [3]."""
    c = jnp.clip(jnp.abs(jnp.mod(h * 6.0 + jnp.array([0.0, 4.0, 2.0]), 6.0) - 3.0) - 1.0, 0, 1)
    return v * (1.0 - s + s * c)


class _Draws:
    """Hands out slices of one vector of U[0, 1) draws.

    One RNG call per clip instead of dozens keeps the XLA compile time low.
    """

    def __init__(self, key: jax.Array, n: int):
        self._u = jax.random.uniform(key, (n,))
        self._n, self._i = n, 0

    def _take(self, shape: tuple[int, ...]) -> jax.Array:
        size = math.prod(shape)
        if self._i + size > self._n:
            raise RuntimeError("_Draws: out of random numbers; raise n")
        u = self._u[self._i : self._i + size].reshape(shape)
        self._i += size
        return u

    def __call__(self, lo, hi, shape: tuple[int, ...] = ()) -> jax.Array:
        """Uniform in [lo, hi) (lo, hi broadcast against ``shape``)."""
        return lo + (hi - lo) * self._take(shape)

    def integer(self, n: int) -> jax.Array:
        """Uniform int32 in [0, n)."""
        return jnp.minimum(jnp.floor(self._take(()) * n), n - 1).astype(jnp.int32)

    def sign(self) -> jax.Array:
        """-1.0 or +1.0 with equal probability."""
        return jnp.where(self._take(()) < 0.5, -1.0, 1.0)


# ----------------------------------------------------------------------------- one clip


# Samples per frame interval of the finely drawn path that arc length is measured on.
_PATH_OVERSAMPLING = 16


def _trajectory(uniform: _Draws, label: jax.Array, limit: jax.Array, num_frames: int):
    """Centre positions [T, 2] inside ``[-limit, limit]^2`` and angles [T] of one clip.

    Speeds are speeds along the path (arc length per frame): each path is drawn finely as a
    curve of a parameter u in [0, 1], and frame t sits where the arc length travelled is
    s(t) times the path's length, s linear (constant, bouncing) or quadratic (accelerating).
    """
    t = jnp.arange(num_frames, dtype=jnp.float32)
    tau = t / (num_frames - 1)
    path, speed = label // 3, label % 3
    bouncing = speed == 2
    u = jnp.linspace(0.0, 1.0, _PATH_OVERSAMPLING * (num_frames - 1) + 1)

    # Fraction of the path travelled, s(tau) in [0, 1]: linear (constant, bouncing) or
    # quadratic (accelerating from a fraction a of the mean speed to 2 - a of it).
    a = uniform(*_START_SPEED_RANGE)
    s = jnp.where(speed == 1, tau * (a + (1.0 - a) * tau), tau)

    # Bouncing paths are longer than the box so they hit the walls.
    direction = _unit(uniform(0.0, 2.0 * math.pi))
    normal = jnp.stack([-direction[1], direction[0]])
    length = jnp.where(bouncing, uniform(1.6, 2.4), uniform(1.2, 2.0))
    linear = u[:, None] * length * direction

    drift = jnp.where(bouncing, uniform(1.6, 2.4), uniform(0.9, 1.4))
    amp, freq, phase = uniform(0.12, 0.25), uniform(1.0, 1.75), uniform(0.0, 2.0 * math.pi)
    wave = amp * (jnp.sin(2.0 * math.pi * freq * u + phase) - jnp.sin(phase))
    sinusoidal = u[:, None] * drift * direction + wave[:, None] * normal

    ratio = 3.0 + uniform.integer(3)  # R / r in {3, 4, 5}: 3-5 cusps
    theta0 = uniform(0.0, 2.0 * math.pi)
    sweep = uniform(1.0 * math.pi, 1.4 * math.pi) * uniform.sign()
    radius = jnp.where(bouncing, uniform(0.5, 0.7), uniform(0.35, 0.55))
    tilt = uniform(0.0, 2.0 * math.pi)
    rot = jnp.array([[jnp.cos(tilt), -jnp.sin(tilt)], [jnp.sin(tilt), jnp.cos(tilt)]])
    curve = _hypocycloid(theta0 + sweep * u, ratio) - _hypocycloid(theta0[None], ratio)
    # A drift along `direction` (longer when bouncing, to reach the walls) rounds the cusps,
    # where the object would otherwise turn back on itself between two frames.
    hypo_drift = jnp.where(bouncing, uniform(0.5, 0.9), uniform(0.35, 0.6))
    hypocycloidal = radius * curve @ rot.T + u[:, None] * hypo_drift * direction

    # The fine path [N, 2], starting at the origin, and the frames' points on it by arc length.
    fine = jnp.select([path == 0, path == 1], [linear, sinusoidal], hypocycloidal)
    step = jnp.linalg.norm(jnp.diff(fine, axis=0), axis=-1)
    arc = jnp.concatenate([jnp.zeros(1), jnp.cumsum(step)])
    at = jnp.interp(s * arc[-1], arc, u)
    raw = jnp.stack([jnp.interp(at, u, fine[:, i]) for i in range(2)], axis=-1)
    lo, hi = fine.min(axis=0), fine.max(axis=0)

    # Constant / accelerating: shrink the path (if needed) into the box, place it anywhere
    # it fits.
    scale = jnp.minimum(1.0, 2.0 * limit / jnp.max(hi - lo))
    start_fit = uniform(-limit - lo * scale, limit - hi * scale, (2,))
    fitted = start_fit + scale * raw

    # Bouncing: along the axis of largest extent, start so the unfolded path crosses the
    # wall at 25-75% of its excursion (a guaranteed bounce); the other axis is free.
    axis = jnp.argmax(hi - lo)
    up = hi[axis] >= -lo[axis]
    excursion = jnp.where(up, hi[axis], -lo[axis])
    overshoot = uniform(0.25, 0.75) * excursion
    start_axis = jnp.where(up, limit - hi[axis] + overshoot, -limit - lo[axis] - overshoot)
    start_bounce = uniform(-limit, limit, (2,)).at[axis].set(start_axis)
    bounced = _fold(start_bounce + raw, limit)

    # Rotation: fixed centre anywhere in the box (as the other classes' positions), constant
    # random angular speed (rad / frame).
    centre = uniform(-limit, limit, (2,))
    omega = uniform(*_OMEGA_RANGE) * uniform.sign()
    angle0 = uniform(0.0, 2.0 * math.pi)

    is_rotation = label == ROTATION_LABEL
    positions = jnp.where(bouncing, bounced, fitted)
    positions = jnp.where(is_rotation, jnp.broadcast_to(centre, positions.shape), positions)
    angles = angle0 + jnp.where(is_rotation, omega, 0.0) * t
    return positions, angles


def _render_clip(
    key: jax.Array,
    label: jax.Array,
    num_frames: int,
    resolution: int,
    object_size: tuple[float, float],
):
    """One clip: video [T, R, R, 3], cond [T, 4], object mask [T, R, R, 1] and background
    [R, R, 3]."""
    uniform = _Draws(key, 128)
    pixel = 2.0 / resolution

    # The same shapes and sizes for every class: one frame must not tell the class.
    shape = uniform.integer(3)
    size = 2.0 * uniform(*object_size)
    # Keep the whole object (plus a pixel of anti-aliasing) inside the frame.
    limit = 1.0 - size * jnp.array(_SHAPE_EXTENT)[shape] - 1.5 * pixel

    positions, angles = _trajectory(uniform, label, limit, num_frames)

    # Background: muted base colour + a few low-frequency coloured sinusoids.
    bg_hue = uniform(0.0, 1.0)
    base = _hsv_to_rgb(bg_hue, uniform(0.15, 0.45), uniform(0.3, 0.55))
    n_waves = 4
    wave_angle = uniform(0.0, 2.0 * math.pi, (n_waves,))
    wave_freq = uniform(0.4, 1.6, (n_waves,))
    wave_phase = uniform(0.0, 2.0 * math.pi, (n_waves,))
    wave_colour = uniform(-1.0, 1.0, (n_waves, 3))
    coords = (jnp.arange(resolution, dtype=jnp.float32) + 0.5) * pixel - 1.0
    grid = jnp.stack(jnp.meshgrid(coords, coords, indexing="ij"), axis=-1)  # [R, R, 2] (y, x)
    wave_vec = wave_freq[:, None] * jnp.stack([jnp.sin(wave_angle), jnp.cos(wave_angle)], -1)
    waves = jnp.sin(2.0 * math.pi * grid @ wave_vec.T + wave_phase)  # [R, R, K]
    background = jnp.clip(base + 0.08 * waves @ wave_colour, 0.0, 1.0)

    # Object: saturated bright colour with a hue far from the background's.
    obj_hue = jnp.mod(bg_hue + uniform(0.25, 0.75), 1.0)
    colour = _hsv_to_rgb(obj_hue, uniform(0.75, 1.0), uniform(0.85, 1.0))

    def frame(position, angle):
        c, s = jnp.cos(angle), jnp.sin(angle)
        d = grid - position
        # Rotate the pixel offsets by -angle into the object frame.
        q = jnp.stack([c * d[..., 0] - s * d[..., 1], s * d[..., 0] + c * d[..., 1]], -1)
        dist = _sdf(q, shape, size) / pixel  # in pixels
        alpha = jnp.clip(0.5 - dist, 0.0, 1.0)[..., None]
        rim = jnp.clip(dist + 2.0, 0.0, 1.0)[..., None]  # darker 1-2 px outline
        # Two-tone: the half beyond the object's own y axis is darker (shows the spin); the
        # edge between the halves is anti-aliased, so a small turn changes the frame too.
        shade = 1.0 - (1.0 - _SHADE) * jnp.clip(0.5 + q[..., 1:] / pixel, 0.0, 1.0)
        obj = colour * shade * (1.0 - 0.45 * rim)
        return alpha * obj + (1.0 - alpha) * background, alpha

    video, mask = jax.vmap(frame)(positions, angles)
    velocity = jnp.concatenate([jnp.zeros((1, 2)), jnp.diff(positions, axis=0)], axis=0)
    cond = jnp.concatenate([positions, velocity], axis=-1)
    f32 = jnp.float32
    return video.astype(f32), cond.astype(f32), mask.astype(f32), background.astype(f32)


@functools.partial(
    jax.jit, static_argnames=("num_frames", "resolution", "ground_truth", "object_size")
)
def render_clips(
    keys: jax.Array,
    labels: jax.Array,
    *,
    num_frames: int,
    resolution: int,
    ground_truth: bool = False,
    object_size: tuple[float, float] = SIZE_RANGE,
) -> dict[str, jax.Array]:
    """Renders one clip per (key, label).

    Args:
      keys: [N] typed PRNG keys or [N, 2] raw uint32 keys.
      labels: [N] int class labels in ``[0, NUM_CLASSES)``.
      num_frames: T (static).
      resolution: R, frame height and width (static).
      ground_truth: also return "mask" and "background" (static; XLA drops them otherwise).
      object_size: (min, max) of the object's "radius" as a fraction of the frame side,
        drawn uniformly per clip, the same for every class (static).

    Returns:
      ``{"video": [N, T, R, R, 3] float32 in [0, 1], "label": [N] int32,
      "cond": [N, T, 4] float32}``; cond is the object centre ``(y, x)`` in ``[-1, 1]``
      and its velocity ``(dy, dx)`` per frame (0 at the first frame). With ground_truth,
      also "mask" [N, T, R, R, 1], each pixel's object coverage in [0, 1] (anti-aliased at
      the edge), and "background" [N, T, R, R, 3], the clip without its object, so that
      ``video = mask * object + (1 - mask) * background``.
    """
    labels = jnp.asarray(labels, jnp.int32)
    object_size = _check_object_size(object_size)
    render = functools.partial(
        _render_clip, num_frames=num_frames, resolution=resolution, object_size=object_size
    )
    video, cond, mask, background = jax.vmap(render)(as_typed_keys(keys), labels)
    out = {"video": video, "label": labels, "cond": cond}
    if ground_truth:
        out["mask"] = mask
        out["background"] = jnp.broadcast_to(background[:, None], video.shape)
    return out


# ----------------------------------------------------------------------------- dataset


def _check_object_size(object_size) -> tuple[float, float]:
    """(min, max) radius as floats, 0 < min <= max <= 0.3 (a larger object cannot move)."""
    values = tuple(object_size)
    lo, hi = (float(v) for v in values) if len(values) == 2 else (0.0, 0.0)
    if not 0.0 < lo <= hi <= 0.3:
        raise ValueError(
            f"Dynamics object_size must be (min, max) with 0 < min <= max <= 0.3 (radius as a "
            f"fraction of the frame side), got {tuple(object_size)}"
        )
    return lo, hi


@functools.partial(jax.jit, static_argnames=("ground_truth", "static"))
def _clips_at(base_key, indices, *, static: tuple, ground_truth: bool = False):
    num_frames, resolution, object_size = static
    return render_clips(
        clip_keys(base_key, indices),
        indices % NUM_CLASSES,
        num_frames=num_frames,
        resolution=resolution,
        ground_truth=ground_truth,
        object_size=object_size,
    )


@functools.partial(jax.jit, static_argnames=("batch_size", "size", "static"))
def _random_clips(base_key, rng, *, batch_size: int, size: int, static: tuple):
    indices = jax.random.randint(rng, (batch_size,), 0, size, dtype=jnp.int32)
    return _clips_at(base_key, indices, static=static)


class DynamicsSource(IndexedClipSource):
    """Deterministic dataset: clip ``i`` of split ``s`` is a pure function of (seed, s, i).

    Index ``i`` in ``[0, per_class * NUM_CLASSES)`` has label ``i % NUM_CLASSES`` and key
    ``fold_in(fold_in(key(seed), split_id), i)`` with split ids train 0, val 1, test 2.
    `clips` / `eval_clips` with ``ground_truth=True`` add "mask" and "background".
    """

    PROVIDES_GROUND_TRUTH = True
    CLASS_NAMES = CLASS_NAMES  # the names of batch["label"] 0 .. NUM_CLASSES-1

    def __init__(
        self,
        *,
        seed: int,
        resolution: int = 64,
        num_frames: int = 20,
        train_per_class: int = 5000,
        val_per_class: int = 500,
        test_per_class: int = 500,
        object_size: tuple[float, float] = SIZE_RANGE,
    ):
        if int(resolution) < 16:
            raise ValueError(f"DynamicsSource: resolution must be >= 16, got {resolution}")
        if int(num_frames) < 2:
            raise ValueError(f"DynamicsSource: num_frames must be >= 2, got {num_frames}")
        per_class = {"train": train_per_class, "val": val_per_class, "test": test_per_class}
        for split, n in per_class.items():
            if int(n) < 1:
                raise ValueError(f"DynamicsSource: {split}_per_class must be >= 1, got {n}")
        sizes = {split: int(n) * NUM_CLASSES for split, n in per_class.items()}
        super().__init__(seed=seed, splits=SPLITS, sizes=sizes)
        self.resolution = int(resolution)
        self.num_frames = int(num_frames)
        self.object_size = _check_object_size(object_size)
        self._static = (self.num_frames, self.resolution, self.object_size)

    def _clips(
        self, split: str, indices: jax.Array, ground_truth: bool = False
    ) -> dict[str, jax.Array]:
        return _clips_at(
            self._base_keys[split], indices, static=self._static, ground_truth=ground_truth
        )

    def _random_clips(self, rng: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        return _random_clips(
            self._base_keys["train"],
            rng,
            batch_size=batch_size,
            size=self._sizes["train"],
            static=self._static,
        )
