"""vgen.heap.release_free_memory returns freed heap pages to the OS (Linux, glibc)."""

import sys

import pytest

from vgen import heap


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_freed_heap_goes_back_to_the_os():
    # 200 MB of 4 KiB blocks (malloc's heap, not mmap), then a block after them so that the freed
    # range is not at the top of the heap, which free() would give back by itself.
    blocks = [bytearray(4096) for _ in range(50_000)]
    pin = bytearray(4096)
    del blocks
    before = _rss_bytes()
    assert heap.release_free_memory()
    assert before - _rss_bytes() > 100 * 2**20
    del pin


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_collect_garbage_frees_memory_held_by_a_reference_cycle():
    import gc

    gc.disable()  # so that no automatic collection frees the cycle first
    try:

        class Holder:
            pass

        a, b = Holder(), Holder()
        a.other, b.other = b, a  # a cycle: freed only by the cycle collector
        a.blocks = [bytearray(4096) for _ in range(50_000)]
        pin = bytearray(4096)
        del a, b
        before = _rss_bytes()
        heap.release_free_memory()
        assert before - _rss_bytes() < 50 * 2**20  # still held
        assert heap.release_free_memory(collect_garbage=True)
        assert before - _rss_bytes() > 100 * 2**20
        del pin
    finally:
        gc.enable()
