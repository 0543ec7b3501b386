from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Caller, assert_error
from tests.helpers import SENTIMENT, add_property, add_row, make_database, prop_id


def ai(name: str, **config: Any) -> dict[str, Any]:
    return {"name": name, "type": "ai", "ai": config}


def test_classify_column(api: Caller) -> None:
    database = make_database(api)
    prop = add_property(api, database["id"], SENTIMENT)
    assert prop["type"] == "ai"
    assert prop["position"] == len(database["properties"])
    config = prop["ai"]
    assert config["task"] == "classify"
    assert config["inputs"] == ["content"]
    assert config["output"] == {
        "type": "select",
        "options": ["Positive", "Neutral", "Negative"],
        "allow_none": False,
    }
    assert config["auto_update"] is True
    assert config["model"] == "sim:sim-1"  # the configured default, stored so it never drifts


def test_inputs_derived_from_instruction(api: Caller) -> None:
    database = make_database(api)
    custom = add_property(
        api,
        database["id"],
        ai("Next step", task="custom", instruction="Given {Status} and {Notes}: next?"),
    )
    assert custom["ai"]["inputs"] == ["Status", "Notes"]
    assert custom["ai"]["input_ids"] == [prop_id(database, "Status"), prop_id(database, "Notes")]
    key_info = add_property(
        api, database["id"], ai("Pains", task="key_info", instruction="Pain points, given {Status}")
    )
    assert key_info["ai"]["inputs"] == ["content", "Status"]
    summary = add_property(api, database["id"], ai("Summary", task="summary"))
    assert summary["ai"]["inputs"] == ["content"]
    escaped = add_property(
        api,
        database["id"],
        ai("Json", task="custom", instruction='Answer {{"ok": true}} for {Name}'),
    )
    assert escaped["ai"]["inputs"] == ["Name"]


def test_inputs_by_name_or_id_are_case_insensitive(api: Caller) -> None:
    database = make_database(api)
    prop = add_property(
        api,
        database["id"],
        ai(
            "FR",
            task="translate",
            inputs=["name", prop_id(database, "Notes")],
            target_language="FR",
        ),
    )
    assert prop["ai"]["inputs"] == ["Name", "Notes"]
    assert prop["ai"]["target_language"] == "fr"


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        (ai("X", task="custom", instruction="Use {Missing}"), "ai.instruction", "'Missing'"),
        (ai("X", task="summary", inputs=["Nope"]), "ai.inputs[0]", "'Nope'"),
        (ai("X", task="summary", inputs=["X"]), "ai.inputs[0]", "cannot read itself"),
        (ai("X", task="custom", instruction="Rewrite {X}"), "ai.instruction", "cannot read itself"),
        (ai("X", task="translate"), "ai.target_language", "target_language"),
        (
            ai("X", task="classify", output={"type": "select", "options": []}),
            "ai.output.options",
            "must not be empty",
        ),
        (
            ai("X", task="classify", output={"type": "select", "options": ["A", "b", " a "]}),
            "ai.output.options",
            "twice",
        ),
        (ai("X", task="classify"), "ai.output", "options"),
        (ai("X", task="classify", output={"type": "select"}), "ai.output.options", "needs options"),
        (ai("X", task="summary", output={"type": "number"}), "ai.output", "not number"),
        (ai("X", task="custom"), "ai.instruction", "needs an instruction"),
        (ai("X", task="summary", inputs=[]), "ai.inputs", "at least one input"),
        (ai("X", task="summary", model="gpt-4"), "ai.model", "model reference"),
        (ai("X", task="summary", max_input_tokens=10), "ai.max_input_tokens", "256"),
        (ai("X", task="summarise"), "ai.task", "summary"),
        ({"name": "X", "type": "ai"}, "ai", "needs an `ai` configuration"),
        ({"name": "X", "type": "select"}, "options", "needs options"),
        ({"name": "X", "type": "select", "options": ["a", "A"]}, "options", "twice"),
        ({"name": "X", "type": "text", "options": ["a"]}, "options", "takes no options"),
        ({"name": "{Status}", "type": "text"}, "name", "'{'"),
        ({"name": "content", "type": "text"}, "name", "reserved"),
    ],
)
def test_definition_rejections(
    api: Caller, spec: dict[str, Any], field: str, fragment: str
) -> None:
    database = make_database(api)
    response = api.post(f"/v1/databases/{database['id']}/properties", json=spec)
    error = assert_error(response, 422, "validation_error", field)
    assert fragment in error["fields"][field]
    # Nothing was half-written.
    after = api.get(f"/v1/databases/{database['id']}").get_json()
    assert len(after["properties"]) == len(database["properties"])


def test_duplicate_name_conflicts(api: Caller) -> None:
    database = make_database(api)
    error = assert_error(
        api.post(
            f"/v1/databases/{database['id']}/properties",
            json={"name": "ＳＴＡＴＵＳ", "type": "text"},
        ),
        409,
        "conflict",
        "name",
    )
    assert "'Status'" in error["message"]


