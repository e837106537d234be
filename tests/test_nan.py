"""A NaN loss stops training with a clear error that names the step; good checkpoints survive."""

import os

import pytest
from helpers import REPO

from vgen import config_lib, methods, train
from vgen.errors import NonFiniteLossError


def test_nan_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setitem(methods.METHODS, "nan_ffgan", "nan_method")
    config = config_lib.load_config_file(os.path.join(REPO, "configs", "quickstart.py"), "tiny")
    config.method = "nan_ffgan"
    config.train.num_steps = 6
    config.train.log_every = 1
    config.train.checkpoint_every = 2
    config.train.sample_every = 100

    with pytest.raises(NonFiniteLossError, match=r"non-finite g_loss in the steps up to 3.*step 2"):
        train.train_and_evaluate(config, str(tmp_path))
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["2"]
