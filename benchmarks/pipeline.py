"""Throughput of every dataset's training pipeline (clips/s), next to the train step it feeds.

Run from the repo root: ``python benchmarks/pipeline.py [--kth_data_dir=D] [--bair_data_dir=D]``.
Prints clips/s of ``source.train_batch`` per dataset on the default JAX device, and the FF-GAN
quickstart train step as the reference: a pipeline that is much faster than the step never
slows training (the loop also prefetches batches on a background thread). Without real KTH /
BAIR directories, their TFDS code path is timed on small synthetic datasets built in a
temporary directory (same readers, same decoding).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import jax
import numpy as np

try:
    import vgen  # noqa: F401
except ImportError:  # run as a plain script from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vgen import config_lib
from vgen.data import make_source
from vgen.data.pipeline import EpisodeClipSource, Episodes
from vgen.methods import ffgan

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clips_per_second(make: Callable[[jax.Array], object], batch_size: int, repeats: int) -> float:
    """Median clips/s of ``make(rng)`` over ``repeats`` timed calls after one warm-up."""
    rng = jax.random.key(0)
    jax.block_until_ready(make(rng))  # compile / open files
    times = []
    for i in range(repeats):
        r = jax.random.fold_in(rng, i + 1)
        start = time.perf_counter()
        jax.block_until_ready(make(r))
        times.append(time.perf_counter() - start)
    return batch_size / statistics.median(times)


def source_rate(source, batch_size: int, repeats: int) -> float:
    return clips_per_second(lambda r: source.train_batch(r, batch_size), batch_size, repeats)


def data_config(name: str, frames: int, resolution: int, **data) -> config_lib.ConfigDict:
    config = config_lib.common_config()
    config.data.name = name
    config.data.resolution = resolution
    config.data.context_frames = 2
    config.data.predict_frames = frames - 2
    config.data.update(data)
    return config


def ffgan_step_rate(config, repeats: int) -> float:
    """Clips/s of the jitted FF-GAN train step (data excluded) at the config's batch and shape."""
    batch_size = config.train.batch_size
    batch = make_source(config).train_batch(jax.random.key(0), batch_size)
    state = ffgan.init(config, jax.random.key(0, impl="rbg"), batch)
    step = jax.jit(functools.partial(ffgan.train_step, config))
    holder = {"state": state}

    def run(rng):
        holder["state"], metrics = step(holder["state"], batch, rng)
        return metrics

    return clips_per_second(run, batch_size, repeats)


def in_memory_episodes(num: int, length: int, shape: tuple[int, int, int]) -> Episodes:
    rng = np.random.default_rng(0)
    items = [{"video": rng.integers(0, 256, (length, *shape), dtype=np.uint8)} for _ in range(num)]
    return Episodes(items, np.full(num, length))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kth_data_dir", default="", help="a data_dir with prepared kth/64")
    parser.add_argument("--bair_data_dir", default="", help="a data_dir with bair (array_record)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    n = args.repeats

    rows = []  # (what, frames x H x W x C, batch, clips/s)
    quickstart = config_lib.load_config_file(os.path.join(REPO, "configs", "quickstart.py"))
    d, b = quickstart.data, quickstart.train.batch_size
    shape = f"{d.context_frames + d.predict_frames}x{d.resolution}x{d.resolution}x3"
    rows.append(("ffgan train_step (quickstart)", shape, b, ffgan_step_rate(quickstart, n)))
    rows.append(("dynamics", shape, b, source_rate(make_source(quickstart), b, n)))
    for batch_size in (16, 64):
        source = make_source(data_config("dynamics", 20, 64))
        rows.append(("dynamics", "20x64x64x3", batch_size, source_rate(source, batch_size, n)))
    for stochastic in (False, True):
        source = make_source(data_config("moving_mnist", 20, 64, stochastic=stochastic))
        what = "stochastic moving_mnist" if stochastic else "moving_mnist"
        rows.append((what, "20x64x64x1", 16, source_rate(source, 16, n)))
    for workers in (1, 8):
        episodes = in_memory_episodes(64, 200, (64, 64, 1))
        source = EpisodeClipSource(
            name="in-memory", seed=0, splits={"train": episodes}, num_frames=20, num_workers=workers
        )
        what = f"stored episodes, in memory ({workers} thr)"
        rows.append((what, "20x64x64x1", 16, source_rate(source, 16, n)))

    with tempfile.TemporaryDirectory() as tmp:
        for what, shape, batch_size, rate in tfds_rows(args, tmp, n):
            rows.append((what, shape, batch_size, rate))

    print(
        f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), {os.cpu_count()} CPUs"
    )
    print(f"{'pipeline':<40} {'T x H x W x C':>14} {'batch':>6} {'clips/s':>10} {'vs step':>8}")
    step = rows[0][3]
    for what, shape, batch_size, rate in rows:
        print(f"{what:<40} {shape:>14} {batch_size:>6} {rate:>10.1f} {rate / step:>7.1f}x")


def tfds_rows(args, tmp: str, repeats: int):
    """Rows for the TFDS-backed datasets (KTH, BAIR): real data if given, else synthetic."""
    rows = []
    kth_dir = args.kth_data_dir or build_synthetic_kth(tmp)
    kth_what = "kth/64 (TFDS array_record)" + ("" if args.kth_data_dir else ", synthetic")
    kth = data_config("kth", 20, 64, data_dir=kth_dir)
    rows.append((kth_what, "20x64x64x1", 16, source_rate(make_source(kth), 16, repeats)))
    bair_dir = args.bair_data_dir
    if not bair_dir:
        from vgen.data.bair import build_synthetic

        bair_dir = os.path.join(tmp, "bair")
        build_synthetic(bair_dir, num_train=72, num_test=4)
    # Synthetic frames are random noise, whose PNGs decode slower than BAIR's: pessimistic.
    bair_what = "bair (TFDS array_record)" + ("" if args.bair_data_dir else ", noise")
    bair = data_config("bair", 12, 64, data_dir=bair_dir, val_episodes=8)
    rows.append((bair_what, "12x64x64x3", 16, source_rate(make_source(bair), 16, repeats)))
    return rows


def build_synthetic_kth(tmp: str, videos: int = 12, frames: int = 300) -> str:
    """kth/64 built by the real builder from KTH-named synthetic 160x120 AVIs; its data_dir."""
    import tensorflow_datasets as tfds

    from vgen.data import kth

    manual = os.path.join(tmp, "kth_manual")
    os.makedirs(manual)
    rng = np.random.default_rng(0)
    persons = (1, 2, 3, 17, 21, 22)  # in each of the three person-block splits
    for i in range(videos):
        person = persons[i % len(persons)]
        action = kth.ACTIONS[i % len(kth.ACTIONS)]
        video = rng.integers(0, 256, (frames, 120, 160), dtype=np.uint8)
        name = f"person{person:02d}_{action}_d1_uncomp.avi"
        with open(os.path.join(manual, name), "wb") as f:
            f.write(kth.encode_avi(video))
    data_dir = os.path.join(tmp, "tfds")
    builder = kth.Kth(config="64", data_dir=data_dir, require_complete=False)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual))
    return data_dir


if __name__ == "__main__":
    main()
