"""Compiled train steps kept on disk, so that a run's second start neither traces nor compiles.

JAX's persistent compilation cache (vgen.main's --compilation_cache) skips XLA's compilation
but not tracing and lowering the step, which is most of what a warm start still spent (SVG-LP
on Dynamics: 3.5 s of a 12.4 s first step). Here the compiled executable itself is stored,
under a key computed without tracing: the config, the arguments' structure, shapes, dtypes and
shardings, the devices, the JAX and jaxlib versions, XLA_FLAGS and the source of the vgen
package. Any change to one of them is a new key, hence a compilation. One process only: a
multi-process run compiles as before.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import re
import tempfile
import time
from collections.abc import Callable
from typing import Any

import jax
import jaxlib
import ml_collections
from absl import logging
from jax.experimental import serialize_executable
from jax.experimental.compilation_cache import compilation_cache

PACKAGE = os.path.dirname(os.path.abspath(__file__))
# A full disk, a read-only directory, an executable or tree that cannot be serialised.
KEEP = 16  # executables kept in the directory, the most recently used
_CANNOT_STORE = (OSError, ValueError, NotImplementedError, pickle.PicklingError, AttributeError)


@functools.cache
def source_digest() -> str:
    """sha256 of every .py file of the vgen package (paths and contents)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(PACKAGE):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                digest.update(os.path.relpath(path, PACKAGE).encode())
                with open(path, "rb") as f:
                    digest.update(f.read())
    return digest.hexdigest()


def _describe(x: Any) -> str:
    sharding = getattr(x, "sharding", None)
    return f"{getattr(x, 'shape', ())}:{getattr(x, 'dtype', type(x).__name__)}:{sharding}"


def step_key(name: str, config: ml_collections.ConfigDict, args: tuple) -> str:
    """The file name under which `name`'s executable for `config` and `args` is kept."""
    leaves, tree = jax.tree.flatten(args)
    parts = [
        name,
        config.to_json_best_effort(sort_keys=True),
        re.sub(r" at 0x[0-9a-f]+", "", str(tree)),  # the optimiser's functions, no addresses
        ";".join(_describe(x) for x in leaves),
        str([(d.platform, d.device_kind, d.id) for d in jax.devices()]),
        jax.__version__,
        jaxlib.__version__,
        os.environ.get("XLA_FLAGS", ""),
        source_digest(),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32] + ".jaxexe"


def _trees(args: tuple, aux_tree) -> tuple:
    """(in_tree, out_tree) of a step (state, ...) -> (state, aux), rebuilt from the arguments:
    the state's tree holds its optimiser (functions that cannot be pickled), so only the
    aux tree is stored."""
    aux = aux_tree.unflatten([0] * aux_tree.num_leaves)
    return jax.tree.structure((args, {})), jax.tree.structure((args[0], aux))


def _load(path: str, args: tuple):
    with open(path, "rb") as f:
        payload, aux_tree = pickle.load(f)
    return serialize_executable.deserialize_and_load(payload, *_trees(args, aux_tree))


def _store(path: str, compiled, args: tuple) -> None:
    payload, in_tree, out_tree = serialize_executable.serialize(compiled)
    children = out_tree.children()
    if len(children) != 2 or _trees(args, children[1]) != (in_tree, out_tree):
        raise ValueError("not a step (state, ...) -> (state, aux)")
    blob = pickle.dumps((payload, children[1]))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)  # readers see the whole file or none
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def _persistent_cache_off():
    """JAX's persistent compilation cache off for the compilations inside. JAX decides once per
    process whether it uses its cache, so the decision is reset on the way in and out."""
    enabled = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", enabled)
        compilation_cache.reset_cache()


def _compile(jitted: Callable, args: tuple, options: dict | None = None) -> tuple[Any, bool]:
    """(the compiled step, whether JAX's persistent compilation cache served it)."""
    hits = []

    def listen(event: str, **kwargs) -> None:
        if event == "/jax/compilation_cache/cache_hits":
            hits.append(event)

    jax.monitoring.register_event_listener(listen)
    try:
        compiled = jitted.lower(*args).compile(options)
    finally:
        jax.monitoring.unregister_event_listener(listen)
    return compiled, bool(hits)


def _prune(directory: str, keep: int = KEEP) -> None:
    """Deletes all but the `keep` most recently used executables: every edit of vgen's source
    makes new keys, and an SVG-LP step at the KTH shape is tens of megabytes."""
    names = [n for n in os.listdir(directory) if n.endswith(".jaxexe")]
    paths = sorted((os.path.join(directory, n) for n in names), key=os.path.getmtime)
    for path in paths[:-keep]:
        with contextlib.suppress(OSError):  # another process may have removed it
            os.remove(path)


def load_or_compile(
    jitted: Callable, args: tuple, key: str, directory: str | None
) -> tuple[Callable, str]:
    """(the compiled `jitted` for `args`, how it was obtained: "loaded", "compiled" or
    "compiled and stored"). `jitted` is a step (state, ...) -> (state, aux) whose state keeps
    its tree. `directory` None or a multi-process run: compiled only. A file that
    cannot be read (damaged, from another build) is compiled again and replaced; a directory
    that cannot be written costs the next start its compilation, not this run."""
    start = time.perf_counter()
    path = None if directory is None or jax.process_count() > 1 else os.path.join(directory, key)
    compiled, how = None, "compiled"
    if path is not None and os.path.isfile(path):
        try:
            compiled, how = _load(path, args), "loaded"
            os.utime(path)  # recently used: kept by _prune
        except Exception as e:  # noqa: BLE001 (any failure to load means: compile instead)
            logging.warning("Compiling again: cannot load %s (%s).", path, str(e)[:200])
    if compiled is None:
        compiled, from_cache = _compile(jitted, args)
        if path is not None and from_cache:
            # An XLA:CPU executable read from JAX's cache does not serialise whole: stored, then
            # loaded in a new process, it failed at its first run with "Function
            # compare_concatenate_fusion not found". Compiled again without that cache, and
            # under an option that only changes the key of JAX's in-memory cache, which would
            # otherwise return the same executable.
            with _persistent_cache_off():
                compiled, from_cache = _compile(jitted, args, {"xla_enable_dumping": False})
        if path is not None and not from_cache:
            try:
                _store(path, compiled, args)
                _prune(os.path.dirname(path))
                how = "compiled and stored"
            except _CANNOT_STORE as e:
                logging.warning("Compiled step not kept: %s (%s).", path, str(e)[:200])
    where = key if path is not None else "not stored"
    logging.info("Step %s in %.1f s (%s).", how, time.perf_counter() - start, where)
    return compiled, how


def directory() -> str | None:
    """Where executables are kept: `executables/` in JAX's persistent compilation cache
    directory (vgen.main's --compilation_cache); None when that cache is off or unset, and
    when VGEN_EXECUTABLES=off."""
    cache = jax.config.jax_compilation_cache_dir
    enabled = os.environ.get("VGEN_EXECUTABLES", "on") != "off"
    if not enabled or not jax.config.jax_enable_compilation_cache or not cache:
        return None
    return os.path.join(cache, "executables")
