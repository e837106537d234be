"""Shared pieces of the experiment configs: common fields, variant parsing, validation."""

import importlib.util
import os
from typing import Any

import ml_collections

from vgen.errors import ConfigError


def parse_arg(arg: str | None, **defaults: Any) -> ml_collections.ConfigDict:
    """Parses a config argument like "tiny" or "tiny,res=32" into typed fields.

    A bare word sets a boolean default to True; key=value casts to the default's type.
    """
    out = ml_collections.ConfigDict(dict(defaults))
    for part in filter(None, (arg or "").split(",")):
        key, _, value = part.partition("=")
        if key not in defaults:
            raise ConfigError(f"unknown config variant {key!r}; known: {', '.join(defaults)}")
        default = defaults[key]
        if not value:
            out[key] = True
        elif isinstance(default, bool):
            out[key] = value.lower() in ("1", "true", "yes")
        else:
            out[key] = type(default)(value)
    return out


def load_config_file(path: str, arg: str | None = None) -> ml_collections.ConfigDict:
    """`get_config(arg)` of a config file, as `--config=path:arg` would give it."""
    if not os.path.isfile(path):
        raise ConfigError(f"no config file at {path}")
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(f"vgen_config_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


def common_config() -> ml_collections.ConfigDict:
    """The fields every config has; experiment configs fill in and add to them."""
    c = ml_collections.ConfigDict()
    c.method = ""
    c.seed = 0

    c.data = ml_collections.ConfigDict()
    c.data.name = ""
    c.data.data_dir = ""  # where user-prepared datasets live (TFDS data_dir)
    c.data.resolution = 64
    c.data.context_frames = 2
    c.data.predict_frames = 8

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 1000
    c.train.batch_size = 16
    c.train.checkpoint_every = 500
    c.train.keep_checkpoints = 3
    c.train.log_every = 50  # also runs the method's eval_step on validation clips
    c.train.sample_every = 500
    c.train.prefetch = 2  # batches prepared ahead on a background thread

    c.eval = ml_collections.ConfigDict()
    c.eval.num_samples = 10  # N samples per clip
    c.eval.num_clips = 64  # fixed, seeded evaluation clips
    c.eval.predict_frames = 0  # frames predicted when scoring; 0: data.predict_frames
    c.eval.batch_size = 16  # clips per evaluation chunk
    c.eval.sample_chunk = 10  # samples drawn at once (vmapped) per chunk
    c.eval.split = "test"
    return c


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def validate(config: ml_collections.ConfigDict) -> None:
    """Checks the common fields; raises ConfigError naming the field and the allowed range."""
    for field in ("method", "seed", "data", "train", "eval"):
        _require(field in config, f"config has no field {field!r}")
    _require(bool(config.method), "config.method is empty")
    _require(bool(config.data.name), "config.data.name is empty")
    d, t, e = config.data, config.train, config.eval
    _require(d.resolution >= 16, f"data.resolution must be >= 16, got {d.resolution}")
    _require(d.context_frames >= 1, f"data.context_frames must be >= 1, got {d.context_frames}")
    _require(d.predict_frames >= 1, f"data.predict_frames must be >= 1, got {d.predict_frames}")
    _require(t.num_steps >= 0, f"train.num_steps must be >= 0, got {t.num_steps}")
    _require(t.batch_size >= 1, f"train.batch_size must be >= 1, got {t.batch_size}")
    for name in ("checkpoint_every", "keep_checkpoints", "log_every", "sample_every", "prefetch"):
        _require(t[name] >= 1, f"train.{name} must be >= 1, got {t[name]}")
    for name in ("num_samples", "num_clips", "batch_size", "sample_chunk"):
        _require(e[name] >= 1, f"eval.{name} must be >= 1, got {e[name]}")
    _require(e.predict_frames >= 0, f"eval.predict_frames must be >= 0, got {e.predict_frames}")
    _require(e.split in ("val", "test"), f"eval.split must be 'val' or 'test', got {e.split!r}")