def test_cycles_are_rejected(api: Caller) -> None:
    database = make_database(api)
    a = add_property(api, database["id"], ai("A", task="summary"))
    b = add_property(api, database["id"], ai("B", task="custom", instruction="Shorten {A}"))
    c = add_property(api, database["id"], ai("C", task="custom", instruction="Translate {B}"))
    error = assert_error(
        api.patch(f"/v1/properties/{a['id']}", json={"ai": {"inputs": ["C"]}}),
        422,
        "validation_error",
        "ai.inputs",
    )
    assert "cycle" in error["message"] and "A → C → B → A" in error["message"]
    unchanged = api.get(f"/v1/databases/{database['id']}").get_json()
    assert next(p for p in unchanged["properties"] if p["id"] == a["id"])["ai"]["inputs"] == [
        "content"
    ]
    assert c["ai"]["inputs"] == ["B"] and b["ai"]["inputs"] == ["A"]


def test_cycle_within_a_new_database(api: Caller) -> None:
    spec = {
        "name": "Loop",
        "properties": [
            ai("A", task="custom", instruction="Use {B}"),
            ai("B", task="custom", instruction="Use {A}"),
        ],
    }
    error = assert_error(
        api.post("/v1/databases", json=spec), 422, "validation_error", "properties"
    )
    assert "cycle" in error["message"]
    assert api.get("/v1/databases").get_json()["items"] == []


def test_forward_reference_in_new_database(api: Caller) -> None:
    spec = {
        "name": "Chain",
        "properties": [
            ai("Short", task="custom", instruction="Shorten {Long}"),
            ai("Long", task="summary"),
        ],
    }
    response = api.post("/v1/databases", json=spec)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["properties"][0]["ai"]["inputs"] == ["Long"]


def test_rename_rewrites_instructions(api: Caller) -> None:
    database = make_database(api)
    custom = add_property(
        api, database["id"], ai("Next", task="custom", instruction="From {status}, {{x}}")
    )
    response = api.patch(f"/v1/properties/{prop_id(database, 'Status')}", json={"name": "Stage"})
    assert response.status_code == 200 and response.get_json()["name"] == "Stage"
    after = api.get(f"/v1/databases/{database['id']}").get_json()
    updated = next(p for p in after["properties"] if p["id"] == custom["id"])
    assert updated["ai"]["instruction"] == "From {Stage}, {{x}}"
    assert updated["ai"]["inputs"] == ["Stage"]


def test_type_cannot_change(api: Caller) -> None:
    database = make_database(api)
    assert_error(
        api.patch(f"/v1/properties/{prop_id(database, 'Notes')}", json={"type": "number"}),
        422,
        "validation_error",
        "type",
    )


def test_delete_property_read_by_ai_conflicts(api: Caller) -> None:
    database = make_database(api)
    add_property(api, database["id"], ai("Next", task="custom", instruction="From {Status}"))
    error = assert_error(
        api.delete(f"/v1/properties/{prop_id(database, 'Status')}"), 409, "conflict"
    )
    assert "'Next'" in error["message"]


def test_delete_property_removes_values_and_compacts(api: Caller) -> None:
    database = make_database(api)
    row = add_row(api, database["id"], {"properties": {"Name": "Kim", "Notes": "hi"}})
    assert api.delete(f"/v1/properties/{prop_id(database, 'Notes')}").status_code == 204
    after = api.get(f"/v1/databases/{database['id']}").get_json()
    assert [p["position"] for p in after["properties"]] == list(range(7))
    assert "Notes" not in api.get(f"/v1/rows/{row['id']}").get_json()["properties"]
    assert_error(api.delete(f"/v1/properties/{prop_id(database, 'Notes')}"), 404, "not_found")


def test_options_in_use_cannot_be_removed(api: Caller) -> None:
    database = make_database(api)
    add_row(api, database["id"], {"properties": {"Status": "Open", "Tags": ["bug"]}})
    status = prop_id(database, "Status")
    assert_error(
        api.patch(f"/v1/properties/{status}", json={"options": ["Done"]}),
        409,
        "conflict",
        "options",
    )
    tags = prop_id(database, "Tags")
    assert_error(
        api.patch(f"/v1/properties/{tags}", json={"options": ["idea"]}), 409, "conflict", "options"
    )
    ok = api.patch(f"/v1/properties/{status}", json={"options": ["Open", "Done", "Later"]})
    assert ok.status_code == 200 and ok.get_json()["options"] == ["Open", "Done", "Later"]


def test_ai_patch_merges_and_revalidates(api: Caller) -> None:
    database = make_database(api)
    prop = add_property(api, database["id"], SENTIMENT)
    response = api.patch(
        f"/v1/properties/{prop['id']}", json={"ai": {"model": "openai:gpt-4.1-mini"}}
    )
    assert response.status_code == 200
    config = response.get_json()["ai"]
    assert config["model"] == "openai:gpt-4.1-mini" and config["task"] == "classify"
    switched = api.patch(
        f"/v1/properties/{prop['id']}",
        json={"ai": {"task": "translate", "target_language": "de", "output": {"type": "text"}}},
    )
    assert switched.status_code == 200, switched.get_json()
    assert_error(
        api.patch(f"/v1/properties/{prop['id']}", json={"ai": {"task": "classify"}}),
        422,
        "validation_error",
        "ai.output",
    )
    text = prop_id(database, "Notes")
    assert_error(
        api.patch(f"/v1/properties/{text}", json={"ai": {"task": "summary"}}),
        422,
        "validation_error",
        "ai",
    )
