"""Every endpoint, fuzzed from its own OpenAPI document with a valid token (schemathesis):
no 5xx, and every response matches the documented schema (status, headers, body)."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok

from api.app import create_app
from autofill.config import Settings
from autofill.db.migrate import upgrade
from autofill.services.store import open_store
from autofill.services.workspaces import create_workspace
from tests.helpers import INTERVIEWS, SENTIMENT

TOKEN: dict[str, str] = {}
# What the guarantee is: no 5xx, and statuses, media types, headers and bodies as documented.
# (Not "every schema-valid body is accepted": rules across fields, such as a select needing
# options, answer 422 with the field named, and no JSON Schema in the document can say them.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    directory: Path = tmp_path_factory.mktemp("schemathesis")
    store = open_store(f"sqlite:///{directory / 'autofill.db'}")
    upgrade(store)
    with store.transaction() as session:
        _, TOKEN["value"] = create_workspace(session, "Fuzz")
    # No request limit: the fuzzer sends thousands of requests with one token.
    configured = Settings(data_dir=directory, redis_url=None, api_rate_limit="")
    yield create_app({"TESTING": True, "STORE": store, "SETTINGS": configured, "MIGRATE": False})
    store.dispose()


def test_no_5xx_and_every_answer_as_documented(fuzzed_app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", fuzzed_app)
    headers = {"Authorization": f"Bearer {TOKEN['value']}"}
    failures: dict[str, str] = {}
    operations = 0
    statuses: Counter[int] = Counter()
    for found in schema.get_all_operations():
        assert isinstance(found, Ok), found  # the document itself is valid
        operation = found.ok()
        operations += 1
        # Fresh resources for each operation (one may delete them): half the generated cases
        # get real ids, so the fuzzer reaches past the 404s into the handlers.
        fuzz = _fuzzer(operation, _resources(fuzzed_app, headers), headers, statuses)
        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # every operation fuzzed, all reported
            failures[operation.label] = str(exc)[:4000]
    assert operations >= 24  # the whole API, not a part of it
    assert failures == {}
    # It reached the handlers: successes and refusals of many kinds, not only 404s.
    assert sum(statuses.values()) >= 24 * 20
    assert {200, 201, 202, 204, 404, 422} <= set(statuses), statuses


def _fuzzer(
    operation: Any, real: dict[str, str], headers: dict[str, str], statuses: Counter[int]
) -> Callable[[], None]:
    turn = itertools.cycle([True, False])

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def fuzz(case: Any) -> None:
        if case.path.endswith("/events"):
            # A stream: bounded, or the fuzzer would wait on it for ever.
            case.query = {**(case.query or {}), "timeout": 1}
        if case.path_parameters and turn.__next__():
            case.path_parameters = {
                name: real.get(name, value) for name, value in case.path_parameters.items()
            }
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[response.status_code] += 1

    return fuzz


def _resources(app: Flask, headers: dict[str, str]) -> dict[str, str]:
    client = app.test_client()
    database = client.post("/v1/databases", headers=headers, json=INTERVIEWS).get_json()
    prop = client.post(
        f"/v1/databases/{database['id']}/properties", headers=headers, json=SENTIMENT
    ).get_json()
    row = client.post(
        f"/v1/databases/{database['id']}/rows",
        headers=headers,
        json={"properties": {"Name": "Fuzz"}, "content": "Fuzzed page."},
    ).get_json()
    run = client.post(
        f"/v1/properties/{prop['id']}/fill", headers=headers, json={"scope": "all"}
    ).get_json()
    return {
        "database_id": database["id"],
        "property_id": prop["id"],
        "row_id": row["id"],
        "run_id": run["id"],
    }
