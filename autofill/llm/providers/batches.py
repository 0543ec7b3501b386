"""The providers' batch interfaces through the official SDKs: submit, look at, read, cancel.

OpenAI (openai-python 3.51.0 ``resources/files.py``, ``resources/batches.py``): the requests go
up as a JSONL file (``files.create(purpose="batch")``), one line per request —
``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}`` — and a batch is
made of it (``batches.create``, window ``24h``). Answers come back as two JSONL files
(``output_file_id``, ``error_file_id``) of ``BatchRequestOutput`` lines (OpenAPI 2.3.0).
Anthropic (anthropic 2.10.0 ``resources/messages/batches.py``): the requests go in the body of
``messages.batches.create`` as ``{"custom_id", "params"}``; the results are JSONL at the batch's
``results_url`` (``messages.batches.results``).

Each request's body is exactly what a live call of the same fill sends (the adapters'
``request_body``), and each answer is read by the live path's ``read_answer``: a batch answer is
checked like any other. Bodies go to the SDKs as ``extra_body`` / raw bytes, as live calls do,
so a batch of thousands is not walked through the SDKs' typed dicts.

This module holds what both share; each provider's client is in its own module
(openai_batches, anthropic_batches), which imports its SDK only when that provider is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from pydantic import ValidationError

from autofill.llm.plan import CallPlan
from autofill.llm.providers.replies import ChatReply, MessagesReply
from autofill.llm.types import LLMRequest, RawAnswer

ENDPOINT: Final = "/v1/chat/completions"
TAG_KEY = "autofill_batch"  # OpenAI batch metadata: which of our batches this is
SDK_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class BatchState:
    """A batch as its provider reports it, in common terms."""

    status: str  # the provider's own word (validating, in_progress, ended, expired…)
    ended: bool  # nothing more will change: its results (if any) can be read
    total: int
    processing: int  # not answered yet: in the provider's queue
    succeeded: int
    failed: int  # errored, expired or cancelled
    failure: str | None = None  # the whole batch was refused (OpenAI: validation failed)
    output_file_id: str | None = None
    error_file_id: str | None = None


@dataclass(frozen=True)
class ItemResult:
    """One request's outcome: an answer to read, or why there is none."""

    custom_id: str
    kind: Literal["answer", "error", "expired", "canceled"]
    reply: ChatReply | MessagesReply | None = None
    message: str = ""
    retryable: bool = False  # an error another try may cure (5xx, overloaded, rate limit)


class BatchAPI(Protocol):
    name: str

    def line(self, custom_id: str, request: LLMRequest, model: str, plan: CallPlan) -> bytes:
        """The request as it goes into a batch (its size counts toward the byte limit)."""
        ...

    def submit(self, lines: list[bytes], tag: str) -> tuple[str, str | None]:
        """Send a batch; (the provider's batch id, the uploaded input file's id or None)."""
        ...

    def find(self, tag: str) -> str | None:
        """The provider's id of a batch already submitted under ``tag``, if it can tell."""
        ...

    def state(self, batch_id: str) -> BatchState: ...

    def results(self, batch_id: str, state: BatchState) -> Iterator[ItemResult]: ...

    def cancel(self, batch_id: str) -> None: ...

    def answer(self, reply: ChatReply | MessagesReply, structured: str | None) -> RawAnswer: ...

    def forget(self, file_ids: list[str]) -> None:
        """Delete what the batch left at the provider (OpenAI's files); best effort."""
        ...


def error_message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return "error"


def unreadable_item(
    raw: bytes, name: str, exc: ValidationError, custom_id: str | None = None
) -> ItemResult:
    if custom_id is None:
        try:
            custom_id = str(json.loads(raw).get("custom_id", ""))
        except (ValueError, AttributeError):
            custom_id = ""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "line"
    return ItemResult(
        custom_id,
        "error",
        message=f"{name} batch sent a malformed result: {where}: {first['msg']}",
        retryable=True,
    )


__all__ = ["BatchAPI", "BatchState", "ItemResult"]
