from __future__ import annotations

from tests.conftest import Caller, assert_error
from tests.helpers import add_property, make_database


def test_show_and_rename(api: Caller, other_api: Caller) -> None:
    mine = api.get("/v1/workspace").get_json()
    assert mine["id"] == api.workspace_id and mine["name"] == "Acme"
    assert mine["default_model"] is None and mine["effective_default_model"] == "sim:sim-1"
    renamed = api.patch("/v1/workspace", json={"name": "Acme Inc"}).get_json()
    assert renamed["name"] == "Acme Inc"
    assert other_api.get("/v1/workspace").get_json()["name"] == "Globex"


def test_workspace_default_model_applies_to_new_columns(api: Caller, other_api: Caller) -> None:
    response = api.patch("/v1/workspace", json={"default_model": "anthropic:claude-haiku-4-5"})
    assert response.get_json()["effective_default_model"] == "anthropic:claude-haiku-4-5"
    database = make_database(api)
    summary = add_property(
        api, database["id"], {"name": "S", "type": "ai", "ai": {"task": "summary"}}
    )
    assert summary["ai"]["model"] == "anthropic:claude-haiku-4-5"
    chosen = add_property(
        api,
        database["id"],
        {"name": "T", "type": "ai", "ai": {"task": "summary", "model": "openai:gpt-4.1-mini"}},
    )
    assert chosen["ai"]["model"] == "openai:gpt-4.1-mini"  # the column's own choice wins
    theirs = make_database(other_api)
    other = add_property(
        other_api, theirs["id"], {"name": "S", "type": "ai", "ai": {"task": "summary"}}
    )
    assert other["ai"]["model"] == "sim:sim-1"  # other workspaces keep the server default
    cleared = api.patch("/v1/workspace", json={"default_model": None}).get_json()
    assert cleared["default_model"] is None and cleared["effective_default_model"] == "sim:sim-1"


def test_bad_model_is_422(api: Caller) -> None:
    error = assert_error(
        api.patch("/v1/workspace", json={"default_model": "gpt-4"}),
        422,
        "validation_error",
        "default_model",
    )
    assert "openai:<model>" in error["fields"]["default_model"]
