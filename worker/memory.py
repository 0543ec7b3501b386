"""Fewer malloc arenas in a worker process, and what they hold freed given back.

glibc gives threads arenas of their own, up to eight per core, so that threads allocating at
once do not wait on each other's lock. A worker's threads allocate under the interpreter's
lock anyway (one at a time), yet each arena keeps the memory its threads freed for itself: a
worker with a hundred call threads held 10 MiB more than with two arenas (294 against 305 MiB in
a paired backfill run, BENCHMARKS.md). ``M_ARENA_MAX`` is what ``MALLOC_ARENA_MAX`` sets, but
from inside the process, before the threads start, so no deployment has to remember it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from functools import lru_cache

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    # glibc's, not musl's or macOS's: they have neither call.
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's arenas for threads started from now on (and in processes forked after);
    False where the C library is not glibc (musl, macOS), which has nothing to cap."""
    libc = _libc()
    return libc is not None and bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim_malloc() -> bool:
    """Give the pages free in every arena back to the system (``malloc_trim(0)``); True when
    some were. glibc gives back only what is free at an arena's top by itself: a fill's
    buffers freed below live ones stay in the worker's memory until the next fill reuses them."""
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))


def trim_malloc_every(seconds: float, stop: threading.Event | None = None) -> threading.Thread:
    """A daemon thread that trims every ``seconds`` (until ``stop`` is set)."""
    stopping = stop or threading.Event()

    def run() -> None:
        while not stopping.wait(seconds):
            trim_malloc()

    thread = threading.Thread(target=run, name="autofill-trim", daemon=True)
    thread.start()
    return thread
