"""The strict simulator over raw HTTP: each model's rules, and the answers that are not answers.

Every rule tested here is one the real API enforces (sources in autofill/llm/simulator/rules.py
and the catalogue); each test fails on the simulator as it was before, which answered 200.
"""

from __future__ import annotations

from typing import Any

import pytest

from autofill.llm.simulator import Simulator
from tests.autofill.llm.simulator.test_server import post

DOC = "<document>The refund failed twice. The customer is angry.</document>"
SCHEMA = {
    "type": "object",
    "properties": {"value": {"type": "string", "enum": ["Billing", "Outage"]}},
    "required": ["value"],
    "additionalProperties": False,
}


def openai(sim: Simulator, model: str, **extra: Any) -> tuple[int, dict[str, str], Any]:
    body = {"model": model, "messages": [{"role": "user", "content": DOC}], **extra}
    return post(sim.openai_base_url + "/chat/completions", body)


def claude(sim: Simulator, model: str, **extra: Any) -> tuple[int, dict[str, str], Any]:
    body = {
        "model": model,
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": [{"type": "text", "text": DOC}]}],
        **extra,
    }
    return post(sim.base_url + "/v1/messages", body)


def error_of(reply: tuple[int, dict[str, str], Any]) -> tuple[int, str | None, str | None]:
    status, _, body = reply
    return status, body["error"].get("code"), body["error"].get("param")


# OpenAI --------------------------------------------------------------------------------------


def test_reasoning_model_refuses_temperature_and_max_tokens(sim: Simulator) -> None:
    assert error_of(openai(sim, "gpt-6.1-sol", temperature=0.0)) == (
        400,
        "unsupported_value",
        "temperature",
    )
    assert error_of(openai(sim, "gpt-6.1-sol", max_tokens=100)) == (
        400,
        "unsupported_parameter",
        "max_tokens",
    )
    assert error_of(openai(sim, "gpt-6.1-sol", reasoning_effort="none")) == (
        400,
        "unsupported_value",
        "reasoning_effort",
    )


def test_temperature_only_with_reasoning_off(sim: Simulator) -> None:
    status, _, body = openai(sim, "gpt-6-luna", reasoning_effort="none", temperature=0.0)
    assert status == 200
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    assert error_of(openai(sim, "gpt-6-luna", reasoning_effort="low", temperature=0.0))[0] == 400
    # The default effort (medium) reasons: no temperature then either.
    assert error_of(openai(sim, "gpt-6-luna", temperature=0.0))[0] == 400


def test_non_reasoning_model_takes_no_effort(sim: Simulator) -> None:
    assert openai(sim, "gpt-4.1-mini", temperature=0.0, max_completion_tokens=50)[0] == 200
    assert error_of(openai(sim, "gpt-4.1-mini", reasoning_effort="low")) == (
        400,
        "unsupported_parameter",
        "reasoning_effort",
    )


def test_reasoning_spends_the_output_limit(sim: Simulator) -> None:
    """The defect of typed answers on reasoning models: 256 tokens, default effort, no answer."""
    sim.configure(reasoning_tokens={"medium": 1200, "low": 300})
    status, _, body = openai(sim, "gpt-6.1-sol", max_completion_tokens=256)
    assert status == 200
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length" and choice["message"]["content"] == ""
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 256
    status, _, body = openai(
        sim, "gpt-6.1-sol", max_completion_tokens=256 + 2048, reasoning_effort="low"
    )
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 300
    assert body["choices"][0]["message"]["content"].startswith("[sim]")


def test_unknown_and_retired_models_are_not_found(sim: Simulator) -> None:
    assert error_of(openai(sim, "gpt-9-imaginary"))[:2] == (404, "model_not_found")
    assert error_of(openai(sim, "o1"))[:2] == (404, "model_not_found")
    status, _, body = claude(sim, "claude-3-haiku-20240307")
    assert status == 404 and body["error"]["type"] == "not_found_error"


def test_output_limit_and_window(sim: Simulator) -> None:
    assert error_of(openai(sim, "gpt-4.1-mini", max_completion_tokens=40_000))[:2] == (
        400,
        "invalid_value",
    )
    status, _, body = claude(sim, "claude-haiku-4-5", max_tokens=64_001)
    assert status == 400 and "maximum allowed number of output tokens" in body["error"]["message"]


