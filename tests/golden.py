"""Pinned train-step losses of every config's `:tiny` variant (and its named variants).

`python tests/golden.py` records them into tests/golden_losses.json; test_golden_losses.py
checks that a refactor or a speed-up leaves them unchanged to float tolerance. Each case
initialises the state from key 0 and runs STEPS jitted train steps on the config's own data
(random clips of the right shape for datasets that must be prepared: KTH, BAIR).
"""

import functools
import json
import os
import sys

import jax
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from vgen import config_lib  # noqa: E402
from vgen.data import make_source  # noqa: E402
from vgen.methods import get_method  # noqa: E402

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_losses.json")
STEPS = 3
# (config file, variant): every method, and every variant that changes a method's code path.
CASES = [
    ("quickstart", "tiny"),
    ("ffgan_mmnist", "tiny,stochastic"),
    ("ffgan_kth", "tiny"),
    ("svg_lp_dynamics", "tiny"),
    ("svg_fp_kth", "tiny"),
    ("svg_lp_bair", "tiny"),
    ("ali_dynamics", "tiny"),
    ("ali_mnist", "tiny,conditional"),
    ("rali_dynamics", "tiny"),
    ("rali_dynamics", "tiny,sequence"),
    ("vaegan_dynamics", "tiny"),
    ("mvae1_dynamics", "tiny"),
    ("mvae2_dynamics", "tiny"),
]
# Datasets a user prepares: clips of their shape instead (channels, condition size).
FAKE_DATA = {"kth": (1, 0), "bair": (3, 7)}


def case_id(name: str, arg: str) -> str:
    return f"{name}:{arg}"


def _batch(config, key: jax.Array, batch_size: int) -> dict:
    d = config.data
    if d.name not in FAKE_DATA:
        return make_source(config).train_batch(key, batch_size)
    channels, cond = FAKE_DATA[d.name]
    t = d.context_frames + d.predict_frames
    k1, k2 = jax.random.split(key)
    out = {"video": jax.random.uniform(k1, (batch_size, t, d.resolution, d.resolution, channels))}
    if cond:
        out["cond"] = jax.random.normal(k2, (batch_size, t, cond))
    return out


def run_case(name: str, arg: str) -> list[dict[str, float]]:
    """The scalar metrics of STEPS train steps of configs/<name>.py:<arg>."""
    config = config_lib.load_config_file(os.path.join(REPO, "configs", f"{name}.py"), arg)
    method = get_method(config.method)
    b = config.train.batch_size
    state = method.init(config, jax.random.key(0), _batch(config, jax.random.key(1), b))
    step = jax.jit(functools.partial(method.train_step, config))
    out = []
    for i in range(STEPS):
        batch = _batch(config, jax.random.key(10 + i), b)
        state, metrics = step(state, batch, jax.random.key(100 + i))
        out.append({k: float(np.asarray(v)) for k, v in sorted(metrics.items())})
    return out


def main() -> None:
    only = sys.argv[1:]
    golden = {}
    if os.path.exists(PATH):
        with open(PATH) as f:
            golden = json.load(f)
    for name, arg in CASES:
        if only and case_id(name, arg) not in only:
            continue
        golden[case_id(name, arg)] = run_case(name, arg)
        print(case_id(name, arg), golden[case_id(name, arg)][-1], flush=True)
        with open(PATH, "w") as f:
            json.dump(golden, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
