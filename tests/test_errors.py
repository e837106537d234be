"""Bad input ends with one clear message and a non-zero exit, never a traceback wall."""

import os

import pytest
from helpers import vgen_main

TINY = "--config=configs/quickstart.py:tiny"


@pytest.mark.parametrize(
    "args, message",
    [
        ([TINY, "--config.method=nope"], "unknown method 'nope'"),
        ([TINY, "--config.data.name=nope"], "unknown dataset 'nope'"),
        ([TINY, "--config.train.batch_size=0"], "train.batch_size must be >= 1"),
        (
            [TINY, "--config.train.no_such_field=1"],
            "no field 'no_such_field' in config.train (--config.train.no_such_field)",
        ),
        ([TINY, "--config.model.kappa=4"], "model.kappa must be odd"),
        (["--config=configs/quickstart.py:tny"], "unknown config variant 'tny'; known: tiny"),
        (
            [TINY, "--config.eval.evaluators=('nope',)"],
            "unknown eval.evaluators ['nope']; known: prediction, reconstruction, figures",
        ),
        (
            [TINY, "--config.eval.evaluators=('prediction', 'reconstruction')"],
            "'reconstruction', which needs the method hook reconstruct, but method 'ffgan'",
        ),
        (
            ["--config=configs/mvae2_dynamics.py:tiny", "--config.model.like_layer=9"],
            "model.like_layer must index a discriminator conv layer",
        ),
        (
            ["--config=configs/ffgan_mmnist.py:tiny", "--config.data.mnist_npz=/nonexistent.npz"],
            "Get MNIST on a machine",
        ),
        (
            ["--config=configs/ffgan_kth.py:tiny", "--config.data.data_dir=/nonexistent"],
            "KTH is not prepared",
        ),
    ],
)
def test_bad_input_clear_message(tmp_path, args, message):
    proc = vgen_main(*args, f"--workdir={tmp_path}")
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_eval_without_checkpoint(tmp_path):
    proc = vgen_main(TINY, f"--workdir={tmp_path}", "--mode=eval")
    assert proc.returncode == 2
    assert f"vgen: error: no run in {tmp_path}: it has no checkpoints directory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_eval_batch_not_divisible_by_devices(tmp_path):
    proc = vgen_main(
        TINY,
        f"--workdir={tmp_path}",
        "--mode=eval",
        XLA_FLAGS="--xla_force_host_platform_device_count=4",
    )
    assert proc.returncode == 2
    assert "eval.batch_size (2) must be divisible by the number of devices (4)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_config_file(tmp_path):
    proc = vgen_main("--config=configs/does_not_exist.py:tiny", f"--workdir={tmp_path}")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "vgen: error: --config: no such file: configs/does_not_exist.py"
    assert not os.listdir(tmp_path)


def test_half_configured_multihost_env(tmp_path):
    proc = vgen_main(TINY, f"--workdir={tmp_path}", JAX_COORDINATOR_ADDRESS="127.0.0.1:1")
    assert proc.returncode == 2
    assert "JAX_NUM_PROCESSES, JAX_PROCESS_ID is not" in proc.stderr
    assert "Traceback" not in proc.stderr
