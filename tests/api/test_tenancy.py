"""A token sees only its own workspace: every resource of another answers 404, as if absent."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from autofill.db.session import Store
from autofill.services.workspaces import revoke_token
from tests.conftest import Caller, assert_error
from tests.helpers import SENTIMENT, add_property, add_row, make_database


@pytest.fixture
def theirs(other_api: Caller) -> dict[str, Any]:
    database = make_database(other_api)
    prop = add_property(other_api, database["id"], SENTIMENT)
    row = add_row(
        other_api, database["id"], {"properties": {"Name": "Secret"}, "content": "secret"}
    )
    run = other_api.post(f"/v1/properties/{prop['id']}/fill", json={"scope": "all"})
    assert run.status_code == 202, run.get_json()
    return {
        "db": database["id"],
        "prop": prop["id"],
        "row": row["id"],
        "title": database["properties"][0]["id"],
        "run": run.get_json()["id"],
    }


def requests(ids: dict[str, Any]) -> list[tuple[str, str, Any]]:
    db, prop, row = ids["db"], ids["prop"], ids["row"]
    return [
        ("get", f"/v1/databases/{db}", None),
        ("patch", f"/v1/databases/{db}", {"name": "pwned"}),
        ("delete", f"/v1/databases/{db}", None),
        ("post", f"/v1/databases/{db}/properties", {"name": "X", "type": "text"}),
        ("patch", f"/v1/properties/{prop}", {"name": "pwned"}),
        ("post", f"/v1/properties/{prop}/preview", {"row_id": row}),
        ("delete", f"/v1/properties/{prop}", None),
        ("post", f"/v1/databases/{db}/rows", {"properties": {}}),
        ("get", f"/v1/databases/{db}/rows", None),
        ("get", f"/v1/rows/{row}", None),
        ("patch", f"/v1/rows/{row}", {"content": "pwned"}),
        ("delete", f"/v1/rows/{row}", None),
        ("put", f"/v1/rows/{row}/cells/{prop}", {"value": "Positive"}),
        ("delete", f"/v1/rows/{row}/cells/{prop}", None),
        ("post", f"/v1/properties/{prop}/fill", {"scope": "all"}),
        ("post", f"/v1/properties/{prop}/fill", {"scope": "all", "dry_run": True}),
        ("post", f"/v1/rows/{row}/cells/{prop}/fill", None),
        ("post", f"/v1/rows/{row}/cells/{prop}/feedback", {"rating": "up", "share": True}),
        ("get", f"/v1/runs/{ids['run']}", None),
        ("delete", f"/v1/runs/{ids['run']}", None),
        ("get", f"/v1/databases/{db}/events?timeout=1", None),
    ]


def _template(path: str, ids: dict[str, Any]) -> str:
    names = {"db": "database_id", "prop": "property_id", "row": "row_id", "run": "run_id"}
    path = path.split("?")[0]
    for key, name in names.items():
        path = path.replace(str(ids[key]), "{" + name + "}")
    return path


def test_every_endpoint_with_an_id_is_in_the_cross_workspace_list(
    api: Caller, theirs: dict[str, Any]
) -> None:
    """The list above is checked against the OpenAPI document: a new endpoint taking an id
    fails here until it is added, so no endpoint escapes the tenancy tests."""
    spec = api.get("/v1/openapi.json").get_json()
    with_ids = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "{" in path and operation.get("security") != []
    }
    covered = {(method, _template(path, theirs)) for method, path, _ in requests(theirs)}
    assert with_ids - covered == set()


def test_every_endpoint_hides_other_workspaces(
    api: Caller, other_api: Caller, theirs: dict[str, Any]
) -> None:
    mine = make_database(api)
    for method, path, body in requests(theirs):
        assert_error(getattr(api, method)(path, json=body), 404, "not_found")
    # Mixing my row with their property, and the reverse, is just as absent.
    my_row = add_row(api, mine["id"], {})
    assert_error(
        api.put(f"/v1/rows/{my_row['id']}/cells/{theirs['prop']}", json={"value": 1}),
        404,
        "not_found",
    )
    # A new AI column of mine cannot read their property by id.
    response = api.post(
        f"/v1/databases/{mine['id']}/properties",
        json={"name": "Spy", "type": "ai", "ai": {"task": "summary", "inputs": [theirs["title"]]}},
    )
    assert_error(response, 422, "validation_error", "ai.inputs[0]")
    # Their listing shows none of mine, and nothing of theirs changed.
    assert [d["id"] for d in api.get("/v1/databases").get_json()["items"]] == [mine["id"]]
    row = other_api.get(f"/v1/rows/{theirs['row']}").get_json()
    assert row["content"] == "secret" and row["cells"]["Sentiment"]["status"] == "pending"
    assert other_api.get(f"/v1/databases/{theirs['db']}").get_json()["name"] == "Interviews"
    assert other_api.get(f"/v1/runs/{theirs['run']}").get_json()["state"] != "cancelled"
    # Nothing was counted on either side: my month shows no fills, theirs only their own run.
    assert api.get("/v1/workspace").get_json()["usage"]["fills"] == 0


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer af_unknown"]
)
def test_missing_or_bad_token_is_401(
    app: Flask, theirs: dict[str, Any], header: str | None
) -> None:
    client = app.test_client()
    headers = {} if header is None else {"Authorization": header}
    for method, path, body in requests(theirs):
        response = getattr(client, method)(path, json=body, headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401(
    app: Flask, store: Store, other_api: Caller, theirs: dict[str, Any]
) -> None:
    from sqlalchemy import select

    from autofill.db.models import ApiToken
    from autofill.services.workspaces import hash_token

    with store.transaction() as session:
        token_id = session.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == hash_token(other_api.token))
        )
        assert token_id is not None
        revoke_token(session, token_id)
    # Revoked for every endpoint, its own workspace's resources included.
    for method, path, body in [*requests(theirs), ("get", "/v1/workspace", None)]:
        error = assert_error(getattr(other_api, method)(path, json=body), 401, "unauthorized")
        assert "revoked" in error["message"]


def test_tokens_are_stored_hashed(store: Store, api: Caller) -> None:
    from sqlalchemy import select

    from autofill.db.models import ApiToken

    with store.transaction() as session:
        stored = session.scalars(select(ApiToken)).all()
    assert stored and all(api.token not in (t.token_hash, t.prefix, t.name) for t in stored)
    assert all(len(t.token_hash) == 64 for t in stored)
