from __future__ import annotations

from tests.conftest import Caller, assert_error
from tests.helpers import INTERVIEWS, make_database


def test_create_returns_ordered_properties(api: Caller) -> None:
    database = make_database(api)
    assert database["name"] == "Interviews"
    assert [p["name"] for p in database["properties"]] == [
        p["name"] for p in INTERVIEWS["properties"]
    ]
    assert [p["position"] for p in database["properties"]] == list(range(8))
    assert database["properties"][1]["options"] == ["Open", "Done"]
    assert database["id"].startswith("db_")


def test_get_list_paginate(api: Caller) -> None:
    ids = [make_database(api, {"name": f"DB {i}"})["id"] for i in range(5)]
    assert api.get(f"/v1/databases/{ids[2]}").get_json()["name"] == "DB 2"

    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/databases", query_string=query).get_json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


def test_bad_cursor_and_limit(api: Caller) -> None:
    assert_error(api.get("/v1/databases?cursor=nonsense"), 422, "validation_error", "cursor")
    assert_error(api.get("/v1/databases?limit=0"), 422, "validation_error", "query.limit")
    assert_error(api.get("/v1/databases?limit=abc"), 422, "validation_error", "query.limit")


def test_rename_and_reorder(api: Caller) -> None:
    database = make_database(api)
    ids = [p["id"] for p in database["properties"]]
    response = api.patch(
        f"/v1/databases/{database['id']}", json={"name": "Calls", "property_order": ids[::-1]}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Calls"
    assert [p["id"] for p in body["properties"]] == ids[::-1]
    again = api.get(f"/v1/databases/{database['id']}").get_json()
    assert [p["id"] for p in again["properties"]] == ids[::-1]


def test_reorder_must_be_a_permutation(api: Caller) -> None:
    database = make_database(api)
    ids = [p["id"] for p in database["properties"]]
    response = api.patch(f"/v1/databases/{database['id']}", json={"property_order": ids[:-1]})
    assert_error(response, 422, "validation_error", "property_order")


def test_delete_cascades(api: Caller) -> None:
    database = make_database(api)
    row = api.post(f"/v1/databases/{database['id']}/rows", json={"properties": {"Name": "x"}})
    assert api.delete(f"/v1/databases/{database['id']}").status_code == 204
    assert_error(api.get(f"/v1/databases/{database['id']}"), 404, "not_found")
    assert_error(api.get(f"/v1/rows/{row.get_json()['id']}"), 404, "not_found")


def test_create_validation(api: Caller) -> None:
    assert_error(api.post("/v1/databases", json={}), 422, "validation_error", "name")
    assert_error(api.post("/v1/databases", json={"name": "  "}), 422, "validation_error", "name")
    assert_error(
        api.post("/v1/databases", json={"name": "x", "colour": "red"}),
        422,
        "validation_error",
        "colour",
    )
    dup = {
        "name": "x",
        "properties": [{"name": "A", "type": "text"}, {"name": "a", "type": "text"}],
    }
    assert_error(api.post("/v1/databases", json=dup), 409, "conflict", "properties[1].name")
    two_titles = {
        "name": "x",
        "properties": [{"name": "A", "type": "title"}, {"name": "B", "type": "title"}],
    }
    assert_error(
        api.post("/v1/databases", json=two_titles), 422, "validation_error", "properties[1].type"
    )
    bad_type = {"name": "x", "properties": [{"name": "A", "type": "formula"}]}
    assert_error(
        api.post("/v1/databases", json=bad_type), 422, "validation_error", "properties[0].type"
    )
