"""Typed completions through the official OpenAI and Anthropic SDKs, against the simulator."""

from __future__ import annotations

import time
from typing import Any

import pytest

from autofill.clock import FakeClock
from autofill.llm.errors import FillFailed
from autofill.llm.simulator import Simulator
from autofill.llm.types import ChatMessage, LLMRequest
from autofill.outputs import OutputSpec
from tests.conftest import Configure
from tests.providers import DOC, completer, request

MODELS = ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5", "compat:local-llama", "sim:sim-1"]


@pytest.mark.parametrize("model", MODELS)
def test_text_answer_with_usage_and_cost(providers: Simulator, model: str) -> None:
    result = completer().complete(request(model))
    assert result.value == "[sim] Le remboursement a échoué deux fois. Le client est en colère."
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.attempts == 1 and result.calls == 1 and result.model == model
    (sent,) = providers.requests
    assert sent["protocol"] == ("anthropic" if model.startswith("anthropic") else "openai")
    if model.startswith("compat"):
        assert sent["body"]["model"] == "llama-3.1-8b"
    if model.startswith(("openai", "anthropic")):
        assert result.cost_usd > 0


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"])
@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (OutputSpec(type="select", options=["Content", "Colère", "Neutre"]), "Colère"),
        (
            OutputSpec(type="multi_select", options=["facture", "livraison", "client"]),
            ["facture", "client"],
        ),
        (OutputSpec(type="number"), 2024),
        (OutputSpec(type="date"), "2024-03-02"),
        (OutputSpec(type="checkbox"), True),
    ],
)
def test_structured_outputs(
    providers: Simulator, model: str, output: OutputSpec, expected: Any
) -> None:
    result = completer().complete(request(model, output))
    assert result.value == expected
    body = providers.requests[0]["body"]
    if model.startswith("openai"):
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["strict"] is True
    else:  # Claude Haiku 4.5 has structured outputs: no forced tool
        assert "tool_choice" not in body and "tools" not in body
        assert body["output_config"]["format"]["schema"]["properties"]["value"]


def test_no_option_fits(providers: Simulator) -> None:
    output = OutputSpec(type="select", options=["Shipping", "Warranty"], allow_none=True)
    result = completer().complete(request("openai:gpt-4.1-mini", output))
    assert result.value is None and result.none_reason


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"])
@pytest.mark.parametrize("fault", ["408", "409", "429", "500", "503", "529", "drop", "truncated"])
def test_transient_failures_are_retried(providers: Simulator, model: str, fault: str) -> None:
    providers.configure(schedule=[fault, fault])
    result = completer().complete(request(model))
    assert result.calls == 3 and result.value.startswith("[sim]")
    assert [r.get("status") for r in providers.requests][-1] == 200


def test_retry_after_is_honoured(providers: Simulator, fake_clock: FakeClock) -> None:
    providers.configure(schedule=["429"], retry_after_s=1.5)
    completer().complete(request("openai:gpt-4.1-mini"))
    assert fake_clock.slept and sum(fake_clock.slept) >= 1.5


def test_timeouts_are_retried_within_the_bound(providers: Simulator) -> None:
    # Real time: the timeout is the HTTP client's, on the wire.
    providers.configure(schedule=["timeout"], timeout_s=10)
    started = time.monotonic()
    result = completer(call_timeout_s=0.5).complete(request("anthropic:claude-haiku-4-5"))
    assert result.calls == 2 and time.monotonic() - started < 5


def test_total_time_is_bounded(providers: Simulator, fake_clock: FakeClock) -> None:
    providers.configure(error_rates={"500": 1.0})
    with pytest.raises(FillFailed, match="HTTP 500") as info:
        completer(timeout_s=3.0).complete(request("openai:gpt-4.1-mini"))
    # Backoff (0.5 s, 1 s, 2 s, … plus jitter) stopped before a wait that would pass the
    # 3-second bound, and before the six attempts ran out.
    assert 0 < sum(fake_clock.slept) < 3.0 and 2 <= info.value.calls < 6


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"])
@pytest.mark.parametrize("fault", ["400", "401"])
def test_permanent_failures_are_not_retried(providers: Simulator, model: str, fault: str) -> None:
    providers.configure(schedule=[fault])
    with pytest.raises(FillFailed, match=f"HTTP {fault}") as info:
        completer().complete(request(model))
    assert len(providers.requests) == 1 and info.value.attempts == 1


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"])
def test_invalid_answer_is_reasked_with_the_error(providers: Simulator, model: str) -> None:
    providers.configure(schedule=["invalid"])
    output = OutputSpec(type="select", options=["Positive", "Neutral", "Negative"])
    result = completer().complete(request(model, output))
    assert result.attempts == 2 and result.value in output.options  # type: ignore[operator]
    second = providers.requests[1]["body"]["messages"]
    reask = second[-1]["content"]
    text = reask if isinstance(reask, str) else reask[0]["text"]
    assert "which is not one of: Positive, Neutral, Negative" in text
    assert second[-2]["role"] == "assistant"
    # Both answers were paid for.
    assert result.usage.input_tokens > 2 * 20