def test_strict_schema_limits(sim: Simulator) -> None:
    options = [f"Option {i:03d} " + "x" * 89 for i in range(500)]  # 500 x 100 characters
    big = {**SCHEMA, "properties": {"value": {"type": "string", "enum": options}}}
    response_format: dict[str, Any] = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": big, "strict": True},
    }
    reply = openai(sim, "gpt-6-luna", response_format=response_format, reasoning_effort="none")
    assert error_of(reply) == (400, "invalid_json_schema", "response_format")
    assert "15000" in reply[2]["error"]["message"]
    loose = {**SCHEMA, "additionalProperties": True}
    response_format["json_schema"]["schema"] = loose
    reply = openai(sim, "gpt-6-luna", response_format=response_format, reasoning_effort="none")
    assert error_of(reply)[0] == 400 and "additionalProperties" in reply[2]["error"]["message"]


def test_forced_function_call_is_answered_with_a_call(sim: Simulator) -> None:
    tools = [{"type": "function", "function": {"name": "record", "parameters": SCHEMA}}]
    status, _, body = openai(
        sim,
        "gpt-4.1-mini",
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "record"}},
    )
    choice = body["choices"][0]
    assert status == 200 and choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "record"
    assert openai(sim, "gpt-4.1-mini", tools=tools, tool_choice="none")[2]["choices"][0]["message"][
        "content"
    ].startswith("[sim]")


@pytest.mark.parametrize(
    ("fault", "finish", "field"),
    [
        ("length", "length", "content"),
        ("content_filter", "content_filter", "content"),
        ("refusal", "stop", "refusal"),
    ],
)
def test_openai_stops(sim: Simulator, fault: str, finish: str, field: str) -> None:
    sim.configure(schedule=[fault])
    status, _, body = openai(sim, "gpt-4.1-mini")
    choice = body["choices"][0]
    assert status == 200 and choice["finish_reason"] == finish
    assert choice["message"][field] is not None


def test_insufficient_quota(sim: Simulator) -> None:
    sim.configure(schedule=["quota", "quota"])
    status, _, body = openai(sim, "gpt-4.1-mini")
    assert status == 429 and body["error"]["code"] == "insufficient_quota"
    status, headers, body = claude(sim, "claude-haiku-4-5")
    assert status == 429
    assert body["error"]["details"]["error_code"] == "enforced_spend_limit_reached"
    assert body["request_id"] == headers["request-id"]


def test_compat_server_reads_max_tokens_only(sim: Simulator) -> None:
    """Ollama and llama-cpp-python generate on past max_completion_tokens."""
    sim.configure(schedule=["long", "long"], long_answer_tokens=800)
    ignored = openai(sim, "llama-3.1-8b", max_completion_tokens=100)[2]
    assert ignored["choices"][0]["finish_reason"] == "stop"
    assert ignored["usage"]["completion_tokens"] > 700
    honoured = openai(sim, "llama-3.1-8b", max_tokens=100)[2]
    assert honoured["choices"][0]["finish_reason"] == "length"
    assert honoured["usage"]["completion_tokens"] == 100


def test_rate_limit_headers_on_every_answer(sim: Simulator) -> None:
    _, headers, _ = openai(sim, "gpt-4.1-mini")
    for kind in ("requests", "tokens"):
        for part in ("limit", "remaining", "reset"):
            assert f"x-ratelimit-{part}-{kind}" in headers
    _, headers, _ = claude(sim, "claude-haiku-4-5")
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert headers[f"anthropic-ratelimit-{kind}-reset"].endswith("Z")
    assert headers["request-id"].startswith("req_")


def test_tokens_per_minute(sim: Simulator) -> None:
    sim.configure(tpm=300)
    assert openai(sim, "gpt-4.1-mini", max_completion_tokens=200)[0] == 200
    status, headers, body = openai(sim, "gpt-4.1-mini", max_completion_tokens=200)
    assert status == 429 and body["error"]["type"] == "tokens"
    assert headers["x-ratelimit-remaining-tokens"] == "0"


# Anthropic -----------------------------------------------------------------------------------


