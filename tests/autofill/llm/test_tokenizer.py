from __future__ import annotations

import hashlib
import os
from pathlib import Path

from autofill.llm.tokenizer import ENCODINGS, count_tokens, encoding


def test_counts_with_the_official_encodings() -> None:
    # Reference counts from tiktoken with the same files downloaded from OpenAI.
    assert count_tokens("Hello, world!", "cl100k_base") == 4
    assert count_tokens("Hello, world!", "o200k_base") == 4
    assert (
        encoding("o200k_base").decode(encoding("o200k_base").encode("こんにちは世界"))
        == "こんにちは世界"
    )


def test_special_tokens_in_pages_are_plain_text() -> None:
    assert count_tokens("<|endoftext|>") > 1


def test_files_sit_in_tiktokens_cache_under_its_own_names() -> None:
    cache = Path(os.environ["TIKTOKEN_CACHE_DIR"])
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    blob = cache / hashlib.sha1(url.encode()).hexdigest()
    assert blob.exists()
    # The exact file tiktoken expects (its own SHA-256 pin), not a re-encoding.
    assert hashlib.sha256(blob.read_bytes()).hexdigest().startswith("446a9538")


def test_the_python_copy_of_the_ranks_is_dropped_and_tokens_still_round_trip() -> None:
    for name in ENCODINGS:
        loaded = encoding(name)
        assert loaded._mergeable_ranks == {}  # its 26 MiB freed; the Rust tokenizer has them
        text = "Résumé: 顧客は請求書の <|endoftext|> 🙂 ok"
        tokens = loaded.encode(text, disallowed_special=())
        assert loaded.decode(tokens) == text
        assert loaded.n_vocab > 100_000
