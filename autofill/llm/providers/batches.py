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
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

import anthropic
import openai
from pydantic import BaseModel, ConfigDict, ValidationError

from autofill.llm.errors import ProviderError
from autofill.llm.plan import CallPlan
from autofill.llm.providers import anthropic_messages, openai_chat
from autofill.llm.providers.base import sdk_errors
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


class _Lax(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _OpenAIResponse(_Lax):
    status_code: int
    body: Any = None


class _OpenAIError(_Lax):
    code: str | None = None
    message: str | None = None


class _OpenAILine(_Lax):
    custom_id: str
    response: _OpenAIResponse | None = None
    error: _OpenAIError | None = None


class _AnthropicResult(_Lax):
    type: str
    message: Any = None
    error: Any = None


class _AnthropicLine(_Lax):
    custom_id: str
    result: _AnthropicResult


class OpenAIBatches:
    def __init__(self, client: openai.OpenAI, name: str = "openai") -> None:
        self.client = client
        self.name = name

    def line(self, custom_id: str, request: LLMRequest, model: str, plan: CallPlan) -> bytes:
        body = openai_chat.request_body(request, model, plan)
        line = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}
        return json.dumps(line, ensure_ascii=False).encode()

    def submit(self, lines: list[bytes], tag: str) -> tuple[str, str | None]:
        with sdk_errors(openai, self.name, SDK_TIMEOUT_S):
            uploaded = self.client.files.create(
                file=(f"autofill-{tag}.jsonl", b"\n".join(lines) + b"\n"), purpose="batch"
            )
            batch = self.client.batches.create(
                input_file_id=uploaded.id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata={TAG_KEY: tag},
            )
        return batch.id, uploaded.id

    def find(self, tag: str) -> str | None:
        with sdk_errors(openai, self.name, SDK_TIMEOUT_S):
            for seen, batch in enumerate(self.client.batches.list(limit=100)):
                if (batch.metadata or {}).get(TAG_KEY) == tag:
                    return batch.id
                if seen >= 500:  # ours would be among the newest
                    break
        return None

    def state(self, batch_id: str) -> BatchState:
        with sdk_errors(openai, self.name, SDK_TIMEOUT_S):
            batch = self.client.batches.retrieve(batch_id)
        counts = batch.request_counts
        total = counts.total if counts else 0
        done = (counts.completed + counts.failed) if counts else 0
        failure = None
        if batch.status == "failed":
            found = (batch.errors.data or []) if batch.errors else []
            failure = (
                "; ".join(
                    f"{e.code or 'error'}"
                    + (f" (line {e.line})" if e.line else "")
                    + f": {e.message or ''}"
                    for e in found[:5]
                )
                or "the provider refused the batch"
            )
        return BatchState(
            status=batch.status,
            ended=batch.status in ("completed", "expired", "cancelled", "failed"),
            total=total,
            processing=max(total - done, 0),
            succeeded=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
            failure=failure,
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
        )

    def results(self, batch_id: str, state: BatchState) -> Iterator[ItemResult]:
        for file_id in (state.output_file_id, state.error_file_id):
            if not file_id:
                continue
            # Streamed line by line: an output file may hold 50,000 answers.
            with (
                sdk_errors(openai, self.name, SDK_TIMEOUT_S),
                self.client.files.with_streaming_response.content(file_id) as response,
            ):
                for raw in response.iter_lines():
                    if raw.strip():
                        yield self._item(raw.encode())

    def _item(self, raw: bytes) -> ItemResult:
        try:
            line = _OpenAILine.model_validate_json(raw)
        except ValidationError as exc:
            return _unreadable(raw, self.name, exc)
        if line.error is not None:
            code = line.error.code or "error"
            kind: Literal["expired", "error"] = "expired" if code == "batch_expired" else "error"
            return ItemResult(
                line.custom_id,
                kind,
                message=f"{self.name} batch: {code}: {line.error.message or ''}".strip(),
                retryable=True,  # not the request's fault as far as anyone can tell
            )
        response = line.response
        if response is None:
            return ItemResult(line.custom_id, "error", message="no response", retryable=True)
        if response.status_code != 200:
            detail = _error_message(response.body)
            failed = ProviderError.from_status(self.name, response.status_code, detail, None)
            return ItemResult(
                line.custom_id, "error", message=failed.message, retryable=failed.retryable
            )
        try:
            reply = ChatReply.model_validate(response.body)
        except ValidationError as exc:
            return _unreadable(raw, self.name, exc, line.custom_id)
        return ItemResult(line.custom_id, "answer", reply=reply)

    def cancel(self, batch_id: str) -> None:
        # A conflict: it ended meanwhile, and there is nothing left to cancel.
        with (
            sdk_errors(openai, self.name, SDK_TIMEOUT_S),
            contextlib.suppress(openai.ConflictError),
        ):
            self.client.batches.cancel(batch_id)

    def answer(self, reply: ChatReply | MessagesReply, structured: str | None) -> RawAnswer:
        assert isinstance(reply, ChatReply)
        return openai_chat.read_answer(reply, structured, {}, self.name)

    def forget(self, file_ids: list[str]) -> None:
        for file_id in file_ids:
            # Best effort: it expires at the provider anyway (30 days by default).
            with contextlib.suppress(openai.OpenAIError):
                self.client.files.delete(file_id)


