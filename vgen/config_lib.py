"""Shared pieces of the experiment configs: common fields, variants, data and optimiser
settings, `:tiny` shrinking, declarative checks, and command-line flag errors."""

import copy
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ml_collections

from vgen.errors import ConfigError

# ----------------------------------------------------------------------------- variants and files


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


def config_path(name: str) -> str:
    """The installed config file `name` ("quickstart.py", or with its argument "quickstart.py:tiny")
    as a `--config=` value: the top-level configs/ ship in the package as `vgen.configs`."""
    import vgen.configs

    file, sep, arg = name.partition(":")
    path = os.path.join(os.path.dirname(os.path.abspath(vgen.configs.__file__)), file)
    if not os.path.isfile(path):
        raise ConfigError(f"no config {file!r} in vgen.configs ({os.path.dirname(path)})")
    return path + sep + arg


# ----------------------------------------------------------------------------- building configs


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

    # One optimiser per network, by the network's name: optim.<name>.{kind, lr, ...}.
    c.optim = ml_collections.ConfigDict()

    c.eval = ml_collections.ConfigDict()
    c.eval.evaluators = ("prediction",)  # vgen.evaluators.EVALUATORS, run by --mode eval
    c.eval.num_samples = 10  # N samples per clip
    c.eval.num_clips = 64  # fixed, seeded evaluation clips
    c.eval.predict_frames = 0  # frames predicted when scoring; 0: data.predict_frames
    c.eval.batch_size = 16  # clips per evaluation chunk
    c.eval.sample_chunk = 10  # samples drawn at once (vmapped) per chunk
    c.eval.split = "test"
    # Object-aware scores (sources with object masks: Dynamics), vgen.evaluators.object_scores:
    # the object region is the object's pixels grown by object_dilation pixels, which takes
    # in its anti-aliased edge and dark rim and lets a 1-2 pixel misplacement still overlap;
    # a predicted pixel is "object" where it differs from the background by > object_threshold
    # (the objects are saturated and bright against a muted background: >= ~0.3).
    c.eval.object_dilation = 2
    c.eval.object_threshold = 0.15
    # Perceptual scores (vgen.lpips, vgen.fvd), off by default: LPIPS per predicted step with
    # this network ("alexnet", the published one, or "vgg16"; "": off), and FVD of the best,
    # a random and each baseline's set of whole clips (I3D: ~1-2 s per clip on a CPU core).
    c.eval.lpips = ""
    # PSNR of colour frames: the channels' errors pooled (False) or each channel's PSNR averaged
    # (True, the SVG and SRVP evaluations); the same on grayscale.
    c.eval.psnr_per_channel = False
    c.eval.fvd = False
    # A trained classifier's run (configs/classifier_dynamics.py): the prediction evaluator then
    # also reports how often it recovers the true motion class from predicted clips.
    c.eval.classifier_workdir = ""
    c.eval.fvd_window = 16  # frames per I3D input (vgen.fvd.windows); 0: whole clips (SRVP)
    return c


def fill_missing(config: ml_collections.ConfigDict, defaults: ml_collections.ConfigDict) -> None:
    """Adds to `config`, in place and recursively, the fields of `defaults` it lacks."""
    for key, value in defaults.items():
        if key not in config:
            config[key] = copy.deepcopy(value)
        elif isinstance(value, ml_collections.ConfigDict) and isinstance(
            config[key], ml_collections.ConfigDict
        ):
            fill_missing(config[key], value)


def set_data(config: ml_collections.ConfigDict, name: str, **fields: Any) -> None:
    """Names the dataset, declares every option of its source (with the source's defaults, so
    each is overridable on the command line) and sets `fields`, each of which must exist."""
    from vgen.data import source_defaults  # the data package does not import config_lib

    config.data.name = name
    for key, value in source_defaults(name).items():
        if key not in config.data:
            config.data[key] = value
    update(config.data, "data", fields)


