"""The web page's server side: sign-in, the session cookie, CSRF, pages, and the API called
with the cookie."""

from __future__ import annotations

import json
import re

from flask import Flask
from flask.testing import FlaskClient

from autofill.config import Settings
from evals.reports import runs_dir
from tests.conftest import Caller, assert_error
from tests.helpers import SENTIMENT, add_row, make_database


def _csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def _signed_in(app: Flask, api: Caller) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = _csrf(client)
    response = client.post("/login", data={"token": api.token, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/databases")
    return client, _csrf(client, "/databases")


def test_sign_in_sets_a_safe_session_cookie(app: Flask, api: Caller) -> None:
    client = app.test_client()
    token = _csrf(client)
    response = client.post("/login", data={"token": api.token, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert api.token not in cookie  # signed, and the token is not readable in it as text


def test_a_bad_token_or_a_missing_csrf_token_is_refused(app: Flask, api: Caller) -> None:
    client = app.test_client()
    token = _csrf(client)
    wrong = client.post("/login", data={"token": "af_nope", "csrf_token": token})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.get_data(as_text=True)
    forged = client.post("/login", data={"token": api.token})
    assert forged.status_code == 400
    assert client.get("/databases").status_code == 302  # still signed out


def test_pages_list_databases_and_show_a_table(app: Flask, api: Caller) -> None:
    database = make_database(api)
    api.post(f"/v1/databases/{database['id']}/properties", json=SENTIMENT)
    client, _ = _signed_in(app, api)
    listing = client.get("/databases").get_data(as_text=True)
    assert "Interviews" in listing and f"/databases/{database['id']}" in listing
    page = client.get(f"/databases/{database['id']}").get_data(as_text=True)
    assert 'data-type="ai"' in page and "Sentiment" in page
    assert 'name="viewport"' in page
    assert client.get("/databases/db_nope").status_code == 404


def test_the_api_takes_the_cookie_and_wants_csrf_for_changes(
    app: Flask, api: Caller, other_api: Caller
) -> None:
    database = make_database(api)
    client, csrf = _signed_in(app, api)
    assert client.get(f"/v1/databases/{database['id']}").status_code == 200
    rows = f"/v1/databases/{database['id']}/rows"
    assert_error(client.post(rows, json={"content": "x"}), 403, "forbidden")
    created = client.post(rows, json={"content": "x"}, headers={"X-CSRFToken": csrf})
    assert created.status_code == 201
    other = make_database(other_api)
    assert client.get(f"/v1/databases/{other['id']}").status_code == 404


def test_sign_out_ends_the_session(app: Flask, api: Caller) -> None:
    client, csrf = _signed_in(app, api)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/databases").status_code == 302
    assert_error(client.get("/v1/databases"), 401, "unauthorized")


def _form(csrf: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "csrf_token": csrf,
        "name": "Summary",
        "task": "summary",
        "inputs": ["content"],
        "output_type": "text",
        "auto_update": "on",
        "action": "save",
    }
    return {**base, **fields}


def test_the_column_form_adds_an_ai_column_like_the_api(app: Flask, api: Caller) -> None:
    database = make_database(api)
    client, csrf = _signed_in(app, api)
    path = f"/databases/{database['id']}/columns/new"
    assert 'name="task"' in client.get(path).get_data(as_text=True)
    saved = client.post(path, data=_form(csrf, name="Short summary", model="sim:sim-1"))
    assert saved.status_code == 302 and saved.headers["Location"].endswith(database["id"])
    props = api.get(f"/v1/databases/{database['id']}").get_json()["properties"]
    column = next(p for p in props if p["name"] == "Short summary")
    assert column["ai"]["task"] == "summary" and column["ai"]["model"] == "sim:sim-1"
    assert column["ai"]["inputs"] == ["content"] and column["ai"]["auto_update"] is True
    assert "saved" in client.get(f"/databases/{database['id']}").get_data(as_text=True)


def test_the_column_form_shows_the_api_errors_beside_their_fields(app: Flask, api: Caller) -> None:
    database = make_database(api)
    client, csrf = _signed_in(app, api)
    path = f"/databases/{database['id']}/columns/new"
    before = api.get(f"/v1/databases/{database['id']}").get_json()["properties"]
    cases = [
        (_form(csrf, task="key_info", instruction=""), "instruction", "needs an instruction"),
        (_form(csrf, task="translate", target_language="not a tag"), "target_language", "BCP 47"),
        (
            _form(csrf, task="classify", output_type="select", options=""),
            "options",
            "needs options",
        ),
        (_form(csrf, name="Name"), "name", "already exists"),
        (_form(csrf, model="gpt-4"), "model", "not a model reference"),
        (_form(csrf, max_input_tokens="12"), "max_input_tokens", "greater than or equal"),
        (_form(csrf, inputs=["Nope"]), "inputs", "no property named"),
        (_form(csrf, task="custom", instruction="Use {Missing}"), "instruction", "Missing"),
    ]
    for data, field, message in cases:
        response = client.post(path, data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (field, page[:300])
        found = re.search(rf'<p id="{field}-error" class="error field-error">([^<]*)</p>', page)
        assert found and message in found.group(1).replace("&#39;", "'"), (field, page[-3000:])
        # The control (or its group) points at its message, for screen readers.
        assert re.search(rf'aria-describedby="[^"]*\b{field}-error"', page), field
    # Nothing was written by any of them.
    assert api.get(f"/v1/databases/{database['id']}").get_json()["properties"] == before


def test_the_column_form_previews_the_exact_prompt_without_saving(app: Flask, api: Caller) -> None:
    database = make_database(api)
    row = add_row(
        api, database["id"], {"properties": {"Name": "Ada"}, "content": "Bonjour à tous."}
    )
    client, csrf = _signed_in(app, api)
    path = f"/databases/{database['id']}/columns/new"
    assert "Ada" in client.get(path).get_data(as_text=True)  # rows to choose from
    unchosen = client.post(path, data=_form(csrf, action="preview"))
    assert unchosen.status_code == 200 and 'id="row_id-error"' in unchosen.get_data(as_text=True)
    shown = client.post(path, data=_form(csrf, action="preview", row_id=row["id"]))
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'id="preview"' in page
    assert "Bonjour à tous." in page and "input tokens" in page
    # The same numbers the API's preview gives once the column exists.
    assert client.post(path, data=_form(csrf)).status_code == 302
    props = api.get(f"/v1/databases/{database['id']}").get_json()["properties"]
    column = next(p for p in props if p["name"] == "Summary")
    api_preview = api.post(f"/v1/properties/{column['id']}/preview", json={"row_id": row["id"]})
    tokens = api_preview.get_json()["input_tokens"]
    assert f"<strong>{tokens:,} input tokens</strong>" in page


def test_the_column_form_edits_a_column(app: Flask, api: Caller) -> None:
    database = make_database(api)
    api.post(f"/v1/databases/{database['id']}/properties", json=SENTIMENT)
    column = api.get(f"/v1/databases/{database['id']}").get_json()["properties"][-1]
    client, csrf = _signed_in(app, api)
    path = f"/databases/{database['id']}/columns/{column['id']}"
    page = client.get(path).get_data(as_text=True)
    assert "Positive\nNeutral\nNegative" in page and 'value="classify" selected' in page
    data = _form(
        csrf,
        name="Mood",
        task="classify",
        output_type="multi_select",
        options="Happy\nSad",
        instruction="",
    )
    assert client.post(path, data=data).status_code == 302
    props = api.get(f"/v1/databases/{database['id']}").get_json()["properties"]
    mood = next(p for p in props if p["id"] == column["id"])
    assert mood["name"] == "Mood" and mood["ai"]["output"] == {
        "type": "multi_select",
        "options": ["Happy", "Sad"],
        "allow_none": False,
    }
    other = make_database(api, {"name": "Other", "properties": []})
    assert client.get(f"/databases/{other['id']}/columns/{column['id']}").status_code == 404


def test_eval_reports_are_for_operators_only(app: Flask, api: Caller, settings: Settings) -> None:
    client, _ = _signed_in(app, api)
    assert client.get("/evals").status_code == 404  # server-wide: not every workspace's
    assert "Eval reports" not in client.get("/databases").get_data(as_text=True)
    workspace = api.get("/v1/workspace").get_json()["id"]
    app.extensions["autofill.settings"] = settings.model_copy(
        update={"operator_workspaces": f"ws_other, {workspace}"}
    )
    assert "Eval reports" in client.get("/databases").get_data(as_text=True)
    assert client.get("/evals").status_code == 200


def test_the_eval_report_page_shows_the_latest_run(
    app: Flask, api: Caller, settings: Settings
) -> None:
    client, _ = _signed_in(app, api)
    workspace = api.get("/v1/workspace").get_json()["id"]
    app.extensions["autofill.settings"] = settings.model_copy(
        update={"operator_workspaces": workspace}
    )
    empty = client.get("/evals").get_data(as_text=True)
    assert "No eval run here yet" in empty
    runs = runs_dir(settings.data_dir)
    runs.mkdir(parents=True)
    for run_id, passed in (("20261101T000000Z", 1), ("20261102T000000Z", 2)):
        header = {
            "run_id": run_id,
            "model": "sim:sim-1",
            "judge_model": None,
            "simulated": True,
            "started_at": "2026-11-02T00:00:00+00:00",
            "prompts": {"summary": "abc"},
            "cases": 2,
            "passed": passed,
            "tokens_in": 10,
            "tokens_out": 5,
            "cost_usd": 0.0,
            "cache_hits": 0,
            "samples": 2,
        }
        case = {
            "id": "summary-ko",
            "task": "summary",
            "answer_language": "ko",
            "severity": "block",
            "passed": False,
            "samples": [
                {
                    "text": "영어 답",
                    "error": None,
                    "checks": [
                        {
                            "check": "language",
                            "passed": False,
                            "reason": "answer is in en, expected ko",
                        }
                    ],
                }
            ],
        }
        lines = [json.dumps({"run": header}), json.dumps(case, ensure_ascii=False)]
        (runs / f"{run_id}-sim_sim-1.jsonl").write_text("\n".join(lines), encoding="utf-8")
    (runs / "broken.jsonl").write_text("not json", encoding="utf-8")
    page = client.get("/evals").get_data(as_text=True)
    assert "Run 20261102T000000Z (latest)" in page and "2/2" in page
    assert "Simulated" in page and "answer is in en, expected ko" in page and "영어 답" in page
    older = client.get("/evals/20261101T000000Z-sim_sim-1").get_data(as_text=True)
    assert "1/2" in older
    assert client.get("/evals/..%2Fsecret_key").status_code == 404
    assert client.get("/evals/nope").status_code == 404
