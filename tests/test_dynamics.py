"""Tests of vgen.data.dynamics: the procedurally rendered Dynamics dataset."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vgen.data import dynamics
from vgen.data.dynamics import CLASS_NAMES, COND_DIM, NUM_CLASSES, DynamicsSource, render_clips

R, T = 32, 8
BOUNCING = [CLASS_NAMES.index(f"{p}/bouncing") for p in dynamics.PATHS]
ROTATION = CLASS_NAMES.index("rotation")


@pytest.fixture(scope="module")
def source():
    return DynamicsSource(
        seed=0, resolution=R, num_frames=T, train_per_class=50, val_per_class=5, test_per_class=5
    )


@pytest.fixture(scope="module")
def train20(source):
    return jax.device_get(source.clips("train", np.arange(20)))


@pytest.fixture(scope="module")
def long_clips():
    """40-frame clips: 3 of each bouncing class, then linear/constant, linear/accelerating."""
    src = DynamicsSource(seed=3, resolution=R, num_frames=40)
    idx = np.array([c + NUM_CLASSES * j for c in BOUNCING for j in range(3)] + [0, 10, 1, 11])
    return jax.device_get(src.clips("train", idx))


def test_class_names():
    assert NUM_CLASSES == len(CLASS_NAMES) == len(set(CLASS_NAMES)) == 10
    assert CLASS_NAMES[0] == "linear/constant" and CLASS_NAMES[-1] == "rotation"
    assert COND_DIM == 4


def test_shapes_dtypes_and_range(source, train20):
    video, label, cond = train20["video"], train20["label"], train20["cond"]
    chex.assert_shape(video, (20, T, R, R, 3))
    chex.assert_shape(label, (20,))
    chex.assert_shape(cond, (20, T, COND_DIM))
    assert video.dtype == np.float32 and cond.dtype == np.float32 and label.dtype == np.int32
    assert np.isfinite(video).all() and np.isfinite(cond).all()
    assert video.min() >= 0.0 and video.max() <= 1.0
    np.testing.assert_array_equal(label, np.arange(20) % NUM_CLASSES)
    assert source.split_size("train") == 500
    assert source.split_size("val") == source.split_size("test") == 50


def test_render_clips_accepts_typed_and_raw_keys():
    raw = jax.random.split(jax.random.PRNGKey(0), 4)
    labels = jnp.array([0, 4, 8, 9], jnp.int32)
    a = render_clips(raw, labels, num_frames=T, resolution=R)
    b = render_clips(jax.random.wrap_key_data(raw), labels, num_frames=T, resolution=R)
    chex.assert_trees_all_equal(a, b)
    chex.assert_shape(a["video"], (4, T, R, R, 3))


def test_deterministic(source, train20):
    again = DynamicsSource(
        seed=0, resolution=R, num_frames=T, train_per_class=50, val_per_class=5, test_per_class=5
    )
    chex.assert_trees_all_equal(jax.device_get(again.clips("train", np.arange(20))), train20)
    # A clip does not depend on which other clips are in the batch, to the last bit but one: on
    # an AVX2 host XLA:CPU vectorises a batch of 2 and one of 20 differently (1-ulp differences,
    # at most 9e-8; bit-equal on AVX-512 hosts).
    picked = jax.device_get(source.clips("train", np.array([7, 3])))
    np.testing.assert_allclose(picked["video"], train20["video"][[7, 3]], rtol=1e-6, atol=1e-7)
    # Different index (same class) or different seed -> different clip.
    other = jax.device_get(source.clips("train", np.arange(10, 30)))
    assert not np.allclose(other["video"], train20["video"])
    reseeded = DynamicsSource(seed=1, resolution=R, num_frames=T, train_per_class=50)
    other_seed = jax.device_get(reseeded.clips("train", np.arange(20)))
    for i in range(20):
        assert not np.allclose(other_seed["video"][i], train20["video"][i])


def test_splits_are_disjoint(source, train20):
    test = jax.device_get(source.clips("test", np.arange(20)))
    val = jax.device_get(source.clips("val", np.arange(20)))
    np.testing.assert_array_equal(test["label"], train20["label"])
    for i in range(20):
        assert not np.allclose(test["video"][i], train20["video"][i])
        assert not np.allclose(val["video"][i], train20["video"][i])
        assert not np.allclose(val["video"][i], test["video"][i])


def test_eval_clips_fixed_and_balanced(source):
    a = jax.device_get(source.eval_clips(20))
    b = jax.device_get(source.eval_clips(20))
    chex.assert_trees_all_equal(a, b)
    chex.assert_trees_all_equal(a, jax.device_get(source.clips("test", np.arange(20))))
    np.testing.assert_array_equal(np.bincount(a["label"], minlength=NUM_CLASSES), 2)
    val = jax.device_get(source.eval_clips(20, split="val"))
    assert not np.allclose(val["video"], a["video"])


def test_cond_is_position_and_velocity(train20):
    pos, vel = train20["cond"][..., :2], train20["cond"][..., 2:]
    # The whole object stays inside: centre at least the smallest radius from the border.
    assert np.abs(pos).max() <= 1.0 - 2 * dynamics.SIZE_RANGE[0]
    np.testing.assert_array_equal(vel[:, 0], 0.0)
    np.testing.assert_allclose(vel[:, 1:], np.diff(pos, axis=1), atol=1e-6)


def test_objects_move(train20):
    video, cond, label = train20["video"], train20["cond"], train20["label"]
    frame_diff = np.abs(np.diff(video, axis=1)).mean(axis=(2, 3, 4))  # [N, T-1]
    moving = label != ROTATION
    assert (frame_diff[moving] > 0).all()
    # Visible motion: the centre travels several pixels over the clip.
    travel = np.linalg.norm(cond[:, 1:, 2:], axis=-1).sum(axis=1) * R / 2
    assert (travel[moving] > 3.0).all(), travel


def test_rotation_spins_in_place(train20):
    rot = train20["label"] == ROTATION
    cond, video = train20["cond"][rot], train20["video"][rot]
    np.testing.assert_array_equal(cond[..., 2:], 0.0)
    np.testing.assert_array_equal(cond[:, 1:, :2], cond[:, :-1, :2])
    assert (np.abs(np.diff(video, axis=1)).mean(axis=(2, 3, 4)) > 0).all()


def test_bouncing_reverses_and_stays_inside(long_clips):
    vel = long_clips["cond"][..., 2:]  # [N, 40, 2]
    pos = long_clips["cond"][..., :2]
    assert np.abs(pos).max() <= 1.0 - 2 * dynamics.SIZE_RANGE[0]
    # Sign flips of a velocity component between consecutive frames (ignoring rounding).
    flips = (vel[:, 1:-1] * vel[:, 2:] < -1e-8).any(axis=(1, 2))
    n_bounce = 3 * len(BOUNCING)
    assert flips[:n_bounce].all()
    # Linear without bouncing never reverses; constant speed is constant, accelerating grows.
    assert not flips[n_bounce:].any()
    speed = np.linalg.norm(vel[:, 1:], axis=-1)
    const, accel = speed[n_bounce : n_bounce + 2], speed[n_bounce + 2 :]
    np.testing.assert_allclose(const, const[:, :1] * np.ones_like(const), rtol=1e-3, atol=1e-6)
    assert (np.diff(accel, axis=1) > 0).all()


def test_train_batch(source):
    rng = jax.random.key(42)
    a = jax.device_get(source.train_batch(rng, 6))
    chex.assert_shape(a["video"], (6, T, R, R, 3))
    chex.assert_shape(a["cond"], (6, T, COND_DIM))
    assert ((a["label"] >= 0) & (a["label"] < NUM_CLASSES)).all()
    chex.assert_trees_all_equal(a, jax.device_get(source.train_batch(rng, 6)))
    jitted = jax.jit(lambda r: source.train_batch(r, 6))
    chex.assert_trees_all_close(a, jax.device_get(jitted(rng)), atol=1e-6)
    b = jax.device_get(source.train_batch(jax.random.key(43), 6))
    assert not np.allclose(a["video"], b["video"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(resolution=15), "resolution"),
        (dict(num_frames=1), "num_frames"),
        (dict(train_per_class=0), "train_per_class"),
        (dict(val_per_class=0), "val_per_class"),
        (dict(test_per_class=-1), "test_per_class"),
        (dict(object_size=(0.0, 0.1)), "object_size"),
        (dict(object_size=(0.2, 0.1)), "object_size"),
        (dict(object_size=(0.2, 0.4)), "object_size"),
        (dict(object_size=(0.1,)), "object_size"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DynamicsSource(seed=0, **kwargs)


def test_bad_call_arguments(source):
    with pytest.raises(ValueError, match="split"):
        source.clips("training", np.arange(2))
    with pytest.raises(ValueError, match="split"):
        source.split_size("foo")
    with pytest.raises(ValueError, match=r"\[0, 500\)"):
        source.clips("train", np.array([0, 500]))
    with pytest.raises(ValueError, match=r"\[0, 50\)"):
        source.clips("test", np.array([-1]))
    with pytest.raises(ValueError, match="1-D integer"):
        source.clips("train", np.zeros((2, 2), np.int32))
    with pytest.raises(ValueError, match="1-D integer"):
        source.clips("train", np.array([0.5]))
    with pytest.raises(ValueError, match="num_clips"):
        source.eval_clips(0)
    with pytest.raises(ValueError, match="num_clips"):
        source.eval_clips(51)
    with pytest.raises(ValueError, match="batch_size"):
        source.train_batch(jax.random.key(0), 0)


# ----------------------------------------------------------------------------- ground truth


def test_ground_truth_composes_the_video(source, train20):
    gt = jax.device_get(source.clips("train", np.arange(20), ground_truth=True))
    for key in ("video", "label", "cond"):  # asking for it changes nothing else
        np.testing.assert_array_equal(gt[key], train20[key])
    video, mask, background = gt["video"], gt["mask"], gt["background"]
    chex.assert_shape(mask, (20, T, R, R, 1))
    chex.assert_shape(background, (20, T, R, R, 3))
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    np.testing.assert_array_equal(background, np.broadcast_to(background[:, :1], background.shape))
    # Outside the object the frame is exactly the background; where the object covers a pixel
    # fully it differs from it (objects are bright and saturated, backgrounds muted).
    outside = np.broadcast_to(mask == 0, video.shape)
    np.testing.assert_array_equal(video[outside], background[outside])
    inside = mask[..., 0] == 1
    assert (np.abs(video - background).max(-1)[inside] > 0.1).all()
    # The coverage's centroid is the object centre of `cond` (discs, squares and equilateral
    # triangles have their centroid at their centre), in pixels, up to the anti-aliasing
    # (coverage from the distance to the edge, not the exact area).
    yy, xx = np.mgrid[:R, :R]
    m = mask[..., 0]
    centroid = np.stack([(m * yy).sum((2, 3)), (m * xx).sum((2, 3))], -1) / m.sum((2, 3))[..., None]
    centre = (gt["cond"][..., :2] + 1.0) * R / 2 - 0.5
    np.testing.assert_allclose(centroid, centre, atol=0.1)


def test_object_size_sets_the_object_area_and_nothing_else():
    keys = jax.random.split(jax.random.key(3), 40)
    labels = jnp.arange(40) % NUM_CLASSES
    render = functools.partial(render_clips, keys, labels, num_frames=T, resolution=R)
    default = jax.device_get(render(ground_truth=True))
    chex.assert_trees_all_equal(
        default, jax.device_get(render(ground_truth=True, object_size=dynamics.SIZE_RANGE))
    )
    big = jax.device_get(render(ground_truth=True, object_size=(0.2, 0.25)))
    np.testing.assert_array_equal(big["background"], default["background"])
    # Coverage of a disc of radius r (a fraction of the frame side) is about pi (r R)^2 pixels
    # (squares and triangles are larger and smaller); every clip's object is bigger.
    area = lambda clips: clips["mask"][:, 0].sum((1, 2, 3))
    lo, hi = np.pi * (0.2 * R) ** 2 * 0.5, np.pi * (0.25 * R) ** 2 * 1.1
    assert (area(big) > lo).all() and (area(big) < hi).all(), area(big)
    assert (area(big) > area(default)).all()
    # The centre stays far enough from the border for the whole object to fit.
    assert np.abs(big["cond"][..., :2]).max() <= 1.0 - 2 * 0.2


def test_ground_truth_is_refused_by_sources_without_it():
    from vgen.data.moving_mnist import MovingMNISTSource

    assert not MovingMNISTSource.PROVIDES_GROUND_TRUTH
    assert DynamicsSource.PROVIDES_GROUND_TRUTH


# ----------------------------------------------------------------------------- thesis 5.2


def test_objects_always_move_at_least_the_stated_minimum():
    """Translating objects travel >= MIN_PATH_SPEED frame sides along their path over the clip,
    at every frame (arc length, measured on the same clips rendered 8x finer in time);
    rotations turn at least MIN_OMEGA rad per frame, and every frame differs from the last."""
    n, fine = 400, 8
    keys = jax.random.split(jax.random.key(7), n)
    labels = jnp.arange(n) % NUM_CLASSES
    clips = jax.device_get(render_clips(keys, labels, num_frames=T, resolution=R))
    finer = render_clips(keys, labels, num_frames=(T - 1) * fine + 1, resolution=R)
    pos = np.asarray(finer["cond"][..., :2])
    np.testing.assert_allclose(pos[:, ::fine], clips["cond"][..., :2], atol=1e-3)  # same paths
    arc = np.linalg.norm(np.diff(pos, axis=1), axis=-1).reshape(n, T - 1, fine).sum(-1)
    per_clip = arc * (T - 1) / 2.0  # frame sides per clip length, at each frame
    moving = np.asarray(labels) != ROTATION
    assert per_clip[moving].min() >= dynamics.MIN_PATH_SPEED, per_clip[moving].min()
    # At 32x32 and 8 frames: at least 0.9 pixels per frame (the thesis-era bug: ~0.1).
    assert (arc[moving] * R / 2).min() >= 0.9
    changed = (np.abs(np.diff(clips["video"], axis=1)).max(-1) > 0.05).sum((2, 3))
    assert changed.min() >= 1, changed.min()
    # Rotation: the object's two halves turn; the darker half's edge passes over pixels.
    assert dynamics.MIN_OMEGA >= 0.25
    assert changed[~moving].min() >= 2


def _single_frame_features(video):
    """Per clip, one random frame's pixels at 8x8 and its object's position, size and shape
    statistics (the object found by colour: bright and saturated) -> [N, F]."""
    n = video.shape[0]
    t = np.random.default_rng(0).integers(0, video.shape[1], n)
    f = video[np.arange(n), t]
    small = f.reshape(n, 8, R // 8, 8, R // 8, 3).mean((2, 4)).reshape(n, -1)
    hi, lo = f.max(-1), f.min(-1)
    m = ((hi > 0.7) & ((hi - lo) / np.maximum(hi, 1e-6) > 0.6)).astype(np.float32)
    area = np.maximum(m.sum((1, 2)), 1.0)
    yy, xx = np.mgrid[:R, :R]
    cy, cx = (m * yy).sum((1, 2)) / area, (m * xx).sum((1, 2)) / area
    vy = (m * (yy - cy[:, None, None]) ** 2).sum((1, 2)) / area
    vx = (m * (xx - cx[:, None, None]) ** 2).sum((1, 2)) / area
    h, w = m.any(2).sum(1), m.any(1).sum(1)
    fill = area / np.maximum(h * w, 1)
    r = np.hypot(cy - R / 2, cx - R / 2)
    colour = (f * m[..., None]).sum((1, 2)) / area[:, None]
    stats = [cy, cx, r, r**2, np.abs(cy - R / 2), np.abs(cx - R / 2), area, np.sqrt(area)]
    stats += [fill, vy, vx, h, w]
    return np.concatenate([small, np.stack(stats, -1), colour], -1)


def _one_vs_rest_auc(x_train, y_train, x_test, y_test, num_classes):
    """Per class, the test AUC of a class-balanced logistic regression of class vs rest."""
    import optax

    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = jnp.asarray((x_train - mu) / sd), (x_test - mu) / sd
    opt = optax.adam(0.05)

    def fit(target):
        weight = jnp.where(target > 0, 0.5 / target.mean(), 0.5 / (1 - target.mean()))

        def loss(p):
            logits = x_train @ p[0] + p[1]
            nll = optax.sigmoid_binary_cross_entropy(logits, target) * weight
            return nll.mean() + 1e-3 * jnp.sum(p[0] ** 2)

        def step(carry, _):
            p, s = carry
            updates, s = opt.update(jax.grad(loss)(p), s)
            return (optax.apply_updates(p, updates), s), None

        p = (jnp.zeros(x_train.shape[1]), jnp.zeros(()))
        (p, _), _ = jax.lax.scan(step, (p, opt.init(p)), None, length=400)
        return p

    aucs = []
    for k in range(num_classes):
        w, b = fit(jnp.asarray(y_train == k, jnp.float32))
        score, positive = np.asarray(x_test @ w + b), y_test == k
        ranks = np.argsort(np.argsort(score))
        aucs.append((ranks[positive].mean() - (positive.sum() - 1) / 2) / (~positive).sum())
    return np.array(aucs)


def test_a_single_frame_does_not_give_the_class_away():
    """Thesis 5.2: a snapshot holds no class information. A linear classifier on one frame's
    pixels and its object's position, size, shape and colour separates no class from the rest
    (one-vs-rest test AUC < 0.62; 0.5 is chance, and the old renderer, whose rotations were
    larger, never discs and near the centre, scored 0.69 for rotation)."""
    n = 6000
    labels = np.arange(n) % NUM_CLASSES
    keys = jax.random.split(jax.random.key(11), n)
    video = np.asarray(render_clips(keys, jnp.asarray(labels), num_frames=T, resolution=R)["video"])
    x = _single_frame_features(video)
    half = n // 2
    aucs = _one_vs_rest_auc(x[:half], labels[:half], x[half:], labels[half:], NUM_CLASSES)
    assert aucs.max() < 0.62, dict(zip(CLASS_NAMES, aucs.round(3), strict=True))


def test_config_default_object_size_is_the_renderers():
    from vgen.data import DEFAULTS

    assert tuple(DEFAULTS["dynamics"]["object_size"]) == dynamics.SIZE_RANGE
