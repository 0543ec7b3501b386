"""`autofill fill` against the API served by gunicorn on loopback (embedded worker, batcher)."""

from __future__ import annotations

from autofill.db.session import Store
from autofill.llm.simulator.server import Simulator
from autofill.services.workspaces import create_workspace
from tests.api.test_gunicorn_smoke import call, server  # noqa: F401 (fixture)
from tests.cli.conftest import Run

MANUAL = {
    "name": "Backlog",
    "properties": [
        {"name": "Name", "type": "title"},
        {
            "name": "Summary",
            "type": "ai",
            "ai": {"task": "summary", "inputs": ["content"], "auto_update": False},
        },
    ],
}


def test_fill_estimates_both_modes_then_runs_an_economy_fill_to_its_end(
    server: str,  # noqa: F811
    store: Store,
    simulator_server: Simulator,
    run: Run,
) -> None:
    simulator_server.configure(batch_delay_s=0.2, batch_schedule=[], batch_error_rates={})
    with store.transaction() as session:
        _, token = create_workspace(session, "Fill")
    _, database = call(server, "POST", "/v1/databases", token, MANUAL)
    prop_id = database["properties"][1]["id"]
    for n in range(8):
        call(
            server, "POST", f"/v1/databases/{database['id']}/rows", token, {"content": f"Page {n}"}
        )
    where = ("--url", server, "--token", token)

    dry = run("fill", prop_id, "--dry-run", *where)
    assert dry.returncode == 0, dry.stderr
    assert "8 cells" in dry.stdout and "economy (50 % off" in dry.stdout and "now" in dry.stdout

    batches_before = len(simulator_server.state.book.listed("openai"))
    done = run("fill", prop_id, "--mode", "economy", "--wait", *where)
    assert done.returncode == 0, done.stderr
    assert "(economy): 8 cells" in done.stdout
    assert "Done: 8 filled, 0 failed" in done.stdout, done.stdout
    assert len(simulator_server.state.book.listed("openai")) == batches_before + 1

    again = run("fill", prop_id, "--mode", "cheap", *where)
    assert again.returncode == 2 and "'cheap' is not one of" in again.stderr
    missing = run("fill", "prop_missing", *where)
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr
