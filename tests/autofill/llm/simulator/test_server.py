"""The simulator over raw HTTP: faults, the rpm it enforces, caching, and what it records."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from autofill.llm.simulator import Simulator

LONG_SYSTEM = "Summarise the document in its own language. " * 200  # > 1,024 tokens


def post(url: str, body: Any, timeout: float = 10) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-secret"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def chat(
    sim: Simulator, content: str = "<document>Bonjour. Ça va ? Oui.</document>", **extra: Any
) -> tuple[int, dict[str, str], Any]:
    body: dict[str, Any] = {
        "model": "sim-1",
        "messages": [
            {"role": "system", "content": "Summarise."},
            {"role": "user", "content": content},
        ],
        **extra,
    }
    return post(sim.openai_base_url + "/chat/completions", body)


def test_answers_are_grounded_marked_and_counted(sim: Simulator) -> None:
    status, _, body = chat(sim)
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "[sim] Bonjour. Ça va ?"
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_records_requests_without_secrets(sim: Simulator) -> None:
    chat(sim)
    (record,) = sim.requests
    assert record["protocol"] == "openai" and record["status"] == 200
    assert record["body"]["messages"][1]["content"].startswith("<document>")
    assert "authorization" not in {k.lower() for k in record["headers"]}


@pytest.mark.parametrize("fault", ["408", "409", "429", "500", "503", "529", "400", "401"])
def test_status_faults(sim: Simulator, fault: str) -> None:
    sim.configure(schedule=[fault])
    status, headers, body = chat(sim)
    assert status == int(fault) and "error" in body
    if fault == "429":
        # OpenAI's 429 says when the limit resets in its x-ratelimit headers, not retry-after.
        assert headers["x-ratelimit-remaining-requests"] == "0"
        assert headers["x-ratelimit-reset-requests"].endswith("s")
    assert headers["x-request-id"].startswith("req_")
    assert chat(sim)[0] == 200  # the schedule is consumed


def test_truncated_and_dropped(sim: Simulator) -> None:
    sim.configure(schedule=["truncated", "drop"])
    request = urllib.request.Request(
        sim.openai_base_url + "/chat/completions",
        method="POST",
        data=json.dumps({"model": "m", "messages": [{"role": "user", "content": "x"}]}).encode(),
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        chat(sim)


def test_latency(sim: Simulator) -> None:
    sim.configure(latency_ms=300)
    started = time.monotonic()
    chat(sim)
    assert time.monotonic() - started >= 0.3


def test_enforces_requests_per_minute(sim: Simulator) -> None:
    sim.configure(rpm=3)
    results = [chat(sim) for _ in range(4)]
    assert [status for status, _, _ in results] == [200, 200, 200, 429]
    _, headers, _ = results[2]
    assert (
        headers["x-ratelimit-limit-requests"] == "3"
        and headers["x-ratelimit-remaining-requests"] == "0"
    )
    reset = results[3][1]["x-ratelimit-reset-requests"]
    assert 50 < float(reset.removesuffix("s")) <= 60  # the window empties in about a minute
    assert results[3][2]["error"]["code"] == "rate_limit_exceeded"


def test_openai_prefix_caching(sim: Simulator) -> None:
    body: dict[str, Any] = {
        "model": "sim-1",
        "messages": [
            {"role": "system", "content": LONG_SYSTEM},
            {"role": "user", "content": "<document>A</document>"},
        ],
    }
    url = sim.openai_base_url + "/chat/completions"
    cold = post(url, body)[2]["usage"]
    body["messages"][1]["content"] = "<document>B</document>"
    warm = post(url, body)[2]["usage"]
    assert cold["prompt_tokens_details"]["cached_tokens"] == 0
    cached = warm["prompt_tokens_details"]["cached_tokens"]
    assert cached >= 1024 and cached % 128 == 0 and cached <= warm["prompt_tokens"]


def test_anthropic_cache_write_then_read(sim: Simulator) -> None:
    body: dict[str, Any] = {
        "model": "claude-sonnet-5",  # caches from 1,024 tokens
        "max_tokens": 50,
        "system": [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "<document>A</document>"}],
    }
    first = post(sim.base_url + "/v1/messages", body)[2]["usage"]
    body["messages"][0]["content"] = "<document>B</document>"
    second = post(sim.base_url + "/v1/messages", body)[2]["usage"]
    assert first["cache_creation_input_tokens"] > 1024 and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["input_tokens"] < 50


def test_tool_use_answers_fit_the_schema(sim: Simulator) -> None:
    schema = {
        "type": "object",
        "properties": {"value": {"type": "string", "enum": ["Billing", "Outage"]}},
        "required": ["value"],
        "additionalProperties": False,
    }
    body = {
        "model": "claude-haiku-4-5",  # takes a forced tool
        "max_tokens": 50,
        "tools": [{"name": "record_answer", "input_schema": schema}],
        "tool_choice": {"type": "tool", "name": "record_answer"},
        "messages": [
            {"role": "user", "content": "<document>The outage lasted an hour.</document>"}
        ],
    }
    status, _, reply = post(sim.base_url + "/v1/messages", body)
    assert status == 200 and reply["stop_reason"] == "tool_use"
    assert reply["content"][0]["input"] == {"value": "Outage"}


def test_control_endpoints(sim: Simulator) -> None:
    post(sim.base_url + "/_sim/config", {"schedule": ["500"]})
    assert chat(sim)[0] == 500
    stats = json.loads(urllib.request.urlopen(sim.base_url + "/_sim/stats").read())
    assert stats == {
        "requests": 1,
        "count_tokens": 0,
        "cached_tokens": 0,
        "statuses": {"500": 1},
        "mean_latency_s": 0.0,
    }
    post(sim.base_url + "/_sim/reset", {})
    assert json.loads(urllib.request.urlopen(sim.base_url + "/_sim/requests").read()) == []
