"""Datasets. `make_source(config)` returns the source named by `config.data.name`.

A source has `train_batch(rng, batch_size) -> batch` (random training clips) and
`eval_clips(num_clips, split) -> batch` (a fixed, seeded set), where a batch is a dict with
"video" [B, T, H, W, C] float32 in [0, 1], T = data.context_frames + data.predict_frames, and
optionally "label" [B] and "cond" [B, T, D].

Each source declares its options with their defaults in DEFAULTS; a config declares them all
with `config_lib.set_data(config, name, ...)`, so every option is overridable everywhere.
"""

from collections.abc import Callable
from typing import Any

import ml_collections

from vgen.errors import ConfigError


def _bair(config: ml_collections.ConfigDict) -> Any:
    from vgen.data.bair import BAIRSource

    return BAIRSource(config)


def _dynamics(config: ml_collections.ConfigDict) -> Any:
    from vgen.data.dynamics import DynamicsSource

    d = config.data
    try:
        return DynamicsSource(
            seed=d.seed,
            resolution=d.resolution,
            num_frames=d.context_frames + d.predict_frames,
            train_per_class=d.train_per_class,
            val_per_class=d.val_per_class,
            test_per_class=d.test_per_class,
            object_size=tuple(d.object_size),
        )
    except ValueError as e:  # a bad data.* option: reported in one line
        raise ConfigError(f"config.data: {e}") from e


def _kth(config: ml_collections.ConfigDict) -> Any:
    from vgen.data.kth import KTHSource

    return KTHSource(config)


def _moving_mnist(config: ml_collections.ConfigDict) -> Any:
    from vgen.data.moving_mnist import MovingMNISTSource, load_mnist_digits

    d = config.data
    train_x, train_y, test_x, test_y = load_mnist_digits(
        data_dir=d.data_dir or None, npz_path=d.mnist_npz or None
    )
    return MovingMNISTSource(
        seed=d.seed,
        digits=train_x,
        labels=train_y,
        test_digits=test_x,
        test_labels=test_y,
        stochastic=d.stochastic,
        num_digits=d.num_digits,
        num_frames=d.context_frames + d.predict_frames,
        resolution=d.resolution,
    )


def _mnist(config: ml_collections.ConfigDict) -> Any:
    from vgen.data.mnist import make_mnist_source

    return make_mnist_source(config)


# The one place where dataset names map to their sources.
SOURCES: dict[str, Callable[[ml_collections.ConfigDict], Any]] = {
    "bair": _bair,  # bair_robot_pushing_small (TFDS, array_record) in data.data_dir
    "dynamics": _dynamics,
    "kth": _kth,
    "mnist": _mnist,  # MNIST digits as still clips + class labels (image models: ALI)
    "moving_mnist": _moving_mnist,  # data.stochastic: Stochastic Moving MNIST (Denton & Fergus)
}


# The options of each source beyond the common data fields, with their defaults. `seed` fixes
# the clips (rendered, shuffled or cut from episodes) of every split; it is not `config.seed`,
# so that runs with different training seeds train and are scored on the same data.
DEFAULTS: dict[str, dict[str, Any]] = {
    "bair": dict(seed=0, val_episodes=256, num_workers=8),  # val: the last val_episodes of train
    # The thesis's split sizes (5.2): 5,000 / 500 / 500 clips per class; object_size: the
    # (min, max) object radius as a fraction of the frame side.
    "dynamics": dict(
        seed=0,
        train_per_class=5000,
        val_per_class=500,
        test_per_class=500,
        object_size=(0.08, 0.15),
    ),
    # person_split "svg": train persons 1-20, test 21-25; "mcnet": 1-16 / 17-25. test_clips
    # "seeded" (drawn from data.seed) or "srvp" (SRVP's fixed test clips, kth.srvp_test_draw).
    "kth": dict(
        seed=0, person_split="svg", val_videos_per_action=4, test_clips="seeded", num_workers=8
    ),
    "mnist": dict(seed=0, mnist_npz=""),
    "moving_mnist": dict(seed=0, stochastic=False, num_digits=2, mnist_npz=""),
}


def source_defaults(name: str) -> dict[str, Any]:
    """The options (and their defaults) of the source `name`; unknown names raise."""
    if name not in SOURCES:
        raise ConfigError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(SOURCES))}")
    return dict(DEFAULTS[name])


def make_source(config: ml_collections.ConfigDict) -> Any:
    """The data source of `config.data.name`; unknown names raise ConfigError."""
    name = config.data.name
    missing = [k for k in source_defaults(name) if k not in config.data]
    if missing:
        raise ConfigError(
            f"config.data lacks {', '.join(missing)} of dataset {name!r}; declare them with "
            f"config_lib.set_data(config, {name!r}, ...)"
        )
    return SOURCES[name](config)
