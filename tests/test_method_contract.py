"""Every registered method (vgen.methods.METHODS) against the `Method` contract, each with the
`:tiny` config that represents it (helpers.tiny_configs: a config on embedded data), so a new
method and its config are covered with no new test code:

- the module defines the required names, with the contract's signatures, and its optional
  hooks have theirs; `config_lib.validate(config, method)` accepts the tiny config;
- init, then one jitted train step that changes the state (the step advances and every
  network's parameters move) and returns finite scalar metrics; `sample` (every method but a
  classifier) returns [B, horizon, H, W, C] in [0, 1], and `classify` returns [B, K] logits;
  the train step sharded over 4 (fake CPU) devices equals the
  unsharded one. All of this runs in ONE subprocess with 4 host devices (this file run as a
  script), which reports per method;
- the real command line trains the tiny config, then `--mode eval` writes <workdir>/eval/
  results.json with the part of every evaluator of `config.eval.evaluators`.
"""

import functools
import inspect
import json
import os
import sys
import traceback

import pytest
from helpers import EMBEDDED, load_config, run_python, tiny_configs, vgen_main

from vgen import config_lib
from vgen.methods import METHODS, OPTIONAL_HOOKS, REQUIRED, Method, get_method, missing_hooks

CONFIGS = tiny_configs()  # {method: config name}
NAMES = sorted(METHODS)
DEVICES = 4

# The contract's parameters of each optional hook (vgen/methods/__init__.py); a hook may add
# parameters with defaults after them.
OPTIONAL_PARAMS = {
    "sample": ("config", "state", "context", "rng", "horizon"),
    "classify": ("config", "state", "batch"),
    "validate_config": ("config",),
    "reconstruct": ("config", "state", "batch", "rng"),
    "write_figures": ("config", "state", "batch", "rng", "outdir"),
    "wrap_source": ("config", "source"),
}
# Sharded == unsharded: reductions over a split batch round apart.
RTOL, ATOL = 2e-4, 2e-5


def _config(method: str):
    if method not in CONFIGS:
        pytest.fail(f"method {method!r} has no config with a :tiny variant in configs/")
    return load_config(CONFIGS[method], "tiny")


def _required_params(fn) -> tuple[str, ...]:
    """The names of `fn`'s parameters without defaults, but `self`."""
    params = inspect.signature(fn).parameters.values()
    return tuple(p.name for p in params if p.default is p.empty and p.name != "self")


def _check_signature(module, name: str, expected: tuple[str, ...]) -> str | None:
    """None, or what is wrong with `module.<name>`'s signature."""
    fn = getattr(module, name)
    if not callable(fn):
        return f"{name} is not callable"
    required = _required_params(fn)
    if required != expected:
        return f"{name}({', '.join(required)}), the contract is {name}({', '.join(expected)})"
    return None


# ----------------------------------------------------------------------------- the module


def test_registry_and_configs():
    """Every registered method imports and has a :tiny config on data that needs no
    preparation (what the checks below run on); every tiny config names a registered method."""
    assert set(CONFIGS) <= set(METHODS), sorted(set(CONFIGS) - set(METHODS))
    for name in NAMES:
        get_method(name)
        assert name in CONFIGS, f"no configs/*.py with a :tiny variant for method {name!r}"
        data = load_config(CONFIGS[name], "tiny").data.name
        assert data in EMBEDDED, f"{name}: add a :tiny config on one of {EMBEDDED}, not {data!r}"


@pytest.mark.parametrize("method", NAMES)
def test_module_satisfies_the_contract(method):
    module = get_method(method)
    assert missing_hooks(module) == []
    checks = module.CONFIG_CHECKS
    assert isinstance(checks, tuple) and all(callable(c) for c in checks), checks
    wrong = []
    for name in REQUIRED:
        member = getattr(Method, name, None)
        if callable(member):
            wrong.append(_check_signature(module, name, _required_params(member)))
    for name in OPTIONAL_HOOKS:
        if hasattr(module, name):
            wrong.append(_check_signature(module, name, OPTIONAL_PARAMS[name]))
    wrong = [w for w in wrong if w]
    assert not wrong, f"{method}: " + "; ".join(wrong)


def test_optional_hooks_are_listed():
    """OPTIONAL_PARAMS here covers every optional hook the contract names."""
    assert set(OPTIONAL_HOOKS) == set(OPTIONAL_PARAMS)


