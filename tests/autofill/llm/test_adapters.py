"""The adapters against the strict simulator: one test per defect of issue 15 that a real
provider would have shown (the simulator answered each of them with a 200 before)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autofill.clock import FakeClock
from autofill.llm.catalogue import load_catalogue
from autofill.llm.errors import FillFailed
from autofill.llm.simulator import Simulator
from autofill.llm.types import ChatMessage, LLMRequest
from autofill.outputs import OutputSpec
from tests.conftest import Configure
from tests.providers import catalogue_override, completer, request

SELECT = OutputSpec(type="select", options=["Content", "Colère", "Neutre"])


def sent(sim: Simulator, index: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = sim.requests[index]["body"]
    return body


# 1. temperature on reasoning models -----------------------------------------------------------


def test_reasoning_model_gets_no_temperature_and_the_lowest_effort(providers: Simulator) -> None:
    result = completer().complete(request("openai:gpt-6.1-sol"))
    assert result.value.startswith("[sim]")
    body = sent(providers)
    assert "temperature" not in body and "max_tokens" not in body
    assert body["reasoning_effort"] == "low"


def test_reasoning_off_takes_a_temperature(providers: Simulator) -> None:
    completer().complete(request("openai:gpt-6-luna"))
    body = sent(providers)
    assert body["reasoning_effort"] == "none" and body["temperature"] == 0.0


def test_plain_model_takes_a_temperature_and_no_effort(providers: Simulator) -> None:
    completer().complete(request("openai:gpt-4.1-mini"))
    body = sent(providers)
    assert body["temperature"] == 0.0 and "reasoning_effort" not in body


# 2. forced tools on the newest Claude models ----------------------------------------------------


@pytest.mark.parametrize("model", ["anthropic:claude-opus-5-5", "anthropic:claude-fable-5-2"])
def test_newest_claude_gets_structured_output_not_a_forced_tool(
    providers: Simulator, model: str
) -> None:
    result = completer().complete(request(model, SELECT))
    assert result.value == "Colère" and result.calls == 1
    body = sent(providers)
    assert "tool_choice" not in body
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert body["output_config"]["effort"] == "low"


def test_a_model_with_only_tool_use_gets_a_forced_tool(
    providers: Simulator, tmp_path: Path, configure: Configure
) -> None:
    catalogue_override(
        tmp_path, configure, {"anthropic:claude-haiku-4-5": {"structured_output": "tool"}}
    )
    result = completer().complete(request("anthropic:claude-haiku-4-5", SELECT))
    assert result.value == "Colère"
    assert sent(providers)["tool_choice"] == {"type": "tool", "name": "record_answer"}


# 3. a typed answer's budget on a reasoning model --------------------------------------------------


@pytest.mark.parametrize("model", ["openai:gpt-6.1-sol", "anthropic:claude-opus-5-5"])
def test_typed_answer_leaves_room_for_reasoning(providers: Simulator, model: str) -> None:
    """With 256 tokens and the default effort, the reasoning ate the answer: 3 billed calls,
    then "model answered ''". Now the lowest effort and room for it: one call."""
    providers.configure(reasoning_tokens={"low": 900, "medium": 1200})
    result = completer().complete(request(model, SELECT, max_output_tokens=256))
    assert result.value == "Colère" and result.calls == 1
    body = sent(providers)
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    assert limit == 256 + 2048


def test_an_answer_cut_by_reasoning_gets_one_larger_try(providers: Simulator) -> None:
    providers.configure(reasoning_tokens={"low": 3000})
    result = completer().complete(request("openai:gpt-6.1-sol", SELECT, max_output_tokens=256))
    assert result.value == "Colère" and result.calls == 2 and result.attempts == 2
    assert [sent(providers, i)["max_completion_tokens"] for i in (0, 1)] == [2304, 9216]


# 4. cut-off and filtered answers ----------------------------------------------------------------


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"])
def test_a_cut_off_answer_is_an_error_never_a_value(providers: Simulator, model: str) -> None:
    providers.configure(schedule=["length", "length"])
    with pytest.raises(FillFailed) as info:
        completer().complete(request(model))
    assert info.value.code == "answer_truncated" and info.value.calls == 2
    assert "cut off at the output limit" in info.value.message


def test_cut_off_at_the_models_maximum_is_not_retried(
    providers: Simulator, tmp_path: Path, configure: Configure
) -> None:
    catalogue_override(tmp_path, configure, {"compat:*": {"max_output_tokens": 512}})
    providers.configure(schedule=["long"], long_answer_tokens=2000)
    with pytest.raises(FillFailed) as info:
        completer().complete(request("compat:local-llama", max_output_tokens=512))
    assert info.value.code == "answer_truncated" and info.value.calls == 1
    assert "the model's maximum" in info.value.message


def test_content_filter_is_an_error_after_one_call(providers: Simulator) -> None:
    providers.configure(schedule=["content_filter"])
    with pytest.raises(FillFailed) as info:
        completer().complete(request("openai:gpt-4.1-mini"))
    assert info.value.code == "content_filtered" and info.value.calls == 1


# 5. blank assistant turns in re-asks ------------------------------------------------------------


@pytest.mark.parametrize("model", ["anthropic:claude-haiku-4-5", "openai:gpt-4.1-mini"])
def test_a_blank_answer_is_reasked_without_a_blank_turn(providers: Simulator, model: str) -> None:
    providers.configure(schedule=["blank"])
    result = completer().complete(request(model, SELECT))
    assert result.value == "Colère" and result.attempts == 2
    reask = sent(providers, 1)["messages"]
    assert [m["role"] for m in reask][-2:] != ["assistant", "user"]
    assert "Your answer was empty" in json.dumps(reask[-1], ensure_ascii=False)
    assert all(providers.requests[i]["status"] == 200 for i in (0, 1))


def test_blank_messages_never_become_blank_blocks(providers: Simulator) -> None:
    messages = [
        ChatMessage("system", "Answer."),
        ChatMessage("user", "<document>Ok.</document>"),
        ChatMessage("assistant", "  "),
        ChatMessage("user", "<document>Le client est en colère.</document>"),
    ]
    completer().complete(LLMRequest("anthropic:claude-haiku-4-5", messages))
    assert providers.requests[0]["status"] == 200
    assert [m["role"] for m in sent(providers)["messages"]] == ["user", "user"]


# 6. strict-mode size limits ---------------------------------------------------------------------


def test_a_select_too_large_for_strict_mode_is_sent_without_its_enum(providers: Simulator) -> None:
    options = [f"Option {i:03d} " + "x" * 89 for i in range(499)] + ["Colère"]
    output = OutputSpec(type="select", options=options)
    rendered = "Options: " + " | ".join(options)
    messages = [
        ChatMessage("system", "Classify the document."),
        ChatMessage("user", f"{rendered}\n<document>Le client est en colère.</document>"),
    ]
    result = completer().complete(LLMRequest("openai:gpt-6-luna", messages, output))
    assert result.value == "Colère" and providers.requests[0]["status"] == 200
    schema = sent(providers)["response_format"]["json_schema"]["schema"]
    assert "enum" not in json.dumps(schema)


# 7. the output limit of OpenAI-compatible servers ---------------------------------------------


@pytest.mark.parametrize(
    ("setting", "fields"),
    [
        (None, {"max_tokens"}),
        ("max_completion_tokens", {"max_completion_tokens"}),
        ("both", {"max_tokens", "max_completion_tokens"}),
    ],
)
def test_compat_servers_get_the_limit_they_read(
    providers: Simulator, configure: Configure, setting: str | None, fields: set[str]
) -> None:
    if setting:
        server = {"base_url": providers.openai_base_url, "model": "llama-3.1-8b"}
        configure(compat={"LOCAL_LLAMA": {**server, "token_param": setting}})
    completer().complete(request("compat:local-llama", max_output_tokens=300))
    body = sent(providers)
    assert {key for key in body if key.startswith("max_")} == fields
    assert all(body[field] == 300 for field in fields)


def test_a_compat_server_that_generates_on_is_cut_where_it_reads_the_limit(
    providers: Simulator,
) -> None:
    """The simulated server reads only max_tokens, as Ollama does: sent there, the limit holds;
    the cut answer is retried once with the entry's maximum, then reported, never stored."""
    providers.configure(schedule=["long", "long"], long_answer_tokens=3000)
    with pytest.raises(FillFailed) as info:
        completer().complete(request("compat:local-llama", max_output_tokens=300))
    assert info.value.code == "answer_truncated" and info.value.calls == 2
    assert [sent(providers, i)["max_tokens"] for i in (0, 1)] == [300, 1024]
    assert info.value.usage.output_tokens == 300 + 1024  # the server stopped where it was told


