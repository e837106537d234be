"""Where a jitted train step's time goes, by operation: one step traced with the JAX profiler.

Run from the repo root: ``python benchmarks/profile_step.py [--method=svg_lp|ffgan] [--batch=4]``
(the KTH shape of benchmarks/train_step.py) or ``--config=configs/svg_lp_dynamics.py`` (a
config's own shape and data). Each XLA:CPU operation of the step ("thunk") that the profiler
records is matched to its instruction in the compiled HLO, classed (convolution, dot,
reduction, copy/transpose, other fused elementwise work) and split into the forward pass and the
backward pass (``transpose(jvp(...))`` in the instruction's name). Prints the classes and the
costliest layers. Calls into XNNPACK (vgen.xla_flags sends convolutions and dots there) are not
recorded one by one: they are the step's wall time less the recorded operations.
"""

from __future__ import annotations

import argparse
import collections
import functools
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time

import jax

try:
    import vgen  # noqa: F401
except ImportError:  # run as a plain script from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_step import (  # noqa: E402  (applies vgen.xla_flags)
    KTH_METHODS,
    config_and_batch,
    method_config,
    random_clips,
)

from vgen.methods import get_method  # noqa: E402

INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%([\w.\-]+) = ")
CALLS = re.compile(r"calls=%([\w.\-]+)")
OP_NAME = re.compile(r'op_name="([^"]*)"')


def hlo_index(text: str) -> tuple[dict[str, tuple[str, str | None]], dict[str, str]]:
    """(instruction -> (its line, the computation it calls), computation name -> its body)."""
    instructions, bodies, current = {}, {}, None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.rstrip().endswith("{"):
            current = line.split()[0].lstrip("%")
            if current == "ENTRY":
                current = line.split()[1].lstrip("%")
            bodies[current] = ""
            continue
        if current is not None:
            bodies[current] += line + "\n"
        m = INSTRUCTION.match(line)
        if m:
            calls = CALLS.search(line)
            instructions[m.group(1)] = (line, calls.group(1) if calls else None)
    return instructions, bodies


def classify(name: str, instructions, bodies) -> tuple[str, str]:
    """(class, layer) of a recorded thunk."""
    if name not in instructions:
        return "other (runtime)", ""
    line, calls = instructions[name]
    body = bodies.get(calls, "") if calls else line
    # A fusion's own line may carry no source name; its fused instructions do.
    op_name = OP_NAME.search(line) or OP_NAME.search(body)
    op_name = op_name.group(1) if op_name else ""
    if "convolution(" in body:
        kind = "convolution"
    elif " dot(" in body:
        kind = "dot"
    elif "reduce-window(" in body or " reduce(" in body or "scatter(" in body:
        kind = "reduction / scatter"
    elif name.startswith(("transpose", "copy")) or " transpose(" in body:
        kind = "copy / transpose"
    else:
        kind = "fused elementwise"
    side = "backward" if "transpose(" in op_name else "forward"
    layer = re.sub(r"(transpose|jvp|jit)\(|\)", "", op_name).removeprefix("train_step/")
    layer = re.sub(r"/[a-z_\-]+$", "", layer)
    return f"{kind}, {side}", layer


def profile(config, batch: dict, top: int) -> None:
    method = get_method(config.method)
    one_clip = jax.tree.map(lambda x: x[:1], batch)
    state = jax.jit(functools.partial(method.init, config))(jax.random.key(0, impl="rbg"), one_clip)
    step = jax.jit(functools.partial(method.train_step, config), donate_argnums=0)
    compiled = step.lower(state, batch, jax.random.key(1)).compile()
    state, metrics = compiled(state, batch, jax.random.key(1))  # warm-up
    jax.block_until_ready(metrics)
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir, create_perfetto_trace=True)
        start = time.perf_counter()
        state, metrics = compiled(state, batch, jax.random.key(2))
        jax.block_until_ready(metrics)
        wall = time.perf_counter() - start
        jax.profiler.stop_trace()
        (path,) = glob.glob(os.path.join(trace_dir, "**", "perfetto_trace.json.gz"), recursive=True)
        with gzip.open(path) as f:
            trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    instructions, bodies = hlo_index(compiled.as_text())
    by_class, by_layer = collections.Counter(), collections.Counter()
    for e in events:
        name = e.get("name", "")
        if e.get("ph") != "X" or "::" in name or name.startswith(("$", "Pjit", "Slinky")):
            continue
        kind, layer = classify(name, instructions, bodies)
        by_class[kind] += e["dur"] / 1e6
        by_layer[kind, layer] += e["dur"] / 1e6
    # Two threads run operations side by side, so the recorded sum can exceed the wall time.
    recorded = sum(by_class.values())
    print(f"device: {jax.devices()[0].device_kind}, {os.cpu_count()} threads")
    print(f"step: {wall:.2f} s wall; operations recorded: {recorded:.2f} s (summed over threads)")
    print(f"not recorded (XNNPACK calls, waits): {max(wall - recorded, 0):.2f} s at least")
    print(f"{'class':<34} {'seconds':>8} {'share':>7}")
    for kind, s in by_class.most_common():
        print(f"{kind:<34} {s:>8.2f} {s / max(recorded, 1e-9):>7.1%}")
    print(f"\ncostliest layers ({top}):")
    for (kind, layer), s in by_layer.most_common(top):
        print(f"{s:>7.2f} s  {kind:<30} {layer[:90]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="svg_lp", choices=sorted(KTH_METHODS))
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--config", help="a config file[:variant] at its own shape instead")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    if args.config:
        config, batch = config_and_batch(args.config)
    else:
        _, config = method_config(args.method, args.batch)
        batch = random_clips(config)
    profile(config, batch, args.top)


if __name__ == "__main__":
    main()
