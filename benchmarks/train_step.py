"""Speed of the jitted train steps at the KTH shape: SVG-LP and FF-GAN (sequences/s).

Run from the repo root: ``python benchmarks/train_step.py [--batch=20] [--repeats=5]``.
SVG-LP with its KTH config (VGG-64 encoder, g_dim 128, z_dim 24, rnn 256) on batch 20 of
10 + 10 frames of 64×64×1; FF-GAN with its KTH `:64` config on the same clips (2 context
frames). The data are random clips: the step's cost does not depend on them. Prints
sequences/s on the default JAX device, compile time apart, and FF-GAN / SVG-LP; on a GPU also
the peak device memory and the model FLOP/s (XLA's cost analysis of the step) as a fraction of
the device's peak.

``--reference=DIR`` (CPU): vgen's SVG-LP step beside the official PyTorch one, from DIR, a
checkout of edenton/svg (``benchmarks/svg_reference.py``; torch from the ``reference`` extra):
each runs in its own process, one after the other, with the same shape, batch and threads, and
the table gives both steps' times, both peak RSS and the ratios vgen / PyTorch.

``--precisions=highest,bfloat16`` times each step under `jax.default_matmul_precision`:
"highest" is float32 throughout; "bfloat16" rounds the inputs of every convolution and matmul
to bfloat16 and accumulates in float32 (parameters, activations and optimiser state stay
float32); "tensorfloat32" likewise with TF32 inputs.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import jax
import numpy as np

try:
    import vgen  # noqa: F401
except ImportError:  # run as a plain script from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vgen import config_lib, heap, xla_flags
from vgen.data import make_source
from vgen.errors import VgenError
from vgen.methods import get_method

xla_flags.apply()  # vgen.main's XLA:CPU options (VGEN_XLA_CPU_FLAGS=off: XLA's defaults)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kth_config(name: str, arg: str | None, batch: int):
    config = config_lib.load_config_file(os.path.join(REPO, "configs", name), arg)
    config.train.batch_size = batch
    config.data.context_frames, config.data.predict_frames = 10, 10
    return config


# What each --methods name times: (table label, config file, variant).
KTH_METHODS = {
    "svg_lp": ("svg_lp (svg_lp_kth.py)", "svg_lp_kth.py", None),
    "ffgan": ("ffgan (ffgan_kth.py:64)", "ffgan_kth.py", "64"),
}


def method_config(name: str, batch: int):
    """(label, config) of a --methods name at the KTH shape: 20 frames, 10 of them context for
    SVG-LP and FF-GAN's own 2."""
    what, file, arg = KTH_METHODS[name]
    config = kth_config(file, arg, batch)
    if name == "ffgan":
        config.data.context_frames, config.data.predict_frames = 2, 18
    return what, config


def random_clips(config) -> dict:
    """A batch of random one-channel clips of the config's shape: a step's cost does not depend
    on the data."""
    d = config.data
    shape = (config.train.batch_size, d.context_frames + d.predict_frames)
    frames = np.random.default_rng(0).random((*shape, d.resolution, d.resolution, 1))
    return {"video": jax.numpy.asarray(frames, np.float32)}


# Dense peak FLOP/s by input precision, from the vendor datasheets (SXM parts), to express the
# achieved rate as a fraction. Devices not listed print no fraction.
PEAK_FLOPS = {
    "NVIDIA H100 80GB HBM3": {"highest": 67e12, "tensorfloat32": 495e12, "bfloat16": 990e12},
    "NVIDIA H200": {"highest": 67e12, "tensorfloat32": 495e12, "bfloat16": 990e12},
    "NVIDIA A100-SXM4-80GB": {"highest": 19.5e12, "tensorfloat32": 156e12, "bfloat16": 312e12},
}


def step_flops(lowered) -> float | None:
    """FLOPs of one call of a lowered step, by XLA's cost analysis of the HLO before
    optimisation (None if it gives none). The compiled step's analysis is no use on a GPU: it
    leaves out the convolutions that XLA hands to cuDNN (measured on an H200: 24 of the SVG-LP
    step's 6,126 GFLOP)."""
    cost = lowered.cost_analysis()
    if isinstance(cost, list | tuple):  # older JAX: one dict per computation
        cost = cost[0] if cost else None
    return float(cost["flops"]) if cost and "flops" in cost else None