def test_newest_models_refuse_forced_tools(sim: Simulator) -> None:
    tools = [{"name": "record_answer", "input_schema": SCHEMA}]
    forced = {"type": "tool", "name": "record_answer"}
    status, _, body = claude(sim, "claude-opus-5-5", tools=tools, tool_choice=forced)
    assert status == 400 and "tool_choice" in body["error"]["message"]
    assert claude(sim, "claude-haiku-4-5", tools=tools, tool_choice=forced)[0] == 200
    status, _, body = claude(
        sim, "claude-opus-5-5", output_config={"format": {"type": "json_schema", "schema": SCHEMA}}
    )
    assert status == 200 and body["stop_reason"] == "end_turn"
    text = next(block["text"] for block in body["content"] if block["type"] == "text")
    assert text == '{"value": "Billing"}'


def test_tool_choice_none_calls_no_tool(sim: Simulator) -> None:
    tools = [{"name": "record_answer", "input_schema": SCHEMA}]
    status, _, body = claude(sim, "claude-haiku-4-5", tools=tools, tool_choice={"type": "none"})
    assert status == 200 and body["stop_reason"] == "end_turn"
    assert [block["type"] for block in body["content"]] == ["text"]


@pytest.mark.parametrize(("text", "says"), [(" ", "non-whitespace"), ("", "non-empty")])
def test_blank_text_blocks_are_refused(sim: Simulator, text: str, says: str) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": DOC}]},
        {"role": "assistant", "content": [{"type": "text", "text": text}]},
        {"role": "user", "content": [{"type": "text", "text": "Again."}]},
    ]
    status, _, body = claude(sim, "claude-haiku-4-5", messages=messages)
    assert status == 400 and says in body["error"]["message"]
    assert body["error"]["type"] == "invalid_request_error"


def test_prefill_is_refused_where_unsupported(sim: Simulator) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": DOC}]},
        {"role": "assistant", "content": [{"type": "text", "text": "The answer is"}]},
    ]
    assert claude(sim, "claude-opus-5-5", messages=messages)[0] == 400
    assert claude(sim, "claude-haiku-4-5", messages=messages)[0] == 200


def test_effort_only_where_the_model_has_it(sim: Simulator) -> None:
    assert claude(sim, "claude-haiku-4-5", output_config={"effort": "low"})[0] == 400
    assert claude(sim, "claude-opus-5-5", output_config={"effort": "low"})[0] == 200
    assert claude(sim, "claude-opus-5-5", output_config={"effort": "minimal"})[0] == 400


def test_thinking_spends_max_tokens(sim: Simulator) -> None:
    sim.configure(reasoning_tokens={"medium": 1200, "low": 300})
    status, _, body = claude(sim, "claude-opus-5-5", max_tokens=256)  # default effort: medium
    assert status == 200 and body["stop_reason"] == "max_tokens"
    assert [block["type"] for block in body["content"]] == ["thinking"]
    assert body["usage"]["output_tokens_details"]["thinking_tokens"] == 256
    status, _, body = claude(
        sim, "claude-opus-5-5", max_tokens=256 + 2048, output_config={"effort": "low"}
    )
    assert body["stop_reason"] == "end_turn"
    assert body["usage"]["output_tokens_details"]["thinking_tokens"] == 300
    # A model that thinks only when asked spends nothing on it.
    assert claude(sim, "claude-haiku-4-5", max_tokens=256)[2]["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("fault", "stop"),
    [("length", "max_tokens"), ("refusal", "refusal"), ("content_filter", "refusal")],
)
def test_anthropic_stops(sim: Simulator, fault: str, stop: str) -> None:
    sim.configure(schedule=[fault])
    status, _, body = claude(sim, "claude-haiku-4-5")
    assert status == 200 and body["stop_reason"] == stop
    if fault == "refusal":
        assert body["stop_details"]["category"] == "general_harms"


def test_rate_limited_anthropic_says_retry_after(sim: Simulator) -> None:
    sim.configure(schedule=["429"], retry_after_s=7)
    status, headers, body = claude(sim, "claude-haiku-4-5")
    assert status == 429 and headers["retry-after"] == "7"
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"


def test_cache_minimum_per_model(sim: Simulator) -> None:
    """Claude Haiku 4.5 caches from 4,096 tokens, Sonnet 5 from 1,024 (prompt-caching page)."""
    system = [{"type": "text", "text": "Summarise. " * 800, "cache_control": {"type": "ephemeral"}}]
    for model, cached in (("claude-haiku-4-5", False), ("claude-sonnet-5", True)):
        usage = claude(sim, model, system=system)[2]["usage"]
        assert (usage["cache_creation_input_tokens"] > 0) is cached
