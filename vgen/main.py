"""Command-line entry point: `python -m vgen.main --config=configs/quickstart.py --workdir=DIR`.

Kept short on purpose: flags, device setup, one call into train / evaluate. Any config field
can be overridden, e.g. `--config.train.num_steps=100`.
"""

import logging as std_logging
import sys

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from vgen.errors import VgenError

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Experiment config file (path[:variant]).")
flags.DEFINE_string("workdir", None, "Run directory: checkpoints, logs, samples, eval.")
flags.DEFINE_enum("mode", "train", ["train", "eval", "sample"], "What to do.")
flags.mark_flags_as_required(["config", "workdir"])


class _QuietOrbax(std_logging.Filter):
    """Orbax logs every step of every save at INFO; keep its warnings and errors only."""

    def filter(self, record: std_logging.LogRecord) -> bool:
        return record.levelno >= std_logging.WARNING or "/orbax/" not in record.pathname


def parse_flags(argv: list[str]) -> list[str]:
    """absl flag parsing, with an error of the config file (an unknown variant) or an override
    of a config field that does not exist (which ml_collections reports as a KeyError /
    AttributeError traceback) turned into one clear line and exit status 2."""
    try:
        return app.parse_flags_with_usage(argv)
    except VgenError as e:  # raised by a config file's get_config, e.g. an unknown variant
        print(f"vgen: error: {e}", file=sys.stderr)
        sys.exit(2)
    except (AttributeError, KeyError) as e:
        key = str(e).strip("\"'")
        paths = [a[2:].split("=")[0].split(".") for a in argv[1:] if a.startswith("--config.")]
        path = next((p for p in paths if key in p[1:]), None)
        if path is None:
            print(f"vgen: error: a --config override names no config field: {e}", file=sys.stderr)
        else:
            parent = ".".join(path[: path.index(key, 1)])
            flag = ".".join(path)
            print(f"vgen: error: no field {key!r} in {parent} (--{flag})", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.get_absl_handler().addFilter(_QuietOrbax())
    # TensorFlow (TFDS, TensorBoard) must not claim the GPUs that JAX uses.
    import tensorflow as tf

    tf.config.set_visible_devices([], "GPU")
    from vgen import evaluate, sharding, train

    try:
        sharding.initialize_distributed()
        logging.info(
            "JAX devices: %s (process %d of %d)",
            jax.devices(),
            jax.process_index(),
            jax.process_count(),
        )
        if FLAGS.mode == "train":
            train.train_and_evaluate(FLAGS.config, FLAGS.workdir)
        elif FLAGS.mode == "eval":
            evaluate.evaluate(FLAGS.config, FLAGS.workdir)
        else:
            evaluate.write_sample_grids(FLAGS.config, FLAGS.workdir)
    except VgenError as e:
        print(f"vgen: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
