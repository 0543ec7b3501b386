"""Rows update themselves across real processes: PostgreSQL, Redis, `autofill dispatcher` and
`autofill worker` (Celery), with the LLM simulator as the model. Faults are real too: a worker
is SIGKILLed mid-fill, Redis is killed and restarted while rows are written."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from autofill.db.models import RateLimitEntry
from bench.services import RabbitServer
from tests.worker.conftest import Topology

pytestmark = pytest.mark.timeout(240)

DATABASE: dict[str, Any] = {
    "name": "Support",
    "properties": [
        {"name": "Name", "type": "title"},
        {"name": "Status", "type": "select", "options": ["Open", "Done"]},
        {"name": "Summary", "type": "ai", "ai": {"task": "summary", "inputs": ["content"]}},
    ],
}


def _database(topology: Topology) -> dict[str, Any]:
    response = topology.api.post("/v1/databases", json=DATABASE)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _row(topology: Topology, database_id: str, content: str) -> str:
    response = topology.api.post(f"/v1/databases/{database_id}/rows", json={"content": content})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _summary(topology: Topology, row_id: str) -> dict[str, Any]:
    return topology.api.get(f"/v1/rows/{row_id}").get_json()["cells"]["Summary"]  # type: ignore[no-any-return]


def _filled_with(topology: Topology, row_id: str, value: str) -> bool:
    cell = _summary(topology, row_id)
    return bool(cell["status"] == "filled" and cell["value"] == value)


def _calls_by_content(topology: Topology) -> Counter[str]:
    """Model calls per page content, read from the requests the simulator received."""
    counts: Counter[str] = Counter()
    for request in topology.sim.requests:
        last = request["body"]["messages"][-1]["content"]
        start = last.rfind("<content>")
        counts[last[start + len("<content>") : last.rfind("</content>")].strip()] += 1
    return counts


BROKERS = pytest.mark.parametrize("topology", ["redis", "rabbitmq"], indirect=True)


@BROKERS
def test_edits_fill_cells_once_for_the_latest_content(topology: Topology) -> None:
    topology.dispatcher()
    topology.worker()
    database = _database(topology)
    row = _row(topology, database["id"], "The export times out for big workspaces.")
    topology.wait_for(
        lambda: _filled_with(topology, row, "[sim] The export times out for big workspaces.")
    )
    cell = _summary(topology, row)
    assert cell["provenance"]["model"] == "sim:sim-1"
    assert cell["provenance"]["tokens_in"] > 0
    assert (topology.logs / "dispatcher.alive").exists()  # its health check's heartbeat

    # An edit to a property no AI column reads: no model call.
    calls = len(topology.sim.requests)
    topology.api.patch(f"/v1/rows/{row}", json={"properties": {"Status": "Done"}})
    time.sleep(1.0)
    assert len(topology.sim.requests) == calls

    # Ten rapid saves inside the debounce window: one fill, on the last content.
    topology.api.client.application.extensions["autofill.settings"] = topology.settings.model_copy(
        update={"debounce_s": 1.0}
    )
    for number in range(10):
        topology.api.patch(f"/v1/rows/{row}", json={"content": f"Save number {number}."})
    topology.wait_for(lambda: _filled_with(topology, row, "[sim] Save number 9."))
    time.sleep(1.0)
    assert len(topology.sim.requests) == calls + 1

    # Edited while its fill is in flight: the cell ends with the latest content's value.
    topology.api.client.application.extensions["autofill.settings"] = topology.settings
    topology.sim.configure(latency_ms=1500)
    topology.api.patch(f"/v1/rows/{row}", json={"content": "Before the edit."})
    topology.wait_for(lambda: len(topology.sim.requests) == calls + 2)
    topology.api.patch(f"/v1/rows/{row}", json={"content": "After the edit."})
    topology.wait_for(lambda: _filled_with(topology, row, "[sim] After the edit."))
    time.sleep(2.0)  # the superseded answer arrives and must not overwrite it
    assert _summary(topology, row)["value"] == "[sim] After the edit."


@BROKERS
def test_a_worker_killed_mid_fill_is_recovered(topology: Topology) -> None:
    topology.dispatcher()
    doomed = topology.worker()
    database = _database(topology)
    topology.sim.configure(latency_ms=3000)
    row = _row(topology, database["id"], "Filled across a crash.")
    topology.wait_for(lambda: topology.sim.requests)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    topology.sim.configure(latency_ms=0)
    topology.worker()
    topology.wait_for(lambda: _filled_with(topology, row, "[sim] Filled across a crash."))
    # The killed call, then the one that completed.
    assert _calls_by_content(topology)["Filled across a crash."] == 2


@BROKERS
def test_the_broker_killed_and_restarted_during_writes(topology: Topology) -> None:
    topology.dispatcher()
    topology.worker()
    database = _database(topology)
    if isinstance(topology.broker, RabbitServer):
        # The queues exist, on disk, before the broker dies, as on a running system: a quorum
        # queue declared a moment before its single node is SIGKILLed came back without a
        # leader for over a minute here (RabbitMQ 3.10), nacking every publish.
        warm = _row(topology, database["id"], "Warming up.")
        topology.wait_for(lambda: _filled_with(topology, warm, "[sim] Warming up."))
        time.sleep(3)
    topology.sim.configure(latency_ms=200)
    contents = [f"Ticket {number} about billing." for number in range(40)]
    rows = []
    for number, content in enumerate(contents):
        if number == 15:
            # SIGKILL: Redis loses its queue; RabbitMQ keeps what it confirmed
            topology.broker.stop()
        if number == 30:
            topology.broker.start()
        rows.append(_row(topology, database["id"], content))
        time.sleep(0.1)

    def all_filled() -> bool:
        # One request per look (the rows fit a page), not one per row: the API's rate limit.
        page = topology.api.get(f"/v1/databases/{database['id']}/rows?limit=100").get_json()
        cells = {row["id"]: row["cells"]["Summary"] for row in page["items"]}
        return all(
            cells[row]["status"] == "filled" and cells[row]["value"] == f"[sim] {content}"
            for row, content in zip(rows, contents, strict=True)
        )

    topology.wait_for(all_filled, timeout=120)
    calls = _calls_by_content(topology)
    calls.pop("Warming up.", None)
    assert set(calls) == set(contents)
    assert max(calls.values()) == 1, [c for c, n in calls.items() if n > 1]


@pytest.mark.parametrize("topology", ["rabbitmq"], indirect=True)
def test_rabbitmq_without_redis_quorum_queues_and_limits_in_postgresql(topology: Topology) -> None:
    topology.dispatcher()
    topology.worker()
    database = _database(topology)
    row = _row(topology, database["id"], "Declared by the first publish.")
    topology.wait_for(lambda: _filled_with(topology, row, "[sim] Declared by the first publish."))
    assert isinstance(topology.broker, RabbitServer)
    listing = topology.broker.ctl(
        "list_queues", "name", "type", "arguments", "--formatter", "json", "--quiet"
    )
    queues = {queue["name"]: queue for queue in json.loads(listing)}
    for name in ("fills.interactive", "fills.bulk"):
        assert queues[name]["type"] == "quorum", queues[name]
        arguments = {argument[0]: argument[2] for argument in queues[name]["arguments"]}
        assert arguments["x-delivery-limit"] == topology.settings.broker_delivery_limit
    # No Redis anywhere: the workers counted their calls against the rate limit in PostgreSQL.
    assert "AUTOFILL_REDIS_URL" not in topology.env
    with topology.store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RateLimitEntry))


def test_bulk_run_streams_every_change(topology: Topology) -> None:
    topology.dispatcher()
    topology.worker()
    manual = {
        **DATABASE,
        "properties": [
            *DATABASE["properties"][:2],
            {
                "name": "Summary",
                "type": "ai",
                "ai": {"task": "summary", "inputs": ["content"], "auto_update": False},
            },
        ],
    }
    database = topology.api.post("/v1/databases", json=manual).get_json()
    rows = [_row(topology, database["id"], f"Page {n}.") for n in range(30)]
    prop_id = next(p["id"] for p in database["properties"] if p["name"] == "Summary")
    run = topology.api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "all"}).get_json()
    topology.wait_for(
        lambda: topology.api.get(f"/v1/runs/{run['id']}").get_json()["state"] == "done"
    )
    final = topology.api.get(f"/v1/runs/{run['id']}").get_json()
    assert (final["done"], final["failed"], final["model_calls"]) == (30, 0, 30)

    # Read the stream in two pieces, as a client that disconnected midway would.
    first = _stream(topology, database["id"], after=0, limit=45)
    rest = _stream(topology, database["id"], last_event_id=first[-1]["id"])
    events = first + rest
    # Each of the 30 cells: created empty, pending in the run, filled.
    assert Counter(e["status"] for e in events) == {"empty": 30, "pending": 30, "filled": 30}
    assert [e["id"] for e in events] == sorted({e["id"] for e in events})
    filled = {e["row_id"] for e in events if e["status"] == "filled"}
    assert filled == set(rows)


def _stream(
    topology: Topology,
    database_id: str,
    *,
    after: int | None = None,
    last_event_id: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    query = "timeout=1" + (f"&after={after}" if after is not None else "")
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    response = topology.api.get(
        f"/v1/databases/{database_id}/events?{query}", headers=headers, buffered=False
    )
    events: list[dict[str, Any]] = []
    buffer = ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
            if data:
                events.append(json.loads(data[0]))
            if limit is not None and len(events) >= limit:
                response.close()
                return events
    return events


def test_overrides_survive_refills_and_budgets_stop_and_resume_fills(topology: Topology) -> None:
    topology.dispatcher()
    topology.worker()
    database = _database(topology)
    prop_id = next(p["id"] for p in database["properties"] if p["name"] == "Summary")
    kept = _row(topology, database["id"], "A person will write this one.")
    topology.wait_for(lambda: _summary(topology, kept)["status"] == "filled")
    topology.api.put(f"/v1/rows/{kept}/cells/{prop_id}", json={"value": "Written by hand."})

    run = topology.api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "all"}).get_json()
    assert run["total"] == 0  # the only cell is the person's
    topology.api.patch(f"/v1/rows/{kept}", json={"content": "Changed under the override."})
    time.sleep(1.0)
    assert _summary(topology, kept)["value"] == "Written by hand."

    usage = topology.api.get("/v1/workspace").get_json()["usage"]
    spent = usage["tokens_in"] + usage["tokens_out"]
    topology.api.patch("/v1/workspace", json={"budget_tokens": spent})
    parked = [_row(topology, database["id"], f"Over budget {n}.") for n in range(3)]
    topology.wait_for(
        lambda: all(_summary(topology, r)["error_code"] == "budget_exhausted" for r in parked)
    )
    calls = len(topology.sim.requests)
    topology.api.patch("/v1/workspace", json={"budget_tokens": None})
    topology.wait_for(
        lambda: all(
            _filled_with(topology, r, f"[sim] Over budget {n}.") for n, r in enumerate(parked)
        )
    )
    assert len(topology.sim.requests) == calls + 3


def test_one_worker_process_can_run_the_dispatcher_too(topology: Topology) -> None:
    topology.worker(8, "--with-dispatcher")
    database = _database(topology)
    row = _row(topology, database["id"], "One process does it all.")
    topology.wait_for(lambda: _filled_with(topology, row, "[sim] One process does it all."))


def test_forked_worker_processes_fill_and_stop_together(topology: Topology) -> None:
    """`autofill worker --processes 2`: both workers come up under their own node names, the
    dispatcher runs in the first, rows fill, a killed worker is replaced, and a SIGTERM to
    the parent stops them all warmly."""
    parent = topology.spawn(
        "worker", "--processes", "2", "--concurrency", "8", "--with-dispatcher", "-n", "w@localhost"
    )
    log = topology.logs / "worker-0.log"
    topology.wait_for(lambda: log.read_text(errors="replace").count("ready.") >= 2)
    text = log.read_text(errors="replace")
    assert "w-0@localhost" in text and "w-1@localhost" in text
    database = _database(topology)
    rows = [_row(topology, database["id"], f"Forked worker page {n}.") for n in range(6)]
    topology.wait_for(
        lambda: all(
            _filled_with(topology, row, f"[sim] Forked worker page {n}.")
            for n, row in enumerate(rows)
        )
    )

    # Once its workers run, the parent is the lean supervisor (worker.supervisor): the same
    # pid, without the interpreter it loaded for them (~200 MiB, 40 of it its own pages).
    topology.wait_for(lambda: "worker.supervisor" in _cmdline(parent.pid))
    assert _anonymous_mib(parent.pid) < 20

    workers = _children(parent.pid)
    assert len(workers) == 2
    os.kill(workers[1], signal.SIGKILL)
    topology.wait_for(
        lambda: len(_children(parent.pid)) == 2 and workers[1] not in _children(parent.pid)
    )
    topology.wait_for(lambda: log.read_text(errors="replace").count("ready.") >= 3)
    row = _row(topology, database["id"], "After a worker was replaced.")
    topology.wait_for(lambda: _filled_with(topology, row, "[sim] After a worker was replaced."))

    left = _children(parent.pid)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(30) == 0
    assert not [pid for pid in left if Path(f"/proc/{pid}").exists()]


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def _anonymous_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("RssAnon:")[1].split()[0]) / 1024


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)
