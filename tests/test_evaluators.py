"""The evaluator registry (vgen.evaluators): the reconstruction and figures evaluators on a method
with the hooks, one validation and no initialisation per evaluation, and evaluation sharded
over 4 (fake CPU) devices giving the numbers of one device."""

import json
import os
import shutil
import subprocess
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from clu import metric_writers
from helpers import REPO, env, load_config, vgen_main
from PIL import Image

from vgen import config_lib, evaluate, evaluators, methods, sharding, train, viz
from vgen.data.pipeline import context_of
from vgen.errors import ConfigError
from vgen.evaluators import reconstruction
from vgen.train_state import TrainState

DOUBLE = "ffgan_with_hooks"


def _reconstruct(config, state, batch, rng):
    """A stand-in hook: the predicted frames as targets, one sample of them as reconstruction."""
    from vgen.methods import ffgan

    c, video = config.data.context_frames, batch["video"]
    recon = ffgan.sample(config, state, context_of(batch, c), rng, video.shape[1] - c)
    return video[:, c:], recon


def _write_figures(config, state, batch, rng, outdir):
    path = viz.write_png(
        os.path.join(outdir, "first_frames.png"), viz.image_grid([batch["video"][:, 0]])
    )
    return {"first_frames": str(path)}


def register_double() -> types.ModuleType:
    """FF-GAN with a `reconstruct` and a `write_figures` hook, registered as DOUBLE; its init
    records whether it ever ran on concrete arrays."""
    from vgen.methods import ffgan

    module = types.ModuleType(DOUBLE)
    module.__dict__.update({k: v for k, v in vars(ffgan).items() if not k.startswith("__")})
    module.concrete_inits = 0

    def init(config, rng, batch):
        module.concrete_inits += not isinstance(rng, jax.core.Tracer)
        return ffgan.init(config, rng, batch)

    module.init, module.reconstruct, module.write_figures = init, _reconstruct, _write_figures
    sys.modules[DOUBLE] = module
    methods.METHODS[DOUBLE] = DOUBLE
    return module


