"""Fewer malloc arenas in a worker process.

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

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's arenas for threads started from now on (and in processes forked after);
    False where the C library is not glibc (musl, macOS), which has nothing to cap."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
