"""POST /v1/properties/{id}/preview: the exact request, tokens and cost; no model is called."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autofill.llm.simulator import Simulator
from tests.conftest import Caller, assert_error
from tests.helpers import add_property, add_row, make_database, prop_id


@pytest.fixture
def setup(api: Caller) -> dict[str, Any]:
    database = make_database(api)
    column = add_property(
        api,
        database["id"],
        {
            "name": "Next",
            "type": "ai",
            "ai": {
                "task": "custom",
                "instruction": "Given {Status}, the next step?",
                "inputs": ["content"],
                "model": "openai:gpt-4.1-mini",
            },
        },
    )
    row = add_row(
        api,
        database["id"],
        {
            "properties": {"Name": "Kim", "Status": "Open", "Notes": "private note"},
            "content": "Le client attend un remboursement depuis deux semaines.",
        },
    )
    return {"db": database, "column": column, "row": row}


def test_preview_for_a_stored_row(api: Caller, setup: dict[str, Any], sim: Simulator) -> None:
    response = api.post(
        f"/v1/properties/{setup['column']['id']}/preview", json={"row_id": setup["row"]["id"]}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["model"] == "openai:gpt-4.1-mini"
    assert body["prompt_version"].startswith("custom:")
    assert body["language"] == "fr" and body["examples"][0].startswith("fr-")
    last = body["messages"][-1]
    assert last["role"] == "user"
    asked = r'<request-(\w{8})>Given "Status", the next step\?</request-\1>'
    assert re.search(asked, last["content"])
    assert "The page is written in French (français)." in last["content"]
    assert "Status: Open" in last["content"] and "remboursement" in last["content"]
    assert "private note" not in last["content"] and "Kim" not in last["content"]  # not inputs
    assert [m["cache_boundary"] for m in body["messages"]].count(True) == 1
    assert 0 < body["input_tokens"] <= body["budget"]
    assert body["reserved_output_tokens"] == 512 and not body["truncated"]
    assert 0 < body["estimated_cost_usd"] < body["max_cost_usd"]
    assert sim.requests == []  # nothing was sent anywhere


def test_preview_inline_row_and_truncation(api: Caller, setup: dict[str, Any]) -> None:
    api.patch(f"/v1/properties/{setup['column']['id']}", json={"ai": {"max_input_tokens": 1200}})
    page = "\n\n".join(
        f"Paragraph {i}: the customer explains the problem again." for i in range(2000)
    )
    response = api.post(
        f"/v1/properties/{setup['column']['id']}/preview",
        json={"row": {"properties": {"Status": "Done"}, "content": page}},
    )
    body = response.get_json()
    assert response.status_code == 200 and body["truncated"] and body["cut_chars"] > 0
    assert body["input_tokens"] <= body["budget"] == 1200
    assert "characters omitted" in body["messages"][-1]["content"]


def test_preview_reads_upstream_ai_values(api: Caller, setup: dict[str, Any]) -> None:
    upstream = add_property(
        api,
        setup["db"]["id"],
        {
            "name": "Mood",
            "type": "ai",
            "ai": {"task": "classify", "output": {"type": "select", "options": ["Calm", "Angry"]}},
        },
    )
    reader = add_property(
        api,
        setup["db"]["id"],
        {
            "name": "Reply",
            "type": "ai",
            "ai": {"task": "custom", "instruction": "Draft a reply in a {Mood} tone"},
        },
    )
    api.put(f"/v1/rows/{setup['row']['id']}/cells/{upstream['id']}", json={"value": "Angry"})
    body = api.post(
        f"/v1/properties/{reader['id']}/preview", json={"row_id": setup["row"]["id"]}
    ).get_json()
    assert "Mood: Angry" in body["messages"][-1]["content"]
    assert body["model"] == "sim:sim-1"


def test_preview_rejections(api: Caller, other_api: Caller, setup: dict[str, Any]) -> None:
    url = f"/v1/properties/{setup['column']['id']}/preview"
    assert_error(api.post(url, json={}), 422, "validation_error", "body")
    assert_error(api.post(url, json={"row_id": "x", "row": {}}), 422, "validation_error", "body")
    name = prop_id(setup["db"], "Name")
    assert_error(
        api.post(f"/v1/properties/{name}/preview", json={"row_id": setup["row"]["id"]}),
        422,
        "validation_error",
        "property",
    )
    assert_error(
        api.post(url, json={"row": {"properties": {"Status": "Maybe"}}}),
        422,
        "validation_error",
        "properties.Status",
    )
    other_db = make_database(api, {"name": "Other"})
    stray = add_row(api, other_db["id"], {})
    assert_error(api.post(url, json={"row_id": stray["id"]}), 422, "validation_error", "row_id")
    theirs = make_database(other_api)
    their_row = add_row(other_api, theirs["id"], {"content": "secret"})
    assert_error(api.post(url, json={"row_id": their_row["id"]}), 404, "not_found")
    assert_error(other_api.post(url, json={"row_id": their_row["id"]}), 404, "not_found")
    api.patch(f"/v1/properties/{setup['column']['id']}", json={"ai": {"max_input_tokens": 256}})
    error = assert_error(
        api.post(url, json={"row_id": setup["row"]["id"]}),
        422,
        "validation_error",
        "ai.max_input_tokens",
    )
    assert "before any page content" in error["message"]


def test_preview_says_which_property_was_cut(api: Caller, setup: dict[str, Any]) -> None:
    api.patch(
        f"/v1/properties/{setup['column']['id']}",
        json={"ai": {"instruction": "Given {Notes}, the next step?"}},
    )
    notes = "Le client rappelle. 👩‍👩‍👧‍👦 " * 300  # over 4,000 characters, emoji included
    response = api.post(
        f"/v1/properties/{setup['column']['id']}/preview",
        json={"row": {"properties": {"Notes": notes}, "content": "Bonjour."}},
    )
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["truncated"] and body["cut_properties"] == ["Notes"] and body["cut_chars"] == 0
    assert "characters omitted …]" in body["messages"][-1]["content"]
