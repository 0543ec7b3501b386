"""A worker's malloc (worker.memory): freed memory below live blocks goes back to the system when
trimmed, and the trimming thread runs until told to stop. In a child process, so this test
process's heap is neither measured nor disturbed."""

from __future__ import annotations

import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from worker.memory import trim_malloc, trim_malloc_every

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's (musl, macOS: nothing)"
)

FRAGMENTED = """
import os, sys
sys.path.insert(0, {root!r})
from worker.memory import trim_malloc

def rss_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

# 200 MiB of 2 KiB blocks (malloc's, past Python's small-object allocator), then every block
# but one in 64 freed: the survivors pin the arena's top, so glibc keeps the free pages.
blocks = [bytes(2048) for _ in range(100_000)]
kept = blocks[::64]
del blocks
before = rss_mib()
trimmed = trim_malloc()
print(before, rss_mib(), trimmed)
"""


def test_trimming_gives_freed_pages_below_live_blocks_back() -> None:
    root = str(Path(__file__).resolve().parents[2])
    result = subprocess.run(
        [sys.executable, "-c", FRAGMENTED.format(root=root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    before, after, trimmed = result.stdout.split()
    assert trimmed == "True"
    assert float(before) - float(after) > 100  # most of the 200 MiB freed went back


def test_the_trimming_thread_stops_when_told() -> None:
    stop = threading.Event()
    thread = trim_malloc_every(0.01, stop)
    assert thread.daemon and thread.name == "autofill-trim"
    time.sleep(0.05)
    assert thread.is_alive()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert isinstance(trim_malloc(), bool)
