"""Loading weights that packages ship as pickles, without running arbitrary code.

`pickle.load` can call any importable function, so a weight file is only as trustworthy as its
whole download chain. `load_arrays` admits only what a tree of numpy arrays needs (numpy's array
reconstruction and dtypes, dicts, lists, tuples, numbers, strings) and rejects every other
global with `UnsafePickleError`, before anything is called.
"""

import importlib.util
import io
import os
import pickle
from typing import Any

import numpy as np

# (module, name) pairs a pickled tree of numpy arrays refers to; numpy 2 renamed numpy.core.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("collections", "OrderedDict"),
}


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle refers to something other than arrays and plain containers."""


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            if module.startswith("numpy.core"):  # the name numpy 1 wrote; numpy 2 has _core
                module = "numpy._core" + module.removeprefix("numpy.core")
            return super().find_class(module, name)
        raise UnsafePickleError(f"refusing to load {module}.{name}: only arrays are allowed")


def load_arrays(path: str) -> Any:
    """The nested dicts/lists of numpy arrays pickled in `path` (UnsafePickleError otherwise)."""
    with open(path, "rb") as f:
        return loads_arrays(f.read())


def load_package_arrays(package: str, *path: str, needed_for: str) -> Any:
    """`load_arrays` of a file that an installed package ships (found without importing the
    package's code); a missing package is a ConfigError naming what needs it."""
    from vgen.errors import ConfigError

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip_name = package.replace("_", "-")
        raise ConfigError(f"{needed_for} needs the {pip_name} package: pip install {pip_name}")
    return load_arrays(os.path.join(spec.submodule_search_locations[0], *path))


def loads_arrays(data: bytes) -> Any:
    """As `load_arrays`, from bytes."""
    tree = _ArraysOnly(io.BytesIO(data)).load()
    return _check_leaves(tree)


def _check_leaves(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _check_leaves(v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(_check_leaves(v) for v in tree)
    if isinstance(tree, np.ndarray) and tree.dtype.kind in "fiub":
        return tree
    if isinstance(tree, int | float | str | bool | np.generic):
        return tree
    raise UnsafePickleError(f"unexpected {type(tree).__name__} in the pickled weights")