def optimizer(kind: str = "adam", lr: float = 1e-3, **fields: float) -> ml_collections.ConfigDict:
    """The settings of one network's optimiser (see `vgen.optim`): adam (b1, b2) or
    rmsprop (decay)."""
    defaults = {"adam": dict(b1=0.9, b2=0.999), "rmsprop": dict(decay=0.9)}
    if kind not in defaults:
        raise ConfigError(f"unknown optimizer kind {kind!r}; known: {', '.join(defaults)}")
    out = ml_collections.ConfigDict(dict(kind=kind, lr=lr, **defaults[kind]))
    update(out, f"{kind} optimizer", fields)
    return out


def update(node: ml_collections.ConfigDict, where: str, fields: dict[str, Any]) -> None:
    """Sets existing fields only: a misspelt name is a ConfigError, not a new field."""
    for key, value in fields.items():
        if key not in node:
            raise ConfigError(f"no field {key!r} in {where}")
        node[key] = value


# Loop and evaluation settings of every `:tiny` variant: a few steps that touch every code path
# (checkpoint, validation, samples, resume) in seconds.
TINY = {
    "train": dict(
        num_steps=4, batch_size=4, checkpoint_every=2, log_every=2, sample_every=2, prefetch=2
    ),
    "eval": dict(num_clips=4, num_samples=3, batch_size=2, sample_chunk=2),
}


def shrink(config: ml_collections.ConfigDict, **sections: dict[str, Any]) -> None:
    """Turns `config` into its `:tiny` variant: TINY's loop settings, then `sections`, e.g.
    shrink(config, data=dict(resolution=16), model=dict(channels=4))."""
    for section, fields in TINY.items():
        update(config[section], section, fields)
    for section, fields in sections.items():
        update(config[section], section, fields)


# ----------------------------------------------------------------------------- checks

Check = Callable[[ml_collections.ConfigDict], None]


def _get(config: ml_collections.ConfigDict, path: str) -> Any:
    node = config
    for key in path.split("."):
        if key not in node:
            raise ConfigError(f"config has no field {path!r}")
        node = node[key]
    return node


def _check(test: Callable[[Any], bool], rule: str, paths: Sequence[str]) -> Check:
    def check(config: ml_collections.ConfigDict) -> None:
        for path in paths:
            value = _get(config, path)
            if not test(value):
                raise ConfigError(f"{path} must be {rule}, got {value!r}")

    return check


def require_positive(*paths: str) -> Check:
    """Each field > 0."""
    return _check(lambda v: v > 0, "> 0", paths)


def require_at_least(minimum: float, *paths: str) -> Check:
    """Each field >= minimum."""
    return _check(lambda v: v >= minimum, f">= {minimum}", paths)


def require_range(low: float, high: float, *paths: str) -> Check:
    """Each field in [low, high)."""
    return _check(lambda v: low <= v < high, f"in [{low}, {high})", paths)


def require_choice(path: str, choices: Iterable[Any]) -> Check:
    """The field is one of `choices`."""
    choices = tuple(choices)
    rule = "one of " + ", ".join(repr(c) for c in choices)
    return _check(lambda v: v in choices, rule, (path,))


def require_power_of_two(path: str, minimum: int = 1) -> Check:
    """The field is a power of two >= minimum."""
    ok = lambda v: v >= minimum and v & (v - 1) == 0
    return _check(ok, f"a power of two >= {minimum}", (path,))


def require(test: Callable[[ml_collections.ConfigDict], bool], message: str) -> Check:
    """A check across fields: `test(config)` must hold, else ConfigError(message)."""

    def check(config: ml_collections.ConfigDict) -> None:
        if not test(config):
            raise ConfigError(message)

    return check


def _lpips_min_size(net: str) -> int:
    from vgen.lpips import MIN_SIZE  # the networks are imported only when LPIPS is asked for

    return MIN_SIZE[net]


