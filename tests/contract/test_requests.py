"""Contract tests: every request body the adapters produce, checked against sources nobody here
wrote — OpenAI's OpenAPI document (a slice in data/, closed: see openapi.py) and the anthropic
SDK's request types (``MessageCreateParamsNonStreaming``, closed: see typed_dicts.py).

Bodies are taken from the wire (the simulator records them), for each model family and each
output type, first asks and re-asks alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

from autofill.llm.simulator import Simulator
from autofill.outputs import OutputSpec
from tests.conftest import Configure
from tests.contract import openapi
from tests.contract.typed_dicts import problems
from tests.providers import catalogue_override, completer, request

OPENAI_FAMILIES = [
    "openai:gpt-6.1-sol",
    "openai:gpt-6-luna",
    "openai:gpt-5.1",
    "openai:gpt-4.1-mini",
    "compat:local-llama",
    "sim:sim-1",
]
ANTHROPIC_FAMILIES = [
    "anthropic:claude-opus-5-5",
    "anthropic:claude-fable-5-2",
    "anthropic:claude-haiku-5-5",
    "anthropic:claude-haiku-4-5",
]
OUTPUTS = [
    OutputSpec(),
    OutputSpec(type="select", options=["Content", "Colère"], allow_none=True),
    OutputSpec(type="multi_select", options=["facture", "client"]),
    OutputSpec(type="number"),
    OutputSpec(type="date", allow_none=True),
    OutputSpec(type="checkbox"),
]


def bodies(sim: Simulator, model: str, output: OutputSpec) -> list[dict[str, Any]]:
    """The bodies of a first ask and of a re-ask after an invalid answer, and after a blank
    one (typed outputs only: prose has no invalid answer)."""
    sim.reset()
    typed = output.type != "text"
    sim.configure(schedule=["invalid", "blank"] if typed else [])
    completer(max_reasks=2).complete(request(model, output))
    sent = [r["body"] for r in sim.requests]
    assert len(sent) == (3 if typed else 1)
    return sent


@pytest.mark.parametrize("model", OPENAI_FAMILIES)
def test_openai_requests_follow_the_openapi_document(providers: Simulator, model: str) -> None:
    for output in OUTPUTS:
        for body in bodies(providers, model, output):
            assert openapi.errors("CreateChatCompletionRequest", body) == [], (model, output)


@pytest.mark.parametrize("model", ANTHROPIC_FAMILIES)
def test_anthropic_requests_follow_the_sdk_types(providers: Simulator, model: str) -> None:
    for output in OUTPUTS:
        for body in bodies(providers, model, output):
            assert problems(body, MessageCreateParamsNonStreaming) == [], (model, output)


def test_the_forced_tool_path_follows_the_sdk_types(
    providers: Simulator, tmp_path: Path, configure: Configure
) -> None:
    catalogue_override(
        tmp_path, configure, {"anthropic:claude-haiku-4-5": {"structured_output": "tool"}}
    )
    for body in bodies(providers, "anthropic:claude-haiku-4-5", OUTPUTS[1]):
        assert body["tool_choice"]["type"] == "tool"
        assert problems(body, MessageCreateParamsNonStreaming) == []


def test_the_checks_catch_what_they_are_for() -> None:
    """Not vacuous: the very defects of issue 15 fail these checks."""
    good = {
        "model": "gpt-6-luna",
        "messages": [{"role": "user", "content": "x"}],
        "max_completion_tokens": 100,
    }
    assert openapi.errors("CreateChatCompletionRequest", good) == []
    assert openapi.errors("CreateChatCompletionRequest", {**good, "max_completion_token": 1})
    assert openapi.errors("CreateChatCompletionRequest", {**good, "reasoning_effort": "tiny"})
    assert openapi.errors("CreateChatCompletionRequest", {**good, "messages": []})
    claude = {
        "model": "claude-opus-5-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
    }
    assert problems(claude, MessageCreateParamsNonStreaming) == []
    # anthropic 2.x has no temperature: the old adapter's comment said so, the type enforces it.
    assert problems({**claude, "temperature": 0.0}, MessageCreateParamsNonStreaming)
    assert problems(
        {**claude, "output_config": {"format": {"type": "json"}}}, (MessageCreateParamsNonStreaming)
    )
    assert problems({**claude, "max_tokens": "100"}, MessageCreateParamsNonStreaming)


def test_the_slice_names_its_source() -> None:
    source = openapi.source()
    assert source["repository"] == "https://github.com/openai/openai-openapi"
    assert source["path"] == "openapi.json" and len(source["commit"]) == 40
