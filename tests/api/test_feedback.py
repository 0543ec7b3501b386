"""POST /v1/rows/{id}/cells/{property_id}/feedback"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from autofill.db.models import Cell, CellFeedback
from autofill.db.session import Store
from autofill.db.types import utcnow
from tests.conftest import Caller, assert_error
from tests.helpers import make_database

SPEC: dict[str, Any] = {
    "name": "Tickets",
    "properties": [
        {"name": "Name", "type": "title"},
        {"name": "Secret", "type": "text"},
        {"name": "Summary", "type": "ai", "ai": {"task": "summary", "inputs": ["content"]}},
    ],
}


def _filled_row(api: Caller, store: Store) -> tuple[str, str]:
    database = make_database(api, SPEC)
    prop_id = next(p["id"] for p in database["properties"] if p["name"] == "Summary")
    row = api.post(
        f"/v1/databases/{database['id']}/rows",
        json={"content": "Login fails for ana@corp.example.", "properties": {"Secret": "s3"}},
    ).get_json()
    with store.transaction() as session:
        cell = session.get_one(Cell, (row["id"], prop_id))
        cell.status, cell.value, cell.model = "filled", "Login fails.", "sim:sim-1"
        cell.prompt_version, cell.filled_at = "summary:abc", utcnow()
    return row["id"], prop_id


def test_shared_feedback_keeps_what_the_model_saw(api: Caller, store: Store) -> None:
    row_id, prop_id = _filled_row(api, store)
    response = api.post(
        f"/v1/rows/{row_id}/cells/{prop_id}/feedback",
        json={"rating": "down", "comment": "Too short.\nMissing the SSO detail.", "share": True},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rating"], body["share"]) == ("down", True)
    with store.transaction() as session:
        stored = session.scalars(select(CellFeedback)).one()
        snapshot = stored.snapshot
    assert snapshot is not None
    assert snapshot["content"] == "Login fails for ana@corp.example."
    assert snapshot["value"] == "Login fails." and snapshot["task"] == "summary"
    assert snapshot["properties"] == {}  # the column does not read Secret: not kept


def test_without_consent_no_page_data_is_kept(api: Caller, store: Store) -> None:
    row_id, prop_id = _filled_row(api, store)
    response = api.post(f"/v1/rows/{row_id}/cells/{prop_id}/feedback", json={"rating": "up"})
    assert response.status_code == 201
    with store.transaction() as session:
        assert session.scalars(select(CellFeedback)).one().snapshot is None


def test_feedback_errors(api: Caller, other_api: Caller, store: Store) -> None:
    row_id, prop_id = _filled_row(api, store)
    path = f"/v1/rows/{row_id}/cells/{prop_id}/feedback"
    assert_error(api.post(path, json={"rating": "meh"}), 422, "validation_error", "rating")
    assert_error(
        api.post(path, json={"rating": "up", "comment": "bell\x07"}),
        422,
        "validation_error",
        "comment",
    )
    assert_error(other_api.post(path, json={"rating": "up"}), 404, "not_found")
    api.put(f"/v1/rows/{row_id}/cells/{prop_id}", json={"value": "Mine."})
    assert_error(api.post(path, json={"rating": "up"}), 409, "conflict", "property_id")


def test_a_null_comment_is_no_comment(api: Caller) -> None:
    # Found by the schemathesis run: a null comment was a 500 (the body is read first).
    response = api.post(
        "/v1/rows/row_nothing/cells/prop_nothing/feedback",
        json={"rating": "up", "comment": None},
    )
    assert_error(response, 404, "not_found")