def _optimizers_valid(config: ml_collections.ConfigDict) -> None:
    for name, spec in config.optim.items():
        where = f"optim.{name}"
        require_choice(f"{where}.kind", ("adam", "rmsprop"))(config)
        require_positive(f"{where}.lr")(config)
        keys = ("b1", "b2") if spec.kind == "adam" else ("decay",)
        require_range(0.0, 1.0, *(f"{where}.{k}" for k in keys))(config)


COMMON_CHECKS: tuple[Check, ...] = (
    require(lambda c: bool(c.method), "config.method is empty"),
    require(lambda c: bool(c.data.name), "config.data.name is empty"),
    require_at_least(16, "data.resolution"),
    require_at_least(1, "data.context_frames", "data.predict_frames"),
    require_at_least(0, "train.num_steps", "eval.predict_frames"),
    require_at_least(
        1,
        *(f"train.{k}" for k in ("batch_size", "checkpoint_every", "keep_checkpoints")),
        *(f"train.{k}" for k in ("log_every", "sample_every", "prefetch")),
        *(f"eval.{k}" for k in ("num_samples", "num_clips", "batch_size", "sample_chunk")),
    ),
    require_choice("eval.split", ("val", "test")),
    require_at_least(0, "eval.object_dilation"),
    require_choice("eval.lpips", ("", "alexnet", "vgg16")),
    require(
        lambda c: not c.eval.lpips or c.data.resolution >= _lpips_min_size(c.eval.lpips),
        "eval.lpips: frames too small for its network (alexnet needs data.resolution >= 31, "
        "vgg16 >= 16); use another network or eval.lpips=''",
    ),
    require_choice("eval.fvd_window", (16, 0)),
    require_range(0.0, 1.0, "eval.object_threshold"),
    _optimizers_valid,
)


def validate(config: ml_collections.ConfigDict, method: Any = None) -> None:
    """Runs the common checks, then `method.CONFIG_CHECKS` (declarative) and
    `method.validate_config` (if any); raises ConfigError naming the field and the rule."""
    for field in ("method", "seed", "data", "train", "optim", "eval"):
        if field not in config:
            raise ConfigError(f"config has no field {field!r}")
    checks = COMMON_CHECKS + tuple(getattr(method, "CONFIG_CHECKS", ()))
    for check in checks:
        check(config)
    if hasattr(method, "validate_config"):
        method.validate_config(config)
    from vgen.evaluators import EVALUATORS

    unknown = [e for e in config.eval.evaluators if e not in EVALUATORS]
    if unknown:
        raise ConfigError(f"unknown eval.evaluators {unknown}; known: {', '.join(EVALUATORS)}")


# ----------------------------------------------------------------------------- flag errors


def flag_error_message(error: Exception, argv: Sequence[str]) -> str:
    """One line for an error raised while absl parses --config and its overrides: a config
    file's own error (an unknown variant), or an override of a field that does not exist
    (which ml_collections reports as a KeyError / AttributeError)."""
    if not isinstance(error, (KeyError, AttributeError)):
        return str(error)
    # ml_collections' KeyError message may add a line: 'name'\nDid you mean "other"?
    # (an AttributeError wraps the KeyError).
    while error.args and isinstance(error.args[0], Exception):
        error = error.args[0]
    first, _, hint = str(error.args[0] if error.args else error).partition("\n")
    key = first.strip("\"'")
    paths = [a[2:].split("=")[0].split(".") for a in argv[1:] if a.startswith("--config.")]
    path = next((p for p in paths if key in p[1:]), None)
    if path is None:
        return f"a --config override names no config field: {error}"
    parent = ".".join(path[: path.index(key, 1)])
    hint = f"; {hint.strip()}" if hint else ""
    return f"no field {key!r} in {parent} (--{'.'.join(path)}){hint}"


def exit_with(message: str) -> None:
    """Prints `vgen: error: message` to stderr and exits with status 2."""
    print(f"vgen: error: {message}", file=sys.stderr)
    sys.exit(2)