@pytest.mark.parametrize("method", NAMES)
def test_tiny_config_validates(method):
    config = _config(method)
    assert config.method == method
    config_lib.validate(config, get_method(method))


# ----------------------------------------------------------------------------- the steps

# Run as a script (by the `steps` fixture) with 4 host devices: init, train steps, sample.


def check_steps(method_name: str, config_name: str) -> dict:
    """Init, one train step unsharded and sharded over all devices, and a sample, for one
    method; returns what the tests assert (JSON-able)."""
    import jax
    import numpy as np
    import optax

    from vgen import sharding
    from vgen.data import make_source
    from vgen.data.pipeline import context_of
    from vgen.train_state import TrainState

    out: dict = {}
    config = load_config(config_name, "tiny")
    method = get_method(method_name)
    batch_size = config.train.batch_size
    assert batch_size % jax.device_count() == 0, f"train.batch_size {batch_size} on 4 devices"
    batch = make_source(config).train_batch(jax.random.key(1), batch_size)
    state = jax.jit(functools.partial(method.init, config))(jax.random.key(0, impl="rbg"), batch)
    # Plain SGD: Adam's first step is lr * sign(grad), which turns float noise in gradients that
    # are exactly zero in theory (conv biases before batch norm) into differences of 2 * lr.
    sgd = {name: optax.sgd(0.1) for name in state.params}
    state = TrainState.create(state.params, sgd, state.batch_stats)
    step = functools.partial(method.train_step, config)
    rng = jax.random.key(2)

    new, metrics = jax.jit(step)(state, batch, rng)
    moved = lambda a, b: not all(jax.tree.leaves(jax.tree.map(np.array_equal, a, b)))
    out["step"] = [int(state.step), int(new.step)]
    out["networks"] = sorted(state.params)
    out["moved"] = sorted(n for n in state.params if moved(state.params[n], new.params[n]))
    out["metrics"] = {
        k: {"shape": list(np.shape(v)), "finite": bool(np.isfinite(v).all())}
        for k, v in metrics.items()
    }

    mesh = sharding.make_mesh()
    repl, data = sharding.replicated(mesh), sharding.batch_sharded(mesh)
    sharded = jax.jit(step, in_shardings=(repl, data, repl), out_shardings=(repl, repl))
    s_batch = sharding.shard_batch(batch, mesh)
    assert len(s_batch["video"].sharding.device_set) == jax.device_count()
    s_new, s_metrics = sharded(jax.device_put(state, repl), s_batch, rng)
    mismatch = []
    pairs = {
        "metrics": (metrics, s_metrics),
        "params": (new.params, s_new.params),
        "batch_stats": (new.batch_stats, s_new.batch_stats),
    }
    for what, (a, b) in pairs.items():
        flat_a, flat_b = jax.tree_util.tree_flatten_with_path(a)[0], jax.tree.leaves(b)
        for (path, x), y in zip(flat_a, flat_b, strict=True):
            try:
                np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=RTOL, atol=ATOL)
            except AssertionError as e:
                where = what + jax.tree_util.keystr(path)
                mismatch.append(f"{where}: {str(e).strip().splitlines()[-3:]}")
    out["sharded_mismatch"] = mismatch

    out["predicts"] = hasattr(method, "sample")
    if hasattr(method, "classify"):
        logits = np.asarray(jax.jit(functools.partial(method.classify, config))(state, batch))
        out["classify"] = {
            "shape": list(logits.shape),
            "expected": [batch_size, config.model.num_classes],
            "finite": bool(np.isfinite(logits).all()),
        }
    if not out["predicts"]:
        return out
    c, horizon = config.data.context_frames, config.data.predict_frames
    sample = jax.jit(functools.partial(method.sample, config), static_argnums=3)
    video = np.asarray(sample(state, context_of(batch, c), jax.random.key(3), horizon))
    out["sample"] = {
        "shape": list(video.shape),
        "expected": [batch_size, horizon, *batch["video"].shape[2:]],
        "finite": bool(np.isfinite(video).all()),
        "min": float(np.nanmin(video)),
        "max": float(np.nanmax(video)),
    }
    return out


def main(path: str, cases: list[str]) -> None:
    """Writes {method: check_steps(...) or {"error": traceback}} to `path`."""
    import jax

    assert jax.device_count() == DEVICES, jax.devices()
    results = {}
    for case in cases:
        method, config = case.split("=")
        try:
            results[method] = check_steps(method, config)
        except Exception:
            results[method] = {"error": traceback.format_exc()}
        print(method, "error" in results[method], flush=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)


