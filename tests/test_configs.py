"""Every experiment config loads, validates and finds its data (or says how to get it)."""

import glob
import os

import pytest
from helpers import REPO

from vgen import config_lib
from vgen.data import make_source
from vgen.errors import DatasetNotFoundError
from vgen.methods import get_method

CONFIGS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "configs", "*.py")))
EMBEDDED = ("dynamics", "moving_mnist", "mnist")  # data that needs no preparation


@pytest.mark.parametrize("variant", [None, "tiny"])
@pytest.mark.parametrize("name", CONFIGS)
def test_config_validates_and_finds_data(name, variant, tmp_path):
    config = config_lib.load_config_file(os.path.join(REPO, "configs", name), variant)
    config_lib.validate(config)
    method = get_method(config.method)
    if hasattr(method, "validate_config"):
        method.validate_config(config)
    if config.data.name in EMBEDDED:
        source = make_source(config)
        clips = source.eval_clips(1, split="val")["video"]
        frames = config.data.context_frames + config.data.predict_frames
        assert clips.shape[1:4] == (frames, config.data.resolution, config.data.resolution)
    else:
        config.data.data_dir = str(tmp_path)
        with pytest.raises(DatasetNotFoundError, match="python -m vgen.data.prepare|tfds build"):
            make_source(config)


def test_tiny_variants_are_small():
    for name in CONFIGS:
        config = config_lib.load_config_file(os.path.join(REPO, "configs", name), "tiny")
        assert config.train.num_steps <= 10, name
        assert config.data.resolution <= 64, name
