"""Token counting with tiktoken, offline.

tiktoken downloads its BPE files on first use, and this service must run where nothing can be
downloaded. The ``bpe-openai`` package ships the official files (gzipped); we unpack them into
tiktoken's own cache, named as tiktoken names them (the SHA-1 of the source URL), so tiktoken
loads them as if it had downloaded them and still verifies its expected SHA-256 of each file.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from autofill.config import get_settings

if TYPE_CHECKING:
    import tiktoken

_SOURCE = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
ENCODINGS = ("o200k_base", "cl100k_base")
_lock = threading.Lock()


def _cache_dir() -> Path:
    path = get_settings().resolved_tiktoken_cache_dir()
    # tiktoken reads this variable on every load (its only setting): point it at our files.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def _shipped() -> Path:
    """bpe-openai's data folder, found without importing the package: its ``__init__`` loads
    its own tokenizers (0.7 s), and we only read its files."""
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the bpe-openai package (tiktoken's encodings, offline) is missing")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _install(name: str) -> None:
    cache = _cache_dir()
    target = cache / hashlib.sha1(_SOURCE.format(name=name).encode()).hexdigest()
    if target.exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    data = gzip.decompress((_shipped() / f"{name}.tiktoken.gz").read_bytes())
    # Write then rename: a concurrent process never sees half a file.
    with tempfile.NamedTemporaryFile(dir=cache, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, target)


@lru_cache(maxsize=len(ENCODINGS))
def encoding(name: str) -> tiktoken.Encoding:
    """The encoding ``name``, loaded on first use: a process holds only the ones it counts
    with (each is tens of megabytes), and importing this module costs nothing."""
    import tiktoken

    if name not in ENCODINGS:
        raise ValueError(f"unknown encoding {name!r}; known: {', '.join(ENCODINGS)}")
    with _lock:
        _install(name)
        loaded = tiktoken.get_encoding(name)
    # tiktoken keeps the Python dict of all 200,000 ranks beside its Rust tokenizer, which has
    # its own copy, and reads it only to pickle the encoding (tiktoken 0.14 core.py: __init__,
    # __getstate__). We never pickle one: dropping it frees 26 MiB of every process that
    # counts tokens (issue 21). Encoding and decoding are unchanged (tests/autofill/llm).
    if isinstance(getattr(loaded, "_mergeable_ranks", None), dict):
        loaded._mergeable_ranks = {}
    return loaded


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
