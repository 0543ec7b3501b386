"""Bad requests get a 4xx with the JSON envelope, never a 500, and nothing is written."""

from __future__ import annotations

import json

from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import Caller, assert_error
from tests.helpers import make_database


def raw(
    api: Caller,
    path: str,
    data: bytes,
    content_type: str = "application/json",
    method: str = "post",
) -> TestResponse:
    response: TestResponse = getattr(api.client, method)(
        path, data=data, headers={**api.headers, "Content-Type": content_type}
    )
    return response


def test_body_over_the_limit_is_413_before_parsing(api: Caller, app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"name": "' + b"x" * limit + b'"}'
    error = assert_error(raw(api, "/v1/databases", body), 413, "request_entity_too_large")
    assert str(limit) in error["message"]


def test_wrong_media_type_is_415(api: Caller) -> None:
    assert_error(
        raw(api, "/v1/databases", b'{"name": "x"}', "text/plain"), 415, "unsupported_media_type"
    )
    assert_error(
        api.client.post("/v1/databases", data={"name": "x"}, headers=api.headers),
        415,
        "unsupported_media_type",
    )


def test_malformed_bodies_are_400(api: Caller) -> None:
    for body, fragment in [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b'["a list"]', "JSON object"),
        (b'{"name": "\xff\xfe"}', "UTF-8"),
        (b'{"name": NaN}', "NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "nest"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "nests deeper"),
    ]:
        error = assert_error(raw(api, "/v1/databases", body), 400, "bad_request")
        assert fragment in error["message"], (body[:20], error)


def test_unstorable_strings_are_422(api: Caller) -> None:
    error = assert_error(
        raw(api, "/v1/databases", b'{"name": "a\\u0000b"}'), 422, "validation_error", "name"
    )
    assert "NUL" in error["fields"]["name"]
    assert_error(raw(api, "/v1/databases", b'{"name": "\\ud800"}'), 422, "validation_error", "name")
    database = make_database(api)
    body = json.dumps({"properties": {"Name": "x"}, "content": "ok\u0000"}).encode()
    assert_error(
        raw(api, f"/v1/databases/{database['id']}/rows", body), 422, "validation_error", "content"
    )
    assert api.get(f"/v1/databases/{database['id']}/rows").get_json()["items"] == []


def test_emoji_combining_marks_and_cjk_names_work(api: Caller) -> None:
    spec = {
        "name": "会議メモ 📝",
        "properties": [
            {
                "name": "Statut ✅",
                "type": "select",
                "options": ["Résolu", "e\u0301te\u0301", "🔥 urgent"],
            },
        ],
    }
    database = make_database(api, spec)
    assert database["name"] == "会議メモ 📝"
    # Combining marks are NFC-normalised, so "été" typed either way is the same option.
    assert database["properties"][0]["options"][1] == "été"
    response = api.post(
        f"/v1/databases/{database['id']}/rows",
        json={"properties": {"Statut ✅": "e\u0301te\u0301"}},
    )
    assert response.status_code == 201 and response.get_json()["properties"]["Statut ✅"] == "été"


def test_too_many_options_is_422(api: Caller) -> None:
    spec = {
        "name": "x",
        "properties": [{"name": "S", "type": "select", "options": [str(i) for i in range(10_000)]}],
    }
    error = assert_error(
        api.post("/v1/databases", json=spec), 422, "validation_error", "properties[0].options"
    )
    assert "at most 500" in error["fields"]["properties[0].options"]


def test_unknown_route_and_method(api: Caller) -> None:
    assert_error(api.get("/v1/nothing-here"), 404, "not_found")
    response = api.client.put("/v1/databases", headers=api.headers)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_unknown_query_parameter_is_422(api: Caller) -> None:
    assert_error(api.get("/v1/databases?colour=red"), 422, "validation_error", "query.colour")


def test_an_events_position_past_64_bits_is_refused_not_a_500(api: Caller) -> None:
    """Found by the fuzzer: SQLite cannot hold the number ("Python int too large")."""
    database = make_database(api)
    huge = 2**63
    response = api.get(f"/v1/databases/{database['id']}/events?after={huge}&timeout=1")
    assert_error(response, 422, "validation_error", "query.after")
    response = api.get(
        f"/v1/databases/{database['id']}/events?timeout=1", headers={"Last-Event-ID": str(huge)}
    )
    assert_error(response, 422, "validation_error", "Last-Event-ID")
