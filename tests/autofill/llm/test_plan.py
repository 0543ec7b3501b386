"""What a call sends, from the catalogue entry alone."""

from __future__ import annotations

from autofill.llm.catalogue import load_catalogue
from autofill.llm.plan import enlarged, expected_reasoning, output_limit, plan_call


def test_plain_model() -> None:
    info = load_catalogue().get("openai:gpt-4.1-mini")
    plan = plan_call(info, 256, 0.0, typed=True)
    assert (plan.output_limit, plan.effort, plan.temperature) == (256, None, 0.0)
    assert plan.token_fields == ("max_completion_tokens",) and plan.structured == "json_schema"
    assert expected_reasoning(info) == 0


def test_reasoning_switched_off_takes_a_temperature() -> None:
    plan = plan_call(load_catalogue().get("openai:gpt-6-luna"), 256, 0.0, typed=False)
    assert (plan.output_limit, plan.effort, plan.temperature) == (256, "none", 0.0)
    assert plan.structured is None


def test_always_reasoning_gets_room_and_no_temperature() -> None:
    info = load_catalogue().get("openai:gpt-6.1-sol")
    plan = plan_call(info, 256, 0.0, typed=True)
    assert (plan.output_limit, plan.effort, plan.temperature) == (256 + 2048, "low", None)
    assert expected_reasoning(info) == 512


def test_claude_thinking_models() -> None:
    newest = load_catalogue().get("anthropic:claude-opus-5-5")
    plan = plan_call(newest, 256, 0.0, typed=True)
    assert (plan.effort, plan.temperature, plan.structured) == ("low", None, "output_format")
    assert plan.token_fields == ("max_tokens",) and plan.output_limit == 2304
    previous = load_catalogue().get("anthropic:claude-haiku-4-5")
    assert plan_call(previous, 256, 0.0, typed=True).output_limit == 256  # no thinking asked


def test_limits_stay_within_the_models_maximum() -> None:
    small = load_catalogue().get("compat:x")  # 1,024 output tokens
    assert output_limit(small, 4096) == 1024
    assert enlarged(small, 256) == 1024 and enlarged(small, 1024) is None
    assert enlarged(load_catalogue().get("openai:gpt-6.1-sol"), 2304) == 9216


def test_a_compat_server_chooses_its_field() -> None:
    plan = plan_call(load_catalogue().get("compat:x"), 100, 0.0, typed=False)
    assert plan.token_fields == ("max_tokens",)
    both = plan_call(
        load_catalogue().get("compat:x"),
        100,
        0.0,
        typed=False,
        token_fields=("max_tokens", "max_completion_tokens"),
    )
    assert both.token_fields == ("max_tokens", "max_completion_tokens")