def double_config(**eval_fields):
    config = load_config("quickstart", "tiny")
    config.method = DOUBLE
    config.eval.evaluators = ("prediction", "reconstruction", "figures")
    config.eval.update(eval_fields)
    return config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A workdir with FF-GAN's tiny checkpoints (the double restores them)."""
    workdir = str(tmp_path_factory.mktemp("trained"))
    proc = vgen_main("--config=configs/quickstart.py:tiny", f"--workdir={workdir}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


@pytest.fixture
def double(monkeypatch):
    monkeypatch.setitem(methods.METHODS, DOUBLE, DOUBLE)
    monkeypatch.setitem(sys.modules, DOUBLE, None)
    return register_double()


def copy_run(trained: str, to: str) -> str:
    shutil.copytree(os.path.join(trained, "checkpoints"), os.path.join(to, "checkpoints"))
    return to


def test_missing_hook_is_a_config_error(double):
    del double.reconstruct
    with pytest.raises(ConfigError, match="needs the method hook reconstruct"):
        train.setup(double_config())


def test_evaluators_write_their_parts_once_validated_without_init(
    trained, double, tmp_path, monkeypatch
):
    workdir = copy_run(trained, str(tmp_path))
    calls = []
    validate = config_lib.validate
    monkeypatch.setattr(config_lib, "validate", lambda *a: calls.append(a) or validate(*a))
    no_init = lambda *a: pytest.fail("evaluation initialised a state")
    monkeypatch.setattr(train, "create_train_state", no_init)

    results = evaluate.evaluate(double_config(), workdir)

    assert len(calls) == 1  # config_lib.validate, once, in train.setup
    assert double.concrete_inits == 0  # the restore target came from jax.eval_shape
    with open(os.path.join(workdir, "eval", "results.json")) as f:
        assert json.load(f) == results
    objects = ["object_psnr", "object_ssim", "position_error", "object_found", "object_region"]
    assert list(results) == [
        "step", "num_clips", "num_samples", "seconds", "psnr", "ssim", *objects,  # Dynamics
        "reconstruction", "figures", "protocol",
    ]  # fmt: skip
    recon = results["reconstruction"]
    assert list(recon) == ["num_clips", "mse", "psnr", "ssim", "psnr_per_frame", "ssim_per_frame"]
    assert recon["num_clips"] == 4
    assert len(recon["psnr_per_frame"]) == 3  # the double's T' = predict_frames
    np.testing.assert_allclose(np.mean(recon["psnr_per_frame"]), recon["psnr"], rtol=1e-5)
    assert 0 < recon["mse"] < 1 and 0 < recon["ssim"] <= 1
    assert results["figures"] == {
        "first_frames": os.path.join("eval", "figures", "first_frames.png")
    }
    assert os.path.isfile(os.path.join(workdir, results["figures"]["first_frames"]))
    # Targets above reconstructions: 4 clips, 2 strips each of 3 16-pixel frames.
    image = Image.open(os.path.join(workdir, "eval", "reconstructions.png"))
    assert image.size == (1 + 3 * 17, 4 * (2 * 17 + 4) - 4 + 1)


def test_reconstruction_of_single_frames(tmp_path):
    """An image model (T' = 1): one score per clip, no per-frame lists, an image grid."""
    video = jax.random.uniform(jax.random.key(0), (6, 3, 16, 16, 1))
    method = types.SimpleNamespace(
        reconstruct=lambda config, state, batch, rng: (
            batch["video"][:, :1],
            0.9 * batch["video"][:, :1],
        )
    )
    config = load_config("quickstart", "tiny")
    config.eval.batch_size = 4  # a ragged last chunk of 2
    writer = metric_writers.create_default_writer(str(tmp_path))
    ctx = evaluators.EvalContext(
        config=config,
        method=method,
        state=TrainState(step=jnp.asarray(7), params={}, opt_state={}, batch_stats={}, tx={}),
        source=None,
        clips={"video": np.asarray(video)},
        ground_truth=None,
        mesh=sharding.make_mesh(),
        workdir=str(tmp_path),
        rng=jax.random.key(1),
        writer=writer,
    )
    out = reconstruction.run(ctx)["reconstruction"]
    writer.close()
    assert list(out) == ["num_clips", "mse", "psnr", "ssim"]
    x = np.asarray(video[:, 0])
    np.testing.assert_allclose(out["mse"], np.mean((0.1 * x) ** 2), rtol=1e-5)
    psnr = 10 * np.log10(1 / np.mean((0.1 * x) ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(out["psnr"], psnr.mean(), rtol=1e-5)
    image = Image.open(tmp_path / "eval" / "reconstructions.png")
    assert image.size == (1 + 6 * 17, 1 + 2 * 17)  # targets above reconstructions


SHARDED = r"""
import json, os, sys
import jax
sys.path.insert(0, "tests")
import test_evaluators as t
from vgen import evaluate, sharding

t.register_double()
config = t.double_config(evaluators=("prediction", "reconstruction"), batch_size=4, num_clips=6)
workdir = sys.argv[1]
n = jax.device_count()
mesh = sharding.make_mesh()
clips = {"video": jax.numpy.zeros((4, 5, 16, 16, 1))}
assert len(sharding.place_clips(clips, mesh)["video"].sharding.device_set) == n
results = evaluate.evaluate(config, workdir)
results.pop("seconds")
print("RESULTS", json.dumps(results))
"""


def test_sharded_evaluation_equals_one_device(trained, tmp_path):
    """Chunks of 4 clips sharded over 4 devices (and a ragged chunk of 2, replicated) give the
    numbers of one device."""
    results = {}
    for devices in (1, 4):
        workdir = copy_run(trained, str(tmp_path / f"devices_{devices}"))
        proc = subprocess.run(
            [sys.executable, "-c", SHARDED, workdir],
            cwd=REPO,
            env=env(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}"),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULTS "))
        results[devices] = json.loads(line[len("RESULTS ") :])
    one, four = results[1], results[4]
    assert one["num_clips"] == 6 and one["reconstruction"]["num_clips"] == 6
    assert one.pop("protocol") == four.pop("protocol")  # the settings: strings among them
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    jax.tree.map(close, one, four)
