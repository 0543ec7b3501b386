"""Token counting with tiktoken, offline.

tiktoken downloads its BPE files on first use, and this service must run where nothing can be
downloaded. The ``bpe-openai`` package ships the official files (gzipped); we unpack them into
tiktoken's own cache, named as tiktoken names them (the SHA-1 of the source URL), so tiktoken
loads them as if it had downloaded them and still verifies its expected SHA-256 of each file.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

import bpe_openai
import tiktoken

from autofill.config import get_settings

_SOURCE = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_SHIPPED = Path(bpe_openai.__file__).parent / "data"
ENCODINGS = ("o200k_base", "cl100k_base")
_lock = threading.Lock()


def _cache_dir() -> Path:
    path = get_settings().resolved_tiktoken_cache_dir()
    # tiktoken reads this variable on every load (its only setting): point it at our files.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def _install(name: str) -> None:
    cache = _cache_dir()
    target = cache / hashlib.sha1(_SOURCE.format(name=name).encode()).hexdigest()
    if target.exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    data = gzip.decompress((_SHIPPED / f"{name}.tiktoken.gz").read_bytes())
    # Write then rename: a concurrent process never sees half a file.
    with tempfile.NamedTemporaryFile(dir=cache, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, target)


@lru_cache(maxsize=len(ENCODINGS))
def encoding(name: str) -> tiktoken.Encoding:
    if name not in ENCODINGS:
        raise ValueError(f"unknown encoding {name!r}; known: {', '.join(ENCODINGS)}")
    with _lock:
        _install(name)
        return tiktoken.get_encoding(name)


# Most texts counted are a prompt's fixed parts (instructions, few-shot examples), the same for
# every fill: they are counted once per process. Only short texts are kept, so the cache holds
# a few megabytes at most however long the pages are.
_CACHED_CHARS = 2000


def count_tokens(text: str, name: str = "o200k_base") -> int:
    if len(text) <= _CACHED_CHARS:
        return _count_short(text, name)
    return _count(text, name)


@lru_cache(maxsize=4096)
def _count_short(text: str, name: str) -> int:
    return _count(text, name)


def _count(text: str, name: str) -> int:
    # disallowed_special=() : page text that happens to contain "<|endoftext|>" is just text.
    return len(encoding(name).encode(text, disallowed_special=()))
