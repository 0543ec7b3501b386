"""Provider API keys never reach logs, errors, cell provenance or events, even when the
provider quotes the key back (the simulator's 401 does, in full)."""

from __future__ import annotations

import json
import secrets

import pytest
from sqlalchemy import select

from autofill.db.models import CellEvent
from autofill.kinds import Outcome
from autofill.llm.simulator.server import Simulator
from autofill.redaction import REDACTED
from tests.autofill.fills.conftest import Pipeline
from tests.conftest import Caller, Configure
from tests.helpers import make_database


def test_a_key_quoted_back_by_the_provider_goes_nowhere(
    fill_api: Caller,
    pipeline: Pipeline,
    sim: Simulator,
    configure: Configure,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = f"sk-test-{secrets.token_urlsafe(24)}"
    configure(openai_api_key=key, openai_base_url=sim.openai_base_url)
    spec = {
        "name": "Notes",
        "properties": [
            {"name": "Name", "type": "title"},
            {
                "name": "Summary",
                "type": "ai",
                "ai": {"task": "summary", "model": "openai:gpt-4.1-mini"},
            },
        ],
    }
    database = make_database(fill_api, spec)
    sim.configure(schedule=["401"])
    row = fill_api.post(
        f"/v1/databases/{database['id']}/rows", json={"content": "Hello."}
    ).get_json()
    assert pipeline.drain() == [Outcome.FAILED]

    cell = fill_api.get(f"/v1/rows/{row['id']}").get_json()["cells"]["Summary"]
    assert cell["status"] == "error" and "401" in cell["error"]
    assert REDACTED in cell["error"]  # the provider did quote it; we did not keep it
    with pipeline.store.transaction() as session:
        events = [json.dumps(e.data) for e in session.scalars(select(CellEvent))]
    # And a successful fill's provenance and events, for good measure.
    fill_api.post(f"/v1/rows/{row['id']}/cells/{database['properties'][1]['id']}/fill")
    assert pipeline.drain() == [Outcome.FILLED]
    everything = [
        json.dumps(fill_api.get(f"/v1/rows/{row['id']}").get_json()),
        json.dumps(fill_api.get(f"/v1/databases/{database['id']}/rows").get_json()),
        *events,
        json.dumps(fill_api.get("/v1/workspace").get_json()),
    ]
    captured = capsys.readouterr()
    everything += [captured.out, captured.err]
    assert all(key not in text for text in everything)
    # The simulator saw the key (it had to), and the sent headers it records leave it out.
    assert all(key not in json.dumps(r) for r in sim.requests)
