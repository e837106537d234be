"""Every experiment config loads, validates, declares every option of its dataset (each
overridable on the command line) and finds its data (or says how to get it)."""

import os

import pytest
from absl import flags
from helpers import EMBEDDED, REPO, config_names, load_config
from ml_collections import config_flags

from vgen import config_lib
from vgen.data import SOURCES, make_source, source_defaults
from vgen.errors import ConfigError, DatasetNotFoundError
from vgen.methods import get_method

CONFIGS = config_names()


@pytest.mark.parametrize("variant", [None, "tiny"])
@pytest.mark.parametrize("name", CONFIGS)
def test_config_validates_and_finds_data(name, variant, tmp_path):
    config = load_config(name, variant)
    config_lib.validate(config, get_method(config.method))
    missing = set(source_defaults(config.data.name)) - set(config.data)
    assert not missing, f"{name}: data options of {config.data.name!r} not declared: {missing}"
    if config.data.name in EMBEDDED:
        source = make_source(config)
        clips = source.eval_clips(1, split="val")["video"]
        frames = config.data.context_frames + config.data.predict_frames
        assert clips.shape[1:4] == (frames, config.data.resolution, config.data.resolution)
    else:
        config.data.data_dir = str(tmp_path)
        with pytest.raises(DatasetNotFoundError, match="python -m vgen.data.prepare|tfds build"):
            make_source(config)


def _changed(value):
    """A value of the same type that differs from `value`."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, tuple):
        return tuple(_changed(v) / 8 for v in value)
    return f"{value}_changed"


@pytest.mark.parametrize("variant", [None, "tiny"])
@pytest.mark.parametrize("name", CONFIGS)
def test_every_data_option_is_overridable(name, variant):
    """--config.data.<option>=... works for every option of the config's dataset, on every
    config of that dataset (e.g. data.person_split on ffgan_kth and svg_lp_kth alike)."""
    path = os.path.join(REPO, "configs", f"{name}.py") + (f":{variant}" if variant else "")
    dataset = load_config(name, variant).data.name
    wanted = {k: _changed(v) for k, v in source_defaults(dataset).items()}
    argv = ["prog", f"--config={path}", *(f"--config.data.{k}={v}" for k, v in wanted.items())]
    fv = flags.FlagValues()  # the command line's parser, as vgen.main defines it
    config_flags.DEFINE_config_file("config", None, "config", flag_values=fv, sys_argv=argv)
    fv(argv)
    assert {k: fv.config.data[k] for k in wanted} == wanted


@pytest.mark.parametrize("dataset", sorted(SOURCES))
def test_make_source_requires_declared_options(dataset):
    config = config_lib.common_config()
    config.data.name = dataset
    if not source_defaults(dataset):
        pytest.skip(f"{dataset} has no options of its own")
    with pytest.raises(ConfigError, match=r"config_lib.set_data"):
        make_source(config)


def test_set_data_rejects_unknown_options():
    with pytest.raises(ConfigError, match="no field 'person_splitt' in data"):
        config_lib.set_data(config_lib.common_config(), "kth", person_splitt="mcnet")


def test_tiny_variants_are_small():
    for name in CONFIGS:
        config = load_config(name, "tiny")
        assert config.train.num_steps <= 10, name
        assert config.data.resolution <= 64, name


def test_configs_ship_in_the_package():
    """An installed vgen finds the same config files (vgen.configs), with their argument kept."""
    path = config_lib.config_path("quickstart.py:tiny")
    file, arg = path.rsplit(":", 1)
    assert arg == "tiny"
    assert os.path.samefile(file, os.path.join(REPO, "configs", "quickstart.py"))
    assert (
        config_lib.load_config_file(file, arg).train.num_steps
        == load_config("quickstart", "tiny").train.num_steps
    )
    with pytest.raises(ConfigError, match="no config 'nope.py' in vgen.configs"):
        config_lib.config_path("nope.py")
