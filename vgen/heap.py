"""Giving the memory that XLA's compiler freed back to the operating system.

Compiling a train step allocates and frees about a gigabyte on the host (SVG-LP at the KTH
shape: RSS 0.5 -> 1.5 GB over the compilation, of which 0.6 GB is freed memory that glibc keeps
mapped). The step's buffers are then allocated on top of it, so the process's peak memory
counted that freed gigabyte. `release_free_memory()` after compiling returns it: the peak RSS of
SVG-LP's KTH step at batch 4 fell from 3.32 to 2.75 GB (`python benchmarks/train_step.py`).
"""

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return None


def release_free_memory(collect_garbage: bool = False) -> bool:
    """Returns the heap's freed pages to the OS (glibc's malloc_trim); False where there is no
    glibc. Costs milliseconds: call it after a compilation, not every step.

    collect_garbage: first free the objects that only Python's cycle collector frees. A jitted
    function run once and dropped is one: its executable stays until the next collection
    (SVG-LP's init at the KTH shape: 0.09 GB, which counted in the train step's peak)."""
    if collect_garbage:
        gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
