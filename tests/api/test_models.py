"""Models where a person chooses them: unknown and retired ones refused naming the field and the
replacement, deprecated ones accepted with a warning; token figures say how they were counted."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from autofill.llm.simulator import Simulator
from tests.conftest import Caller, Configure, assert_error
from tests.helpers import add_property, add_row, make_database


def summary(model: str) -> dict[str, Any]:
    return {"name": "Summary", "type": "ai", "ai": {"task": "summary", "model": model}}


@pytest.mark.parametrize(
    ("model", "says"),
    [
        ("openai:o1", "retired on 2026-10-23: its provider no longer serves it; use openai:"),
        ("anthropic:claude-3-haiku-20240307", "use anthropic:claude-haiku-5-5 instead"),
        ("openai:gpt-9-imaginary", "not in the model catalogue"),
        ("anthropic:claude-sonnet-4-5", "retired on 2026-11-30"),  # end of life today
    ],
)
def test_a_column_on_a_model_that_cannot_be_used_is_refused(
    api: Caller, model: str, says: str
) -> None:
    database = make_database(api)
    response = api.post(f"/v1/databases/{database['id']}/properties", json=summary(model))
    error = assert_error(response, 422, "validation_error", "ai.model")
    assert says in error["fields"]["ai.model"]


def test_a_workspace_default_that_cannot_be_used_is_refused(api: Caller) -> None:
    error = assert_error(
        api.patch("/v1/workspace", json={"default_model": "openai:o4-mini"}),
        422,
        "validation_error",
        "default_model",
    )
    assert "openai:gpt-6-luna" in error["fields"]["default_model"]


def test_a_deprecated_model_works_and_says_so(api: Caller) -> None:
    database = make_database(api)
    column = add_property(api, database["id"], summary("openai:gpt-4.1-mini"))
    status = column["ai"]["model_status"]
    assert status["status"] == "deprecated" and status["retires_on"] == "2027-01-14"
    assert status["replacement"] == "openai:gpt-6-luna"
    assert "will stop working on 2027-01-14" in status["warning"]
    current = add_property(api, database["id"], {**summary("openai:gpt-6-luna"), "name": "S2"})
    assert current["ai"]["model_status"] == {
        "status": "active",
        "retires_on": None,
        "replacement": None,
        "warning": None,
    }


def _preview(api: Caller, model: str, page: str = "Der Kunde wartet.") -> dict[str, Any]:
    database = make_database(api)
    column = add_property(api, database["id"], summary(model))
    row = add_row(api, database["id"], {"content": page})
    response = api.post(f"/v1/properties/{column['id']}/preview", json={"row_id": row["id"]})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_token_figures_say_how_they_were_counted(
    api: Caller, providers: Simulator, configure: Configure
) -> None:
    assert _preview(api, "openai:gpt-6-luna")["input_tokens_source"] == "tiktoken"
    configure(anthropic_api_key=None)
    estimated = _preview(api, "anthropic:claude-opus-5-5")
    assert estimated["input_tokens_source"] == "estimate"
    assert providers.state.counted == 0


def test_with_a_key_claude_prompts_are_counted_by_anthropic(
    api: Caller, providers: Simulator, configure: Configure
) -> None:
    """count_tokens, once per distinct prompt: the estimate (o200k × 1.625) is replaced by the
    provider's count, which the simulator computes as its Messages answers would report it."""
    page = f"Der Kunde wartet seit {uuid.uuid4().hex} Tagen."  # a prompt no other test counted
    first = _preview(api, "anthropic:claude-opus-5-5", page)
    assert first["input_tokens_source"] == "count_tokens"
    assert providers.state.counted == 1 and providers.requests == []  # no model call
    again = _preview(api, "anthropic:claude-opus-5-5", page)
    assert again["input_tokens"] == first["input_tokens"]
    assert providers.state.counted == 1  # the same prompt: remembered
    configure(anthropic_api_key=None)
    estimated = _preview(api, "anthropic:claude-opus-5-5", page)
    assert estimated["input_tokens_source"] == "estimate"
    # The estimate errs high on purpose; the counted figure and its cost are the provider's.
    assert first["input_tokens"] < estimated["input_tokens"]
    assert first["estimated_cost_usd"] < estimated["estimated_cost_usd"]


def test_the_dry_run_says_its_tokens_are_estimated(api: Caller, sim: Simulator) -> None:
    database = make_database(api)
    column = add_property(api, database["id"], summary("anthropic:claude-haiku-5-5"))
    add_row(api, database["id"], {"content": "Page."})
    response = api.post(f"/v1/properties/{column['id']}/fill", json={"dry_run": True})
    body = response.get_json()
    assert body["input_tokens"] > 0 and body["input_tokens_source"] == "estimate"
