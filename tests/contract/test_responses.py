"""Contract tests: every kind of answer the simulator gives, checked against the SDKs' response
models in strict mode (no coercion), with no field the model does not declare, and OpenAI's
also against the OpenAPI document's response and error schemas (closed).

A simulator that answers in shapes the real providers never send would let the adapters pass
here and fail there.
"""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import Message
from anthropic.types.shared import ErrorResponse as AnthropicError
from anthropic.types.shared.error_details import ErrorDetails
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, TypeAdapter

from autofill.llm.simulator import Simulator
from tests.autofill.llm.simulator.test_rules import DOC, SCHEMA
from tests.autofill.llm.simulator.test_server import post
from tests.contract import openapi

ANSWERS = ["ok", "length", "refusal", "content_filter", "blank", "invalid", "long"]
ERRORS = ["400", "401", "408", "409", "429", "500", "503", "529", "quota"]


def undeclared(model: BaseModel, path: str = "$") -> list[str]:
    """Fields a validated model kept that its class does not declare (the SDKs allow extras)."""
    found = [f"{path}.{key}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        found += _walk(getattr(model, name), f"{path}.{name}")
    return found


def _walk(value: Any, path: str) -> list[str]:
    if isinstance(value, BaseModel):
        return undeclared(value, path)
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _walk(item, f"{path}[{i}]")]
    return []


def openai_bodies(sim: Simulator, fault: str) -> list[dict[str, Any]]:
    url = sim.openai_base_url + "/chat/completions"
    messages = [{"role": "user", "content": DOC}]
    requests: list[dict[str, Any]] = [
        {"model": "gpt-4.1-mini", "messages": messages, "temperature": 0.0},
        {"model": "gpt-6.1-sol", "messages": messages, "max_completion_tokens": 3000},
        {
            "model": "gpt-6-luna",
            "messages": messages,
            "reasoning_effort": "none",
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
            },
        },
        {
            "model": "gpt-4.1-mini",
            "messages": messages,
            "tools": [{"type": "function", "function": {"name": "record", "parameters": SCHEMA}}],
            "tool_choice": "required",
        },
    ]
    return _answers(sim, url, requests, fault)


def anthropic_bodies(sim: Simulator, fault: str) -> list[dict[str, Any]]:
    url = sim.base_url + "/v1/messages"
    messages = [{"role": "user", "content": [{"type": "text", "text": DOC}]}]
    requests = [
        {"model": "claude-haiku-4-5", "max_tokens": 500, "messages": messages},
        {"model": "claude-opus-5-5", "max_tokens": 3000, "messages": messages},
        {
            "model": "claude-opus-5-5",
            "max_tokens": 3000,
            "messages": messages,
            "output_config": {"effort": "low", "format": {"type": "json_schema", "schema": SCHEMA}},
        },
        {
            "model": "claude-haiku-4-5",
            "max_tokens": 500,
            "messages": messages,
            "tools": [{"name": "record_answer", "input_schema": SCHEMA}],
            "tool_choice": {"type": "tool", "name": "record_answer"},
        },
    ]
    return _answers(sim, url, requests, fault)


def _answers(
    sim: Simulator, url: str, requests: list[dict[str, Any]], fault: str
) -> list[dict[str, Any]]:
    """Each request's answer body, each under ``fault``."""
    found = []
    for body in requests:
        if fault != "ok":
            sim.configure(schedule=[fault])
        found.append(post(url, body)[2])
    return found


@pytest.mark.parametrize("fault", ANSWERS)
def test_openai_answers_fit_the_sdk_and_the_document(sim: Simulator, fault: str) -> None:
    for body in openai_bodies(sim, fault):
        parsed = ChatCompletion.model_validate(body, strict=True)
        assert undeclared(parsed) == []
        assert openapi.errors("CreateChatCompletionResponse", body) == []


@pytest.mark.parametrize("fault", ANSWERS)
def test_anthropic_answers_fit_the_sdk(sim: Simulator, fault: str) -> None:
    for body in anthropic_bodies(sim, fault):
        parsed = Message.model_validate(body, strict=True)
        assert undeclared(parsed) == []


@pytest.mark.parametrize("fault", ERRORS)
def test_errors_fit_the_sdk_and_the_document(sim: Simulator, fault: str) -> None:
    (first, *_) = openai_bodies(sim, fault)
    assert openapi.errors("ErrorResponse", first) == []
    (first, *_) = anthropic_bodies(sim, fault)
    parsed = AnthropicError.model_validate(first, strict=True)
    assert parsed.request_id
    details = first["error"].get("details")
    if details is not None:
        # The SDK reads `error.details` apart from the error object (anthropic 2.10.0
        # _exceptions.py APIStatusError.details, types/shared/error_details.py).
        TypeAdapter(ErrorDetails).validate_python(details, strict=True)
        assert undeclared(parsed) == ["$.error.details"]
    else:
        assert undeclared(parsed) == []


def test_the_checks_catch_what_they_are_for(sim: Simulator) -> None:
    (body, *_) = openai_bodies(sim, "ok")
    assert openapi.errors("CreateChatCompletionResponse", {**body, "choices": [{"index": 0}]})
    wrong = {**body, "usage": {**body["usage"], "prompt_tokens": "12"}}
    with pytest.raises(ValueError):
        ChatCompletion.model_validate(wrong, strict=True)
    (message, *_) = anthropic_bodies(sim, "ok")
    assert undeclared(Message.model_validate({**message, "surprise": 1})) == ["$.surprise"]
    # The old simulator's 429 type, unlike the real one's.
    assert openapi.errors("ErrorResponse", {"error": {"message": "x", "type": "t"}})