# 8. refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"])
def test_a_refusal_ends_after_one_call(providers: Simulator, model: str) -> None:
    providers.configure(schedule=["refusal"])
    with pytest.raises(FillFailed) as info:
        completer().complete(request(model, SELECT))
    assert info.value.code == "refused" and info.value.calls == 1
    assert len(providers.requests) == 1
    said = "general_harms" if model.startswith("anthropic") else "can't help"
    assert said in info.value.message


# 9. rate-limit resets without retry-after --------------------------------------------------------


def test_a_429_waits_for_the_reset_its_headers_name(
    providers: Simulator, fake_clock: FakeClock
) -> None:
    providers.configure(schedule=["429"], retry_after_s=2.5)
    result = completer().complete(request("openai:gpt-4.1-mini"))
    assert result.calls == 2
    assert "retry-after" not in {k.lower() for k in providers.requests[0]["headers"]}
    assert sum(fake_clock.slept) >= 2.5  # not the generic ~1 s backoff


# 10. an account out of credit ---------------------------------------------------------------------


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"])
def test_an_exhausted_quota_stops_at_once(
    providers: Simulator, fake_clock: FakeClock, model: str
) -> None:
    providers.configure(schedule=["quota"] * 6)
    with pytest.raises(FillFailed) as info:
        completer().complete(request(model))
    assert info.value.code == "quota_exhausted" and len(providers.requests) == 1
    assert "Add credit or raise the spending limit" in info.value.message
    assert fake_clock.slept == []  # no backoff either


