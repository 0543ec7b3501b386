"""Answers and judge verdicts cached on disk, so re-running unchanged prompts costs nothing.

Answers are keyed by the hash of the exact request (model, every message, output type, answer
allowance, temperature) and the sample number; verdicts by (judge id and version, judge model,
the judged output). Any edit to a prompt changes its requests, hence their keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from autofill.llm import LLMRequest


def request_key(request: LLMRequest, sample: int) -> str:
    canonical = {
        "model": request.model,
        "messages": [[m.role, m.content] for m in request.messages],
        "output": request.output.model_dump(mode="json"),
        "max_output_tokens": request.max_output_tokens,
        "temperature": request.temperature,
        "sample": sample,
    }
    return _digest(canonical)


def verdict_key(judge: str, version: str, model: str, subject: Any) -> str:
    return _digest({"judge": judge, "version": version, "model": model, "subject": subject})


def _digest(data: Any) -> str:
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class DiskCache:
    """One JSON file per key, written atomically (a crash never leaves half an entry)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(value, out, ensure_ascii=False)
        os.replace(temporary, path)