def peak_device_bytes() -> int | None:
    """The default device's peak memory in use so far (None where the backend does not say)."""
    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def time_step(config, repeats: int, batch: dict | None = None) -> tuple[float, float, float | None]:
    """(compile seconds, median seconds per step, FLOPs per step) of the method's jitted train
    step on `batch`, by default random clips of one channel."""
    method = get_method(config.method)
    if batch is None:
        batch = random_clips(config)
    # As training initialises (vgen.train.create_train_state): jitted, from one clip. Run eagerly
    # on the whole batch, init's intermediates alone raised the peak RSS by 1.4 GB at batch 4.
    one_clip = jax.tree.map(lambda x: x[:1], batch)
    state = jax.jit(functools.partial(method.init, config))(jax.random.key(0, impl="rbg"), one_clip)
    heap.release_free_memory(collect_garbage=True)  # init's executable, as vgen.train frees it
    step = jax.jit(functools.partial(method.train_step, config), donate_argnums=0)
    start = time.perf_counter()
    lowered = step.lower(state, batch, jax.random.key(1))
    step = lowered.compile()
    heap.release_free_memory()  # as vgen.train does after compiling its step
    compile_s = time.perf_counter() - start
    state, metrics = step(state, batch, jax.random.key(1))  # warm-up
    jax.block_until_ready(metrics)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        state, metrics = step(state, batch, jax.random.key(i + 2))
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - start)
    return compile_s, statistics.median(times), step_flops(lowered)


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _json_of(cmd: list[str]) -> dict:
    """Runs a benchmark process and returns the JSON object on its last line of output."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no message)"]
        raise SystemExit(f"error: {os.path.basename(cmd[1])} failed: {lines[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def side_by_side(args) -> None:
    """vgen's SVG-LP step and the official PyTorch step, one process each, one after the other."""
    common = ["--batch", str(args.batch), "--repeats", str(args.repeats)]
    here = os.path.join(REPO, "benchmarks")
    ref = _json_of(
        [sys.executable, os.path.join(here, "svg_reference.py"), f"--svg_dir={args.reference}"]
        + [f"--threads={os.cpu_count()}", *common]
    )
    ours = _json_of([sys.executable, os.path.join(here, "train_step.py"), "--json", *common])
    print(f"device: {jax.devices()[0].device_kind}, {os.cpu_count()} threads, batch {args.batch}")
    print("clips: 20 frames of 64x64x1 (SVG-LP at the KTH shape)")
    head = f"{'train step':<38} {'compile s':>9} {'s/step':>8} {'sequences/s':>12}"
    print(f"{head} {'peak RSS GiB':>13}")
    rows = [
        (f"PyTorch SVG-LP (edenton/svg, {ref['torch']})", None, ref),
        ("vgen svg_lp (svg_lp_kth.py)", ours["compile_s"], ours),
    ]
    for what, compile_s, r in rows:
        comp = f"{compile_s:.1f}" if compile_s is not None else "-"
        rate = args.batch / r["s_per_step"]
        gib = r["peak_rss_bytes"] / 2**30
        print(f"{what:<38} {comp:>9} {r['s_per_step']:>8.2f} {rate:>12.2f} {gib:>13.2f}")
    speed = ref["s_per_step"] / ours["s_per_step"]
    memory = ours["peak_rss_bytes"] / ref["peak_rss_bytes"]
    print(f"vgen / PyTorch: sequences/s {speed:.2f}x, peak RSS {memory:.2f}x")


def config_and_batch(spec: str) -> tuple:
    """(config, a training batch of its own data) of `--config=path[:variant]`; a bad path or
    variant ends the benchmark with one line."""
    path, _, arg = spec.partition(":")
    try:
        config = config_lib.load_config_file(path, arg or None)
        batch = make_source(config).train_batch(jax.random.key(0), config.train.batch_size)
    except VgenError as e:
        raise SystemExit(f"error: --config={spec}: {e}") from None
    return config, batch


