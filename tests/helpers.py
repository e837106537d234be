"""Shared test helpers: load configs, run the real command line in a subprocess on tiny configs."""

import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_config(name: str, arg: str | None = None):
    """configs/<name>.py's get_config(arg), as --config=configs/<name>.py:<arg> gives it."""
    from vgen import config_lib

    return config_lib.load_config_file(os.path.join(REPO, "configs", f"{name}.py"), arg)


# Compiled programs are reused across the many short runs of the tests.
JAX_CACHE = os.path.join(tempfile.gettempdir(), "vgen-tests-jax-cache")


def env(**extra: str) -> dict[str, str]:
    out = dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=REPO,
        JAX_COMPILATION_CACHE_DIR=JAX_CACHE,
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
    )
    out.update(extra)
    return out


def vgen_main(*args: str, timeout: int = 600, **extra_env: str) -> subprocess.CompletedProcess:
    """Runs `python -m vgen.main ARGS` from the repo root; returns the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "vgen.main", *args],
        cwd=REPO,
        env=env(**extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