class AnthropicBatches:
    name = "anthropic"

    def __init__(self, client: anthropic.Anthropic) -> None:
        self.client = client

    def line(self, custom_id: str, request: LLMRequest, model: str, plan: CallPlan) -> bytes:
        params = anthropic_messages.request_body(request, model, plan)
        return json.dumps({"custom_id": custom_id, "params": params}, ensure_ascii=False).encode()

    def submit(self, lines: list[bytes], tag: str) -> tuple[str, str | None]:
        # The requests go as they were encoded (the byte limit was counted on them): as
        # extra_body, so the SDK does not walk thousands of typed dicts.
        requests = [json.loads(line) for line in lines]
        with sdk_errors(anthropic, self.name, SDK_TIMEOUT_S):
            batch = self.client.messages.batches.create(
                requests=[], extra_body={"requests": requests}
            )
        return batch.id, None

    def find(self, tag: str) -> str | None:
        # Message Batches carry no metadata: a batch whose id was not saved cannot be told
        # from another; it is submitted again (its answers, found stale, are discarded).
        return None

    def state(self, batch_id: str) -> BatchState:
        with sdk_errors(anthropic, self.name, SDK_TIMEOUT_S):
            batch = self.client.messages.batches.retrieve(batch_id)
        counts = batch.request_counts
        failed = counts.errored + counts.expired + counts.canceled
        return BatchState(
            status=batch.processing_status,
            ended=batch.processing_status == "ended",
            total=counts.processing + counts.succeeded + failed,
            processing=counts.processing,
            succeeded=counts.succeeded,
            failed=failed,
        )

    def results(self, batch_id: str, state: BatchState) -> Iterator[ItemResult]:
        with (
            sdk_errors(anthropic, self.name, SDK_TIMEOUT_S),
            self.client.messages.batches.with_streaming_response.results(batch_id) as response,
        ):
            for raw in response.iter_lines():
                if raw.strip():
                    yield self._item(raw.encode())

    def _item(self, raw: bytes) -> ItemResult:
        try:
            line = _AnthropicLine.model_validate_json(raw)
        except ValidationError as exc:
            return _unreadable(raw, self.name, exc)
        result = line.result
        if result.type == "succeeded":
            try:
                reply = MessagesReply.model_validate(result.message)
            except ValidationError as exc:
                return _unreadable(raw, self.name, exc, line.custom_id)
            return ItemResult(line.custom_id, "answer", reply=reply)
        if result.type == "errored":
            error = result.error if isinstance(result.error, dict) else {}
            inner = error.get("error", error) if isinstance(error, dict) else {}
            kind = str(inner.get("type", "error")) if isinstance(inner, dict) else "error"
            message = str(inner.get("message", "")) if isinstance(inner, dict) else ""
            return ItemResult(
                line.custom_id,
                "error",
                message=f"{self.name} batch: {kind}: {message}",
                # invalid_request_error would fail again the same way; the rest may pass
                retryable=kind
                not in (
                    "invalid_request_error",
                    "authentication_error",
                    "permission_error",
                    "not_found_error",
                ),
            )
        if result.type == "expired":
            return ItemResult(line.custom_id, "expired", message="the batch's 24 hours ran out")
        return ItemResult(line.custom_id, "canceled", message="the batch was cancelled")

    def cancel(self, batch_id: str) -> None:
        with sdk_errors(anthropic, self.name, SDK_TIMEOUT_S):
            self.client.messages.batches.cancel(batch_id)

    def answer(self, reply: ChatReply | MessagesReply, structured: str | None) -> RawAnswer:
        assert isinstance(reply, MessagesReply)
        return anthropic_messages.read_answer(reply, structured, {}, self.name)

    def forget(self, file_ids: list[str]) -> None:
        return None  # nothing uploaded: results are deleted by the provider after 29 days


def _error_message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return "error"


def _unreadable(
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


__all__ = [
    "AnthropicBatches",
    "BatchAPI",
    "BatchState",
    "ItemResult",
    "OpenAIBatches",
]
