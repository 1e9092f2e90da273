"""Keep freed memory in the process heap for the length of a block (glibc only).

The score stage allocates and frees many arrays of tens of MB. By default glibc serves each
from a fresh `mmap` and unmaps it on free, so every allocation page-faults its memory in
again: a large share of the run's time on 10 M-row windows. Inside `retained_heap`, large
blocks come from the heap and freed ones are reused; on exit the defaults are restored and
the free memory handed back to the system. Peak memory barely moves: freed blocks are
reused, not added to. Elsewhere than glibc this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_DEFAULT_THRESHOLD = 128 * 1024  # glibc's initial value of both
_RETAIN = 1 << 30
_lock = threading.Lock()
_depth = 0


def _libc() -> ctypes.CDLL | None:
    try:
        name = ctypes.util.find_library("c") or "libc.so.6"
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


@contextmanager
def retained_heap() -> Iterator[None]:
    """Within the block, large freed blocks stay in the heap for reuse (see module doc)."""
    global _depth
    libc = _LIBC
    if libc is None:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(_M_MMAP_THRESHOLD, _RETAIN)
            libc.mallopt(_M_TRIM_THRESHOLD, _RETAIN)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(_M_MMAP_THRESHOLD, _DEFAULT_THRESHOLD)
                libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_THRESHOLD)
                libc.malloc_trim(0)
