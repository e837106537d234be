"""Command-line entry point: `python -m vgen.main --config=configs/quickstart.py --workdir=DIR`.

Kept short on purpose: flags, hiding the GPUs from TensorFlow, logging the devices, one call
into vgen.train / vgen.evaluate. The wording of flag errors lives in vgen.config_lib. Any config
field can be overridden, e.g. `--config.train.num_steps=100`.
"""

import logging as std_logging
import os
import sys

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from vgen import config_lib, xla_flags
from vgen.errors import VgenError
from vgen.workdir import fs_message

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Experiment config file (path[:variant]).")
flags.DEFINE_string("workdir", None, "Run directory: checkpoints, logs, samples, eval.")
flags.DEFINE_enum("mode", "train", ["train", "eval", "sample"], "What to do.")
flags.DEFINE_string(
    "compilation_cache",
    None,
    "Directory of JAX's persistent compilation cache, or 'off'. Default: "
    "$JAX_COMPILATION_CACHE_DIR if set, else $XDG_CACHE_HOME/vgen/jax (~/.cache/vgen/jax).",
)
flags.mark_flags_as_required(["config", "workdir"])


def parse_flags(argv: list[str]) -> list[str]:
    """absl flag parsing, and loading the config file before anything starts: a missing config
    file, a config file's error (an unknown variant) or an override of a field that does not
    exist ends as one line and exit status 2."""
    try:
        rest = app.parse_flags_with_usage(argv)
        path = FLAGS["config"].config_filename.split(":", 1)[0]
        if not os.path.isfile(path):
            config_lib.exit_with(f"--config: no such file: {path}")
        FLAGS.config  # noqa: B018 (ml_collections loads the file and applies overrides here)
        return rest
    except (VgenError, AttributeError, KeyError) as e:
        config_lib.exit_with(config_lib.flag_error_message(e, argv))


def compilation_cache_dir(flag: str | None) -> str | None:
    """The persistent compilation cache's directory for --compilation_cache (None: off).

    A second start of a run (a resume, an eval) then loads its compiled steps instead of
    compiling them again; JAX caches only programs that took at least a second to compile."""
    if flag == "off":
        return None
    if flag:
        return flag
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return os.environ["JAX_COMPILATION_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vgen", "jax")


def quiet_orbax(record: std_logging.LogRecord) -> bool:
    """Orbax logs every step of every save at INFO: keep its warnings and errors only. A failed
    save or restore (a full disk, a damaged file) makes orbax and asyncio log an error with a
    traceback for every array; vgen reports the failure in one line, so they keep one line."""
    if record.name == "asyncio" and "exception was never retrieved" in str(record.msg):
        return False
    quiet = "/orbax/" in record.pathname or record.name == "asyncio"
    if quiet and record.levelno >= std_logging.ERROR:
        record.exc_info, record.exc_text = None, None
        record.msg, record.args = str(record.getMessage()).splitlines()[0][:200], ()
    return record.levelno >= std_logging.WARNING or "/orbax/" not in record.pathname


def _is_orbax_aftermath(error: BaseException) -> bool:
    """The errors orbax's storage callbacks print after a failed save or restore: they reach an
    event loop that is already closed, or a coroutine that was abandoned."""
    return isinstance(error, RuntimeError) and str(error) == "Event loop is closed"


def silence_orbax_aftermath() -> None:
    """Keeps the tracebacks of `_is_orbax_aftermath` errors (one per array, printed from
    orbax's threads and coroutines) out of the terminal; every other error prints as before."""
    excepthook, unraisablehook = sys.excepthook, sys.unraisablehook

    def on_exception(kind, error, tb):
        if not _is_orbax_aftermath(error):
            excepthook(kind, error, tb)

    def on_unraisable(info):
        where = getattr(getattr(info.object, "cr_code", None), "co_filename", "")
        if not (_is_orbax_aftermath(info.exc_value) or "/orbax/" in where):
            unraisablehook(info)

    sys.excepthook, sys.unraisablehook = on_exception, on_unraisable


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    added = xla_flags.apply()  # before JAX's first computation: XLA reads XLA_FLAGS once
    logging.get_absl_handler().addFilter(quiet_orbax)
    silence_orbax_aftermath()
    # TF only reads data and writes TensorBoard files here: its oneDNN kernels buy nothing,
    # and the notice they print at import is noise before vgen's own messages.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        import tensorflow as tf  # TFDS and TensorBoard must not claim the GPUs that JAX uses

        tf.config.set_visible_devices([], "GPU")
    except ImportError:  # launch/no_tensorflow.py: then nothing can claim them
        pass
    from vgen import evaluate, sharding, train

    cache = compilation_cache_dir(FLAGS.compilation_cache)
    if cache is not None:
        try:
            os.makedirs(cache, exist_ok=True)
        except OSError as e:  # a speed-up only: the run goes on without it
            logging.warning("Compilation cache off: cannot create %s (%s).", cache, e.strerror)
            cache = None
    jax.config.update("jax_enable_compilation_cache", cache is not None)
    if cache is not None:
        jax.config.update("jax_compilation_cache_dir", cache)

    modes = {"train": train.train_and_evaluate, "eval": evaluate.evaluate}
    modes["sample"] = evaluate.write_sample_grids
    try:
        sharding.initialize_distributed()
        devices = (jax.devices(), jax.process_index(), jax.process_count())
        logging.info("JAX devices: %s (process %d of %d)", *devices)
        if added:
            logging.info("XLA:CPU options (vgen.xla_flags): %s", " ".join(added))
        modes[FLAGS.mode](FLAGS.config, FLAGS.workdir)
    except VgenError as e:
        config_lib.exit_with(str(e))
    except OSError as e:  # the file system: disk full, a directory removed or read-only
        config_lib.exit_with(fs_message(e.filename or FLAGS.workdir, e))


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
