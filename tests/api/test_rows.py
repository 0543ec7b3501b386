from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from autofill.db import Row, Store
from autofill.schemas.rows import MAX_CONTENT_BYTES
from tests.conftest import Caller, assert_error
from tests.helpers import SENTIMENT, add_property, add_row, make_database, prop_id

FULL = {
    "Name": "Kim",
    "Status": "open",  # options match ignoring case; stored canonical
    "Tags": ["Bug", "idea", "bug"],
    "Score": 4.5,
    "Due": "2024-05-01",
    "Paid": True,
    "Link": "https://example.com/a",
    "Notes": "Met at the fair",
}


def test_create_and_get_with_every_type(api: Caller) -> None:
    database = make_database(api)
    row = add_row(api, database["id"], {"properties": FULL, "content": "# Notes\nLong page…"})
    assert row["properties"] == {**FULL, "Status": "Open", "Tags": ["bug", "idea"]}
    assert row["content"] == "# Notes\nLong page…"
    assert row["version"] == 1 and row["cells"] == {}
    assert api.get(f"/v1/rows/{row['id']}").get_json() == row


def test_unset_properties_read_as_null(api: Caller) -> None:
    database = make_database(api)
    row = add_row(api, database["id"], {})
    assert row["properties"] == {p["name"]: None for p in database["properties"]}
    assert row["content"] == ""


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("Status", "Maybe", "not one of: Open, Done"),
        ("Status", 3, "expected one of the options"),
        ("Tags", "bug", "expected a list"),
        ("Tags", ["bug", "nope"], "'nope' is not one of"),
        ("Score", "3", "expected a number"),
        ("Score", True, "expected a number"),
        ("Due", "next tuesday", "ISO 8601"),
        ("Due", "2024-02-30", "ISO 8601"),
        ("Paid", "yes", "true or false"),
        ("Link", "javascript:alert(1)", "URL"),
        ("Link", "http://", "URL"),
        ("Name", ["x"], "expected a string"),
        ("Nope", "x", "no property named 'Nope'"),
    ],
)
def test_value_rejections(api: Caller, name: str, value: Any, fragment: str) -> None:
    database = make_database(api)
    response = api.post(f"/v1/databases/{database['id']}/rows", json={"properties": {name: value}})
    error = assert_error(response, 422, "validation_error", f"properties.{name}")
    assert fragment in error["fields"][f"properties.{name}"]
    assert api.get(f"/v1/databases/{database['id']}/rows").get_json()["items"] == []


def test_every_bad_value_is_reported(api: Caller) -> None:
    database = make_database(api)
    response = api.post(
        f"/v1/databases/{database['id']}/rows",
        json={"properties": {"Score": "x", "Paid": 1, "Status": "Done"}},
    )
    error = assert_error(response, 422, "validation_error")
    assert set(error["fields"]) == {"properties.Score", "properties.Paid"}


def test_ai_values_are_not_written_through_properties(api: Caller) -> None:
    database = make_database(api)
    sentiment = add_property(api, database["id"], SENTIMENT)
    response = api.post(
        f"/v1/databases/{database['id']}/rows", json={"properties": {"Sentiment": "Positive"}}
    )
    error = assert_error(response, 422, "validation_error", "properties.Sentiment")
    assert f"/cells/{sentiment['id']}" in error["fields"]["properties.Sentiment"]


