"""Shared test helpers: load configs, find each method's `:tiny` config, run the real command
line (or a Python script) in a subprocess on tiny configs."""

import glob
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Datasets that need no preparation (generated, or shipped with a package).
EMBEDDED = ("dynamics", "moving_mnist", "mnist")


def config_names() -> list[str]:
    """The names of configs/*.py (not the package's __init__), sorted."""
    paths = glob.glob(os.path.join(REPO, "configs", "[!_]*.py"))
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in paths)


def load_config(name: str, arg: str | None = None):
    """configs/<name>.py's get_config(arg), as --config=configs/<name>.py:<arg> gives it."""
    from vgen import config_lib

    return config_lib.load_config_file(os.path.join(REPO, "configs", f"{name}.py"), arg)


def tiny_configs() -> dict[str, str]:
    """{method: the config whose `:tiny` variant represents it}: of the configs that offer
    `:tiny`, one on embedded data (preferring EMBEDDED's order, then the name); a method whose
    tiny configs all need prepared data maps to the first of them."""
    ranked: dict[str, list[tuple[int, str]]] = {}
    for name in config_names():
        with open(os.path.join(REPO, "configs", f"{name}.py")) as f:
            if ":tiny" not in f.read():
                continue
        config = load_config(name, "tiny")
        data = config.data.name
        rank = EMBEDDED.index(data) if data in EMBEDDED else len(EMBEDDED)
        ranked.setdefault(config.method, []).append((rank, name))
    return {method: min(found)[1] for method, found in sorted(ranked.items())}


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
        # The tests' runs differ in config values, each a new key for vgen.executables, which
        # compiles afresh what JAX's cache would serve in seconds; the tests of
        # vgen.executables turn it on.
        VGEN_EXECUTABLES="off",
    )
    out.update(extra)
    return out


def run_python(*args: str, timeout: int = 600, **extra_env: str) -> subprocess.CompletedProcess:
    """Runs `python ARGS` (e.g. "-c", SCRIPT) from the repo root; returns the completed process."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env(**extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def vgen_main(*args: str, timeout: int = 600, **extra_env: str) -> subprocess.CompletedProcess:
    """Runs `python -m vgen.main ARGS` from the repo root; returns the completed process."""
    return run_python("-m", "vgen.main", *args, timeout=timeout, **extra_env)
