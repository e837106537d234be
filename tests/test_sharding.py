"""Data parallel: a train step sharded over 4 (fake CPU) devices equals the unsharded step."""

import subprocess
import sys

from helpers import REPO, env

SCRIPT = r"""
import functools, os
import jax, numpy as np, optax
from vgen.train_state import TrainState
from vgen import sharding
from vgen.data import make_source
from vgen.methods import ffgan

assert jax.device_count() == 4, jax.devices()
from vgen import config_lib
config = config_lib.load_config_file(os.path.join("configs", "quickstart.py"), "tiny")
source = make_source(config)
batch = source.train_batch(jax.random.key(1), 4)
state = ffgan.init(config, jax.random.key(0), batch)
# Plain SGD: Adam's first step is lr * sign(grad), which turns float noise in gradients that are
# exactly zero in theory (conv biases before batch norm) into differences of 2 * lr.
sgd = {name: optax.sgd(0.1) for name in state.params}
state = TrainState.create(state.params, sgd, state.batch_stats)
step = functools.partial(ffgan.train_step, config)
rng = jax.random.key(2)

plain_state, plain_metrics = jax.jit(step)(state, batch, rng)

mesh = sharding.make_mesh()
repl, data = sharding.replicated(mesh), sharding.batch_sharded(mesh)
sharded = jax.jit(step, in_shardings=(repl, data, repl), out_shardings=(repl, repl))
s_batch = sharding.shard_batch(batch, mesh)
assert len(s_batch["video"].sharding.device_set) == 4
s_state, s_metrics = sharded(jax.device_put(state, repl), s_batch, rng)

close = lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=2e-5)
jax.tree.map(close, plain_metrics, s_metrics)
jax.tree.map(close, plain_state.params, s_state.params)
jax.tree.map(close, plain_state.batch_stats, s_state.batch_stats)
print("SHARDED_EQUALS_UNSHARDED")
"""


def test_sharded_step_equals_unsharded():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env=env(XLA_FLAGS="--xla_force_host_platform_device_count=4"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "SHARDED_EQUALS_UNSHARDED" in proc.stdout