def test_content_size_limit_is_413(api: Caller) -> None:
    database = make_database(api)
    at_limit = "é" * (MAX_CONTENT_BYTES // 2)  # 2 bytes each: exactly the limit
    assert add_row(api, database["id"], {"content": at_limit})["content"] == at_limit
    over = at_limit + "x"
    response = api.post(f"/v1/databases/{database['id']}/rows", json={"content": over})
    error = assert_error(response, 413, "payload_too_large", "content")
    assert str(MAX_CONTENT_BYTES) in error["message"]


def test_patch_merges_clears_and_versions(api: Caller) -> None:
    database = make_database(api)
    row = add_row(api, database["id"], {"properties": {"Name": "Kim", "Score": 1}})
    response = api.patch(
        f"/v1/rows/{row['id']}", json={"properties": {"Score": None, "Paid": False}}
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["properties"]["Name"] == "Kim"
    assert body["properties"]["Score"] is None and body["properties"]["Paid"] is False
    assert body["version"] == 2
    same = api.patch(f"/v1/rows/{row['id']}", json={"properties": {"Name": "Kim"}}).get_json()
    assert same["version"] == 2  # nothing changed, nothing bumped
    bad = api.patch(f"/v1/rows/{row['id']}", json={"properties": {"Score": "x"}, "content": "new"})
    assert_error(bad, 422, "validation_error", "properties.Score")
    assert api.get(f"/v1/rows/{row['id']}").get_json()["content"] == ""  # all or nothing


def test_a_patch_is_stored_as_answered_and_new_content_forgets_the_page_language(
    api: Caller, store: Store
) -> None:
    """The row's write is one statement outside the session's unit of work (services.rows):
    what a later request reads is what the PATCH answered, and only new content clears the
    language kept for the page."""
    database = make_database(api)
    row = add_row(api, database["id"], {"properties": {"Name": "Kim"}, "content": "Bonjour"})
    with store.transaction() as session:
        session.execute(
            update(Row).where(Row.id == row["id"]).values(content_language="fr|Latin|1")
        )

    def stored() -> tuple[str | None, int]:
        with store.transaction() as session:
            found = session.get_one(Row, row["id"])
            return found.content_language, found.version

    renamed = api.patch(f"/v1/rows/{row['id']}", json={"properties": {"Name": "Lee"}}).get_json()
    assert api.get(f"/v1/rows/{row['id']}").get_json() == renamed
    assert renamed["version"] == 2 and renamed["updated_at"] > row["updated_at"]
    assert stored() == ("fr|Latin|1", 2)  # the page did not change: its language stays

    rewritten = api.patch(f"/v1/rows/{row['id']}", json={"content": "Hello"}).get_json()
    assert api.get(f"/v1/rows/{row['id']}").get_json() == rewritten
    assert rewritten["content"] == "Hello" and rewritten["properties"]["Name"] == "Lee"
    assert stored() == (None, 3)


def test_delete_row(api: Caller) -> None:
    database = make_database(api)
    row = add_row(api, database["id"], {})
    assert api.delete(f"/v1/rows/{row['id']}").status_code == 204
    assert_error(api.get(f"/v1/rows/{row['id']}"), 404, "not_found")
    assert_error(api.delete(f"/v1/rows/{row['id']}"), 404, "not_found")


def test_list_paginates_and_filters_by_cell_status(api: Caller) -> None:
    database = make_database(api)
    sentiment = add_property(api, database["id"], SENTIMENT)
    rows = [add_row(api, database["id"], {"properties": {"Name": f"r{i}"}}) for i in range(5)]
    api.put(f"/v1/rows/{rows[3]['id']}/cells/{sentiment['id']}", json={"value": "Neutral"})

    ids, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/v1/databases/{database['id']}/rows", query_string=query).get_json()
        ids += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert ids == [row["id"] for row in rows]

    url = f"/v1/databases/{database['id']}/rows"
    overridden = api.get(url, query_string={"status": "overridden"}).get_json()["items"]
    assert [row["id"] for row in overridden] == [rows[3]["id"]]
    pending = api.get(url, query_string={"status": "pending", "property_id": sentiment["id"]})
    assert len(pending.get_json()["items"]) == 4
    assert_error(
        api.get(url, query_string={"status": "done"}), 422, "validation_error", "query.status"
    )
    assert_error(
        api.get(url, query_string={"status": "pending", "property_id": prop_id(database, "Name")}),
        422,
        "validation_error",
        "property_id",
    )
    assert_error(
        api.get(url, query_string={"property_id": sentiment["id"]}),
        422,
        "validation_error",
        "property_id",
    )


def test_a_rows_requests_see_every_schema_change(api: Caller) -> None:
    """The row's GET and PATCH take the database's properties from the process's schema cache
    (autofill.services.schema_cache): each change of a property, made between two requests
    that warmed it, shows in the next request."""
    database = make_database(api)
    row = add_row(api, database["id"], {"properties": {"Name": "Kim", "Status": "Open"}})
    path = f"/v1/rows/{row['id']}"
    assert api.get(path).get_json()["properties"]["Status"] == "Open"

    status = prop_id(database, "Status")
    renamed = api.patch(f"/v1/properties/{status}", json={"name": "Stage"})
    assert renamed.status_code == 200, renamed.get_json()
    after_rename = api.get(path).get_json()["properties"]
    assert after_rename["Stage"] == "Open" and "Status" not in after_rename

    options = api.patch(f"/v1/properties/{status}", json={"options": ["Open", "Done", "Won"]})
    assert options.status_code == 200, options.get_json()
    patched = api.patch(path, json={"properties": {"Stage": "Won"}})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["properties"]["Stage"] == "Won"

    added = add_property(api, database["id"], {"name": "Owner", "type": "text"})
    patched = api.patch(path, json={"properties": {"Owner": "Ana"}})
    assert patched.status_code == 200, patched.get_json()
    assert api.get(path).get_json()["properties"]["Owner"] == "Ana"

    sentiment = add_property(api, database["id"], SENTIMENT)
    assert "Sentiment" in api.get(path).get_json()["cells"]

    for gone in (added, sentiment):
        assert api.delete(f"/v1/properties/{gone['id']}").status_code == 204
    after_delete = api.get(path).get_json()
    assert "Owner" not in after_delete["properties"] and after_delete["cells"] == {}
    assert_error(
        api.patch(path, json={"properties": {"Owner": "Bo"}}),
        422,
        "validation_error",
        "properties.Owner",
    )
