"""AI cell states: created with the row or the column, moved by edits, owned by a person."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Caller, assert_error
from tests.helpers import SENTIMENT, add_property, add_row, make_database


def cell(api: Caller, row_id: str, name: str) -> dict[str, Any]:
    return api.get(f"/v1/rows/{row_id}").get_json()["cells"][name]  # type: ignore[no-any-return]


@pytest.fixture
def setup(api: Caller) -> dict[str, Any]:
    database = make_database(api)
    sentiment = add_property(api, database["id"], SENTIMENT)
    manual = add_property(
        api,
        database["id"],
        {
            "name": "Manual",
            "type": "ai",
            "ai": {"task": "summary", "auto_update": False},
        },
    )
    status_reader = add_property(
        api,
        database["id"],
        {
            "name": "Next",
            "type": "ai",
            "ai": {"task": "custom", "instruction": "Given {Status}"},
        },
    )
    row = add_row(api, database["id"], {"properties": {"Name": "Kim"}, "content": "Hello"})
    return {
        "db": database,
        "sentiment": sentiment,
        "manual": manual,
        "next": status_reader,
        "row": row,
    }


def test_new_row_cells_start_pending_or_empty(setup: dict[str, Any]) -> None:
    cells = setup["row"]["cells"]
    assert list(cells) == ["Sentiment", "Manual", "Next"]
    assert cells["Sentiment"]["status"] == "pending"
    assert cells["Manual"]["status"] == "empty"
    assert cells["Sentiment"]["written_by"] == "nobody" and cells["Sentiment"]["provenance"] is None


def test_new_column_gets_a_cell_on_every_existing_row(api: Caller, setup: dict[str, Any]) -> None:
    extra = add_row(api, setup["db"]["id"], {})
    add_property(api, setup["db"]["id"], {"name": "Late", "type": "ai", "ai": {"task": "summary"}})
    for row in (setup["row"], extra):
        assert cell(api, row["id"], "Late")["status"] == "pending"


def fill_all(store: Any, row_id: str) -> None:
    """Every AI cell of the row filled, written directly: these tests are about what the API
    does with cell states, not about the fill (tests/autofill/fills)."""
    from sqlalchemy import update

    from autofill.db.models import Cell

    with store.transaction() as session:
        session.execute(
            update(Cell).where(Cell.row_id == row_id).values(status="filled", value="v")
        )


def set_status(store: Any, row_id: str, property_id: str, status: str) -> None:
    from autofill.db.models import Cell

    with store.transaction() as session:
        target = session.get(Cell, (row_id, property_id))
        assert target is not None
        target.status = status


def test_only_edits_to_inputs_move_cells(api: Caller, setup: dict[str, Any], store: Any) -> None:
    row_id = setup["row"]["id"]
    fill_all(store, row_id)
    # Status is read by "Next" only.
    api.patch(f"/v1/rows/{row_id}", json={"properties": {"Status": "Done"}})
    states = {
        name: c["status"] for name, c in api.get(f"/v1/rows/{row_id}").get_json()["cells"].items()
    }
    assert states == {"Sentiment": "filled", "Manual": "filled", "Next": "pending"}

    fill_all(store, row_id)
    api.patch(f"/v1/rows/{row_id}", json={"properties": {"Name": "Kim Lee"}})  # read by nobody
    states = {
        name: c["status"] for name, c in api.get(f"/v1/rows/{row_id}").get_json()["cells"].items()
    }
    assert states == {"Sentiment": "filled", "Manual": "filled", "Next": "filled"}

    api.patch(f"/v1/rows/{row_id}", json={"content": "A new page"})
    after = api.get(f"/v1/rows/{row_id}").get_json()["cells"]
    assert after["Sentiment"]["status"] == "pending" and after["Sentiment"]["value"] == "v"
    assert after["Manual"]["status"] == "stale"  # manual columns wait to be asked
    assert after["Next"]["status"] == "filled"


def test_override_and_reset(api: Caller, setup: dict[str, Any]) -> None:
    row_id, prop = setup["row"]["id"], setup["sentiment"]
    response = api.put(f"/v1/rows/{row_id}/cells/{prop['id']}", json={"value": "negative"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["value"] == "Negative" and body["status"] == "overridden"
    assert body["written_by"] == "person" and body["overridden_at"]

    # An edit to the column's inputs leaves a person's value alone.
    api.patch(f"/v1/rows/{row_id}", json={"content": "Completely new page"})
    assert cell(api, row_id, "Sentiment")["value"] == "Negative"
    assert cell(api, row_id, "Sentiment")["status"] == "overridden"
    # So does a change of the column's prompt.
    api.patch(f"/v1/properties/{prop['id']}", json={"ai": {"instruction": "Judge the tone"}})
    assert cell(api, row_id, "Sentiment")["status"] == "overridden"

    reset = api.delete(f"/v1/rows/{row_id}/cells/{prop['id']}")
    assert reset.status_code == 200
    assert reset.get_json()["status"] == "pending" and reset.get_json()["value"] is None
    again = api.delete(f"/v1/rows/{row_id}/cells/{prop['id']}")  # idempotent
    assert again.status_code == 200 and again.get_json()["status"] == "pending"


def test_override_null_is_a_persons_choice(api: Caller, setup: dict[str, Any]) -> None:
    response = api.put(
        f"/v1/rows/{setup['row']['id']}/cells/{setup['sentiment']['id']}", json={"value": None}
    )
    assert response.get_json()["status"] == "overridden" and response.get_json()["value"] is None


@pytest.mark.parametrize(
    ("output", "value", "fragment"),
    [
        ({"type": "select", "options": ["A", "B"]}, "Maybe", "not one of: A, B"),
        ({"type": "multi_select", "options": ["A", "B"]}, ["A", "C"], "'C' is not one of"),
        ({"type": "number"}, "12", "expected a number"),
        ({"type": "date"}, "soon", "ISO 8601"),
        ({"type": "checkbox"}, "true", "true or false"),
        ({"type": "text"}, 12, "expected a string"),
    ],
)
def test_override_must_fit_the_output_type(
    api: Caller, setup: dict[str, Any], output: dict[str, Any], value: Any, fragment: str
) -> None:
    prop = add_property(
        api,
        setup["db"]["id"],
        {
            "name": "Typed",
            "type": "ai",
            "ai": {"task": "custom", "instruction": "x", "output": output},
        },
    )
    response = api.put(f"/v1/rows/{setup['row']['id']}/cells/{prop['id']}", json={"value": value})
    error = assert_error(response, 422, "validation_error", "value")
    assert fragment in error["fields"]["value"]
    assert cell(api, setup["row"]["id"], "Typed")["status"] == "pending"


def test_override_needs_a_value_field(api: Caller, setup: dict[str, Any]) -> None:
    response = api.put(f"/v1/rows/{setup['row']['id']}/cells/{setup['sentiment']['id']}", json={})
    assert_error(response, 422, "validation_error", "value")


def test_cells_of_non_ai_properties_do_not_exist(api: Caller, setup: dict[str, Any]) -> None:
    name_id = setup["db"]["properties"][0]["id"]
    response = api.put(f"/v1/rows/{setup['row']['id']}/cells/{name_id}", json={"value": "x"})
    assert_error(response, 404, "not_found")


def test_config_change_marks_filled_cells_stale(
    api: Caller, setup: dict[str, Any], store: Any
) -> None:
    from autofill.db.models import Cell

    row_id, prop_id = setup["row"]["id"], setup["sentiment"]["id"]
    with store.transaction() as session:  # a fill's result, written directly (see fill_all)
        filled = session.get(Cell, (row_id, prop_id))
        assert filled is not None
        filled.status, filled.value = "filled", "Positive"
    api.patch(f"/v1/properties/{prop_id}", json={"ai": {"auto_update": False}})
    assert cell(api, row_id, "Sentiment")["status"] == "filled"  # not a prompt change
    api.patch(f"/v1/properties/{prop_id}", json={"ai": {"model": "anthropic:claude-sonnet-5"}})
    stale = cell(api, row_id, "Sentiment")
    assert stale["status"] == "stale" and stale["value"] == "Positive"


def test_auto_update_toggle(api: Caller, setup: dict[str, Any]) -> None:
    row_id, manual = setup["row"]["id"], setup["manual"]["id"]
    api.patch(f"/v1/properties/{manual}", json={"ai": {"auto_update": True}})
    assert cell(api, row_id, "Manual")["status"] == "pending"
    api.patch(f"/v1/properties/{manual}", json={"ai": {"auto_update": False}})
    assert cell(api, row_id, "Manual")["status"] == "empty"


def test_overriding_an_upstream_cell_moves_its_readers(
    api: Caller, setup: dict[str, Any], store: Any
) -> None:
    reader = add_property(
        api,
        setup["db"]["id"],
        {
            "name": "Why",
            "type": "ai",
            "ai": {"task": "custom", "instruction": "Explain {Sentiment}"},
        },
    )
    row_id = setup["row"]["id"]
    fill_all(store, row_id)
    api.put(f"/v1/rows/{row_id}/cells/{setup['sentiment']['id']}", json={"value": "Negative"})
    cells = api.get(f"/v1/rows/{row_id}").get_json()["cells"]
    assert cells["Why"]["status"] == "pending"
    assert cells["Next"]["status"] == "filled"  # does not read Sentiment

    set_status(store, row_id, reader["id"], "filled")  # "Why" refilled on the new value
    api.put(f"/v1/rows/{row_id}/cells/{setup['sentiment']['id']}", json={"value": "negative"})
    assert cell(api, row_id, "Why")["status"] == "filled"  # same value as before: no change
    api.delete(f"/v1/rows/{row_id}/cells/{setup['sentiment']['id']}")
    assert cell(api, row_id, "Why")["status"] == "pending"
    assert reader["ai"]["inputs"] == ["Sentiment"]
