"""Model calls in tests: a Completer without shared limits, and a small request about a page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autofill.llm.complete import Completer
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.types import ChatMessage, LLMRequest
from autofill.outputs import OutputSpec
from tests.conftest import Configure

DOC = (
    "<document>Le remboursement a échoué deux fois. Le client est en colère. "
    "Facture du 2024-03-02, 49,90 euros.</document>"
)


def completer(**kwargs: Any) -> Completer:
    options: dict[str, Any] = {"limiter": RateLimiter({}), "timeout_s": 30.0, "max_reasks": 2}
    return Completer(**{**options, **kwargs})


def request(model: str, output: OutputSpec | None = None, **kwargs: Any) -> LLMRequest:
    messages = [
        ChatMessage("system", "Answer about the document.", cache_boundary=True),
        ChatMessage("user", DOC),
    ]
    return LLMRequest(model=model, messages=messages, output=output or OutputSpec(), **kwargs)


def catalogue_override(tmp_path: Path, configure: Configure, entries: dict[str, Any]) -> None:
    """An operator's AUTOFILL_MODEL_CATALOGUE file with ``entries``, for this test."""
    override = tmp_path / "models.json"
    override.write_text(json.dumps(entries), encoding="utf-8")
    configure(model_catalogue=override)