@pytest.fixture(scope="module")
def steps(tmp_path_factory) -> dict:
    """check_steps of every method, from one subprocess with 4 host devices."""
    path = tmp_path_factory.mktemp("contract") / "steps.json"
    cases = [f"{m}={CONFIGS[m]}" for m in NAMES if m in CONFIGS]
    proc = run_python(
        os.path.abspath(__file__),
        str(path),
        *cases,
        timeout=1500,
        XLA_FLAGS=f"--xla_force_host_platform_device_count={DEVICES}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(path) as f:
        return json.load(f)


def _steps_of(steps: dict, method: str) -> dict:
    if method not in steps:
        pytest.fail(f"{method}: not run (no :tiny config)")
    if "error" in steps[method]:
        pytest.fail(f"{method}: the steps raised\n{steps[method]['error']}")
    return steps[method]


# The subprocess compiles two train steps and a sample per method: the first test to ask for it
# waits for all of them.
LONG = pytest.mark.timeout(1800)


@LONG
@pytest.mark.parametrize("method", NAMES)
def test_train_step_changes_the_state(steps, method):
    out = _steps_of(steps, method)
    before, after = out["step"]
    assert after == before + 1, f"state.step went from {before} to {after}"
    still = sorted(set(out["networks"]) - set(out["moved"]))
    assert not still, f"networks whose parameters did not move: {still}"
    assert out["metrics"], "no metrics"
    for name, m in out["metrics"].items():
        assert m["shape"] == [], f"metric {name} is not a scalar: shape {m['shape']}"
        assert m["finite"], f"metric {name} is not finite"


@LONG
@pytest.mark.parametrize("method", NAMES)
def test_sample_or_classify_shape_and_range(steps, method):
    """Every method predicts frames (`sample`) or classes (`classify`); each output checked."""
    out = _steps_of(steps, method)
    assert out["predicts"] or "classify" in out, "a method needs sample or classify"
    if out["predicts"]:
        s = out["sample"]
        assert s["shape"] == s["expected"]
        assert s["finite"] and 0.0 <= s["min"] and s["max"] <= 1.0, s
    if "classify" in out:
        c = out["classify"]
        assert c["shape"] == c["expected"] and c["finite"], c


@LONG
@pytest.mark.parametrize("method", NAMES)
def test_sharded_step_equals_unsharded(steps, method):
    mismatch = _steps_of(steps, method)["sharded_mismatch"]
    assert not mismatch, "\n".join(mismatch[:10])


# ----------------------------------------------------------------------------- evaluation


def _result_keys(evaluator: str) -> tuple[str, ...]:
    """The keys of results.json an evaluator writes (vgen/evaluators/__init__.py): "prediction"
    the protocol's top-level scores, every other one its own name."""
    return ("psnr", "ssim") if evaluator == "prediction" else (evaluator,)


@pytest.mark.parametrize("method", NAMES)
def test_command_line_trains_then_evaluates(method, tmp_path):
    """The real command line on the tiny config as it is: train, then --mode eval."""
    config = _config(method)
    args = (f"--config=configs/{CONFIGS[method]}.py:tiny", f"--workdir={tmp_path}")
    proc = vgen_main(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = vgen_main(*args, "--mode=eval")
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / "eval" / "results.json") as f:
        results = json.load(f)
    assert results["step"] == config.train.num_steps
    evaluators = tuple(config.eval.evaluators)
    assert evaluators, "config.eval.evaluators is empty"
    for evaluator in evaluators:
        missing = [k for k in _result_keys(evaluator) if k not in results]
        assert not missing, f"evaluator {evaluator!r} wrote no {missing} in {sorted(results)}"
    for name, path in results.get("figures", {}).items():
        assert (tmp_path / path).is_file(), f"figure {name}: no file {path}"
    # Training wrote checkpoints, sample grids (methods that predict frames) and (methods with
    # figures) the method's figures.
    assert os.listdir(tmp_path / "checkpoints")
    if hasattr(get_method(config.method), "sample"):
        assert os.listdir(tmp_path / "samples")
    if hasattr(get_method(config.method), "write_figures"):
        last = sorted(os.listdir(tmp_path / "figures"))[-1]
        pngs = [f for f in os.listdir(tmp_path / "figures" / last) if f.endswith(".png")]
        assert pngs, f"no figures in figures/{last}"


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
