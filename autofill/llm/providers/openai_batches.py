"""OpenAI's Files and Batch API through the openai SDK (see autofill.llm.providers.batches)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any, Literal

import openai
from pydantic import ValidationError

from autofill.llm.errors import ProviderError
from autofill.llm.plan import CallPlan
from autofill.llm.providers import openai_chat
from autofill.llm.providers.base import sdk_errors
from autofill.llm.providers.batches import (
    ENDPOINT,
    SDK_TIMEOUT_S,
    TAG_KEY,
    BatchState,
    ItemResult,
    error_message,
    unreadable_item,
)
from autofill.llm.providers.replies import ChatReply, LaxModel, MessagesReply
from autofill.llm.types import LLMRequest, RawAnswer


class _OpenAIResponse(LaxModel):
    status_code: int
    body: Any = None


class _OpenAIError(LaxModel):
    code: str | None = None
    message: str | None = None


class _OpenAILine(LaxModel):
    custom_id: str
    response: _OpenAIResponse | None = None
    error: _OpenAIError | None = None


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
            return unreadable_item(raw, self.name, exc)
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
            detail = error_message(response.body)
            failed = ProviderError.from_status(self.name, response.status_code, detail, None)
            return ItemResult(
                line.custom_id, "error", message=failed.message, retryable=failed.retryable
            )
        try:
            reply = ChatReply.model_validate(response.body)
        except ValidationError as exc:
            return unreadable_item(raw, self.name, exc, line.custom_id)
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
