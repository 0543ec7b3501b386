"""Anthropic's Message Batches through the anthropic SDK (see autofill.llm.providers.batches)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
from pydantic import ValidationError

from autofill.llm.plan import CallPlan
from autofill.llm.providers import anthropic_messages
from autofill.llm.providers.base import sdk_errors
from autofill.llm.providers.batches import (
    SDK_TIMEOUT_S,
    BatchState,
    ItemResult,
    unreadable_item,
)
from autofill.llm.providers.replies import ChatReply, LaxModel, MessagesReply
from autofill.llm.types import LLMRequest, RawAnswer


class _AnthropicResult(LaxModel):
    type: str
    message: Any = None
    error: Any = None


class _AnthropicLine(LaxModel):
    custom_id: str
    result: _AnthropicResult


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
            return unreadable_item(raw, self.name, exc)
        result = line.result
        if result.type == "succeeded":
            try:
                reply = MessagesReply.model_validate(result.message)
            except ValidationError as exc:
                return unreadable_item(raw, self.name, exc, line.custom_id)
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
