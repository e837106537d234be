"""Optical flow for the two-stream classifier: Farnebäck's flow, its per-split cache, and the
source wrapper that adds it to batches."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import load_config

from vgen import train
from vgen.data import make_source, optical_flow
from vgen.data.optical_flow import OpticalFlowSource, farneback, flow_of
from vgen.errors import ConfigError


def _translating(dx: int, dy: int, size: int = 32, frames: int = 3) -> np.ndarray:
    """[1, frames, size, size, 1]: a smooth random texture shifted by (dx, dy) px per frame."""
    rng = np.random.default_rng(0)
    big = rng.random((size + 16, size + 16))
    big = (big + np.roll(big, 1, 0) + np.roll(big, 1, 1) + np.roll(big, (1, 1), (0, 1))) / 4
    out = [
        big[8 - dy * t : 8 - dy * t + size, 8 - dx * t : 8 - dx * t + size] for t in range(frames)
    ]
    return np.stack(out)[None, ..., None].astype(np.float32)


@pytest.mark.parametrize("dx,dy", [(1, 0), (0, -1), (2, 1)])
def test_farneback_finds_a_translation(dx, dy):
    flow = farneback(_translating(dx, dy))
    assert flow.shape == (1, 2, 32, 32, 2)
    interior = flow[0, :, 8:-8, 8:-8]
    np.testing.assert_allclose(np.median(interior[..., 0]), dx, atol=0.1)
    np.testing.assert_allclose(np.median(interior[..., 1]), dy, atol=0.1)


def test_flow_of_under_jit_equals_farneback():
    video = _translating(1, 1, size=16, frames=4)
    np.testing.assert_array_equal(jax.jit(flow_of)(jnp.asarray(video)), farneback(video))
    with pytest.raises(ValueError, match=">= 2 frames"):
        farneback(video[:, :1])


def _source(tmp_path, **data):
    config = load_config("classifier_dynamics", "tiny")
    config.model.arch = "two_stream"
    config.model.flow_cache = str(tmp_path)
    config.data.update(data)
    return config, make_source(config)


def test_cached_flows_are_the_clips_flows_and_computed_once(tmp_path, monkeypatch):
    config, plain = _source(tmp_path)
    _, wrapped = train.setup(config)
    rng = jax.random.key(3)
    batch = wrapped.train_batch(rng, 5)
    np.testing.assert_array_equal(batch["video"], plain.train_batch(rng, 5)["video"])
    np.testing.assert_array_equal(batch["flow"], farneback(np.asarray(batch["video"])))
    val = wrapped.eval_clips(4, split="val", ground_truth=True)
    assert {"mask", "background", "label"} <= set(val)
    np.testing.assert_array_equal(val["flow"], farneback(np.asarray(val["video"])))
    assert sorted(os.listdir(tmp_path)) == [
        os.path.basename(wrapped.cache_path(s)) for s in ("train", "val")
    ]
    # A second source reads the files: it computes no flow.
    monkeypatch.setattr(optical_flow, "farneback", lambda v: pytest.fail("recomputed"))
    again = train.setup(config)[1].train_batch(rng, 5)
    np.testing.assert_array_equal(again["flow"], batch["flow"])


def test_another_dataset_gets_another_cache(tmp_path):
    config, _ = _source(tmp_path)
    path = train.setup(config)[1].cache_path("train")
    config.data.seed = 1
    assert train.setup(config)[1].cache_path("train") != path


def test_a_damaged_cache_is_a_clear_error(tmp_path):
    config, _ = _source(tmp_path)
    wrapped = train.setup(config)[1]
    with open(wrapped.cache_path("val"), "wb") as f:
        f.write(b"not an array")
    with pytest.raises(ValueError, match="unreadable optical-flow cache .*delete it"):
        wrapped.eval_clips(2, split="val")
    np.save(wrapped.cache_path("test"), np.zeros((3, 2, 16, 16, 2), np.float16))
    with pytest.raises(ValueError, match="holds 3 clips, the test split 20"):
        wrapped.eval_clips(2, split="test")


def test_only_indexed_sources_get_flows(tmp_path):
    config = load_config("classifier_dynamics", "tiny")
    config.model.arch = "two_stream"
    with pytest.raises(ValueError, match="needs an indexed dataset"):
        OpticalFlowSource(object(), {}, str(tmp_path))
    from vgen.methods import classifier

    with pytest.raises(ConfigError, match="model.arch 'two_stream'"):
        classifier.wrap_source(config, object())


def test_load_config_fills_fields_added_later(tmp_path):
    """A run's config.json written before a field existed loads with the field's default."""
    config = load_config("classifier_dynamics", "tiny")
    stored = json.loads(config.to_json())
    del stored["model"]["spatial_stream"], stored["data"]["object_size"]
    stored["model"]["channels"] = 7
    (tmp_path / "config.json").write_text(json.dumps(stored))
    loaded = train.load_config(str(tmp_path))
    assert loaded.model.spatial_stream is False and loaded.model.channels == 7
    assert tuple(loaded.data.object_size) == tuple(config.data.object_size)