def own_config_step(spec: str, repeats: int) -> None:
    """Prints the train step's time of a config (path[:variant]) at its own shape and batch."""
    config, batch = config_and_batch(spec)
    compile_s, step_s, _ = time_step(config, repeats, batch)
    shape = "x".join(str(n) for n in batch["video"].shape)
    print(f"device: {jax.devices()[0].device_kind}, {os.cpu_count()} threads")
    print(f"{spec}: clips {shape}, compile {compile_s:.1f} s, {1000 * step_s:.0f} ms/step")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reference", help="a checkout of edenton/svg: time its step beside")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # side_by_side's
    parser.add_argument("--methods", default="svg_lp,ffgan", help="comma-separated subset")
    parser.add_argument(
        "--config",
        help="instead: the step of this config file[:variant] on a batch of its own data "
        "(a dataset that needs no preparing, e.g. configs/svg_lp_dynamics.py)",
    )
    parser.add_argument(
        "--precisions",
        default="highest",
        help="comma-separated jax.default_matmul_precision: highest, bfloat16, tensorfloat32",
    )
    args = parser.parse_args()
    if args.reference:
        side_by_side(args)
        return
    if args.config:
        own_config_step(args.config, args.repeats)
        return
    if args.json:  # one SVG-LP row for side_by_side, with this process's peak memory
        config = kth_config("svg_lp_kth.py", None, args.batch)
        compile_s, step_s, _ = time_step(config, args.repeats)
        row = dict(compile_s=compile_s, s_per_step=step_s, peak_rss_bytes=peak_rss_bytes())
        print(json.dumps(row))
        return
    methods = args.methods.split(",")
    unknown = set(methods) - set(KTH_METHODS)
    if unknown:
        parser.error(f"unknown --methods {sorted(unknown)}; choose from svg_lp, ffgan")

    precisions = args.precisions.split(",")
    bad = set(precisions) - {"highest", "bfloat16", "tensorfloat32"}
    if bad:
        parser.error(
            f"unknown --precisions {sorted(bad)}; choose from highest, bfloat16, tensorfloat32"
        )

    device = jax.devices()[0]
    peaks = PEAK_FLOPS.get(device.device_kind, {})
    print(f"device: {device.device_kind} ({jax.default_backend()}), batch {args.batch}")
    print("clips: 20 frames of 64x64x1")
    header = (
        f"{'train step':<26} {'precision':<13} {'compile s':>10} {'s/step':>8} {'sequences/s':>12}"
    )
    print(
        f"{header} {'GFLOP/step':>11} {'TFLOP/s':>8} {'of peak':>8} {'peak mem GiB':>12}",
        flush=True,
    )
    rates = {}
    for name in methods:
        what, config = method_config(name, args.batch)
        for precision in precisions:
            with jax.default_matmul_precision(precision):
                compile_s, step_s, flops = time_step(config, args.repeats)
            rates[name, precision] = args.batch / step_s
            gflop = f"{flops / 1e9:.1f}" if flops else "n/a"
            tflops = f"{flops / step_s / 1e12:.2f}" if flops else "n/a"
            share = (
                f"{flops / step_s / peaks[precision]:.1%}"
                if flops and precision in peaks
                else "n/a"
            )
            mem = peak_device_bytes()
            mem = f"{mem / 2**30:.2f}" if mem else "n/a"
            rate = rates[name, precision]
            line = f"{what:<26} {precision:<13} {compile_s:>10.1f} {step_s:>8.3f} {rate:>12.1f}"
            print(f"{line} {gflop:>11} {tflops:>8} {share:>8} {mem:>12}", flush=True)
    for precision in precisions:
        if ("svg_lp", precision) in rates and ("ffgan", precision) in rates:
            ratio = rates["ffgan", precision] / rates["svg_lp", precision]
            print(f"ffgan / svg_lp sequences/s ({precision}): {ratio:.2f}")


if __name__ == "__main__":
    main()
