"""vgen.executables: compiled steps stored on disk and loaded on the next start, under a key
that any change of config, arguments or source changes."""

import functools
import os

import chex
import jax
import jax.numpy as jnp
import ml_collections
import optax
from flax import struct

from vgen import executables


@struct.dataclass
class _State:
    params: dict
    step: jax.Array
    tx: optax.GradientTransformation = struct.field(pytree_node=False)  # cannot be pickled


_TX = optax.adam(1e-3)  # one optimiser, as a run's state keeps it


def _step(config, state, x):
    params = {"w": state.params["w"] - config.lr * x.mean() * state.params["w"]}
    return state.replace(params=params, step=state.step + 1), {"loss": jnp.sum(params["w"])}


def _args(n=3):
    state = _State({"w": jnp.arange(n, dtype=jnp.float32)}, jnp.array(0), _TX)
    return state, jnp.ones(4)


def test_a_stored_step_is_loaded_and_computes_the_same(tmp_path):
    config = ml_collections.ConfigDict({"lr": 0.5})
    jitted = jax.jit(functools.partial(_step, config), donate_argnums=0)
    key = executables.step_key("step", config, _args())
    compiled, how = executables.load_or_compile(jitted, _args(), key, str(tmp_path))
    assert how == "compiled and stored" and os.listdir(tmp_path) == [key]
    loaded, how = executables.load_or_compile(jitted, _args(), key, str(tmp_path))
    assert how == "loaded"
    chex.assert_trees_all_equal(loaded(*_args()), compiled(*_args()))
    state, _ = loaded(*_args())
    assert int(loaded(state, jnp.ones(4))[0].step) == 2  # its output feeds it again
    # No directory (the compilation cache is off): compiled, nothing written.
    assert executables.load_or_compile(jitted, _args(), key, None)[1] == "compiled"


def test_a_damaged_file_is_compiled_again_and_replaced(tmp_path):
    config = ml_collections.ConfigDict({"lr": 0.5})
    jitted = jax.jit(functools.partial(_step, config))
    key = executables.step_key("step", config, _args())
    (tmp_path / key).write_bytes(b"not an executable")
    compiled, how = executables.load_or_compile(jitted, _args(), key, str(tmp_path))
    assert how == "compiled and stored"
    assert executables.load_or_compile(jitted, _args(), key, str(tmp_path))[1] == "loaded"
    chex.assert_trees_all_equal(compiled(*_args()), jitted(*_args()))


def test_the_key_changes_with_config_shapes_and_name():
    config = ml_collections.ConfigDict({"lr": 0.5})
    key = executables.step_key("step", config, _args())
    assert key == executables.step_key("step", ml_collections.ConfigDict({"lr": 0.5}), _args())
    assert key != executables.step_key("step", ml_collections.ConfigDict({"lr": 0.25}), _args())
    assert key != executables.step_key("step", config, _args(n=4))
    assert key != executables.step_key("eval_step", config, _args())
    assert len(executables.source_digest()) == 64


def test_directory_follows_the_compilation_cache(tmp_path, monkeypatch):
    enabled, where = jax.config.jax_enable_compilation_cache, jax.config.jax_compilation_cache_dir
    monkeypatch.delenv("VGEN_EXECUTABLES", raising=False)  # on by default
    try:
        jax.config.update("jax_enable_compilation_cache", True)
        jax.config.update("jax_compilation_cache_dir", str(tmp_path))
        assert executables.directory() == str(tmp_path / "executables")
        monkeypatch.setenv("VGEN_EXECUTABLES", "off")
        assert executables.directory() is None
        monkeypatch.setenv("VGEN_EXECUTABLES", "on")
        jax.config.update("jax_enable_compilation_cache", False)
        assert executables.directory() is None
    finally:
        jax.config.update("jax_enable_compilation_cache", enabled)
        jax.config.update("jax_compilation_cache_dir", where)


def test_only_the_most_recently_used_executables_are_kept(tmp_path):
    for i in range(5):
        path = tmp_path / f"{i}.jaxexe"
        path.write_bytes(b"")
        os.utime(path, (i, i))
    (tmp_path / "notes.txt").write_text("not ours")
    executables._prune(str(tmp_path), keep=2)
    assert sorted(os.listdir(tmp_path)) == ["3.jaxexe", "4.jaxexe", "notes.txt"]