# 11. models the catalogue does not know, or no longer serves -------------------------------------


@pytest.mark.parametrize(
    ("model", "code"),
    [("openai:gpt-9-imaginary", "unknown_model"), ("openai:o1", "model_retired")],
)
def test_unknown_or_retired_models_fail_without_a_call(
    providers: Simulator, model: str, code: str
) -> None:
    with pytest.raises(FillFailed) as info:
        completer().complete(request(model))
    assert info.value.code == code and providers.requests == []


def test_every_current_family_fills_text_and_typed(providers: Simulator) -> None:
    """Done-when of issue 15: each current family, text and typed, through the strict sim."""
    models = [
        "openai:gpt-6.1-sol",  # reasoning, always
        "openai:gpt-6-luna",  # reasoning, switched off
        "openai:gpt-4.1-mini",  # no reasoning (deprecated, still served)
        "anthropic:claude-opus-5-5",  # newest: structured outputs, thinking always on
        "anthropic:claude-haiku-5-5",
        "anthropic:claude-haiku-4-5",  # previous generation
        "compat:local-llama",
    ]
    for model in models:
        text = completer().complete(request(model))
        typed = completer().complete(request(model, SELECT))
        assert text.value.startswith("[sim]"), model
        assert typed.value == "Colère", model
        assert text.calls == typed.calls == 1, model
    assert {r["status"] for r in providers.requests} == {200}
    assert load_catalogue().get("anthropic:claude-opus-5-5").forced_tool_use is False