def test_gives_up_after_the_reasks_with_a_readable_error(providers: Simulator) -> None:
    providers.configure(schedule=["invalid"] * 3)
    output = OutputSpec(type="select", options=["Positive", "Neutral", "Negative"])
    with pytest.raises(FillFailed) as info:
        completer().complete(request("openai:gpt-4.1-mini", output))
    assert (
        info.value.message
        == "model answered 'Maybe', which is not one of: Positive, Neutral, Negative"
    )
    assert info.value.attempts == 3 and info.value.usage.output_tokens > 0


def test_anthropic_prompt_cache_is_marked_and_priced(providers: Simulator) -> None:
    static = [
        ChatMessage("system", "Summarise pages. " * 1400),  # Haiku 4.5 caches from 4,096
        ChatMessage("user", "<document>Example page.</document>"),
        ChatMessage("assistant", "An example summary.", cache_boundary=True),
    ]
    ask = completer()
    first = ask.complete(
        LLMRequest("anthropic:claude-haiku-4-5", [*static, ChatMessage("user", DOC)])
    )
    second = ask.complete(
        LLMRequest(
            "anthropic:claude-haiku-4-5",
            [*static, ChatMessage("user", "<document>Autre page.</document>")],
        )
    )
    body = providers.requests[0]["body"]
    assert body["messages"][1]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert first.usage.cache_write_tokens > 4096 and first.usage.cached_tokens == 0
    assert second.usage.cached_tokens == first.usage.cache_write_tokens
    assert second.cost_usd < first.cost_usd


def test_missing_key_fails_without_a_call(providers: Simulator, configure: Configure) -> None:
    configure(openai_api_key=None)
    with pytest.raises(Exception, match="OPENAI_API_KEY is not set"):
        completer().complete(request("openai:gpt-4.1-mini"))
    assert providers.requests == []


def test_openai_cached_prefix_is_priced_as_cached(providers: Simulator) -> None:
    static = [
        ChatMessage("system", "Summarise pages in their own language. " * 300),
        ChatMessage("user", "<document>Example.</document>"),
        ChatMessage("assistant", "An example.", cache_boundary=True),
    ]
    ask = completer()
    first = ask.complete(LLMRequest("openai:gpt-4.1-mini", [*static, ChatMessage("user", DOC)]))
    second = ask.complete(
        LLMRequest(
            "openai:gpt-4.1-mini", [*static, ChatMessage("user", "<document>Autre.</document>")]
        )
    )
    assert first.usage.cached_tokens == 0 and second.usage.cached_tokens >= 1024
    assert second.cost_usd < first.cost_usd


def test_clients_are_created_once_per_process(providers: Simulator) -> None:
    from autofill.llm.registry import route

    first, second = route("openai:gpt-4.1-mini"), route("openai:gpt-4o")
    haiku, sonnet = route("anthropic:claude-haiku-4-5"), route("anthropic:claude-sonnet-5-5")
    assert getattr(first.provider, "client") is getattr(second.provider, "client")  # noqa: B009
    assert getattr(haiku.provider, "client") is getattr(sonnet.provider, "client")  # noqa: B009
    assert first.limit_key == second.limit_key and "sk-sim" not in first.limit_key


MALFORMED = ["garbage", "empty", "shapeless", "no_choices", "wrong_types", "truncated"]


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"])
@pytest.mark.parametrize("fault", MALFORMED)
@pytest.mark.parametrize("typed", [False, True])
def test_a_malformed_answer_is_retried_then_a_clear_failure(
    providers: Simulator, model: str, fault: str, typed: bool
) -> None:
    output = OutputSpec(type="select", options=["Yes", "No"]) if typed else None
    # Once: retried, and the next (well-formed) answer is used.
    providers.configure(schedule=[fault])
    result = completer().complete(request(model, output))
    assert result.calls == 2
    assert result.value in ("Yes", "No") if typed else result.value.startswith("[sim]")
    if typed:
        return  # giving up is the same for both kinds of column
    # Every time: a FillFailed that says what came back, never another exception type.
    providers.reset()
    providers.configure(error_rates={fault: 1.0})
    with pytest.raises(FillFailed) as info:
        completer(timeout_s=2.0).complete(request(model, output))
    assert "malformed" in info.value.message or "no c" in info.value.message
    assert info.value.calls >= 2  # retried, and every call counted
