"""2,000 fills through faults, on real processes: a PostgreSQL server of the test's own, a broker
of its own — Redis, and again RabbitMQ (quorum queues) — `autofill dispatcher` and two
`autofill worker` processes, the simulator.

While the cells fill: workers are SIGKILLed (three times, each replaced), the broker is killed
for 30 s (Redis loses its queue; RabbitMQ keeps what it had confirmed) while rows are edited,
PostgreSQL is restarted, and 30 % of the model calls fail (429, 500, 529, slow past the call
timeout, dropped connections, truncated bodies). Afterwards, each cell is either filled for
its row's latest content or in `error` with a message; none was lost; none was filled twice
from the same content; none holds a value computed from older content.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from autofill.db.models import Cell, CellEvent, OutboxEntry, Property, Row
from autofill.fills import changes
from autofill.llm.simulator.server import Simulator
from autofill.schemas import DatabaseCreate, RowCreate
from autofill.services import databases as database_service
from autofill.services import rows as row_service
from autofill.services.lookup import get_database
from bench.backfill import COLUMNS
from bench.services import PostgresServer, private_postgres
from tests.conftest import unavailable
from tests.worker.conftest import Topology, running_topology

pytestmark = pytest.mark.timeout(600)

ROWS = 1000
# The backfill benchmark's columns: a summary and a sentiment classification.
OPTIONS = COLUMNS[1]["ai"]["output"]["options"]
FAULTS = {"429": 0.08, "500": 0.06, "529": 0.05, "timeout": 0.03, "drop": 0.05, "truncated": 0.03}


def _page(number: int, version: int) -> str:
    if version == 0:
        return f"Ticket {number} says the export to PDF fails on page {number}."
    return f"Ticket {number}, revision {version}: the invoice was charged twice."


@pytest.fixture(params=["redis", "rabbitmq"])
def faulty(
    request: pytest.FixtureRequest, tmp_path: Path, simulator_server: Simulator
) -> Iterator[tuple[Topology, PostgresServer]]:
    env = {
        "AUTOFILL_FILL_TIMEOUT_S": "30",
        "AUTOFILL_CALL_TIMEOUT_S": "3",  # the simulator's slow answers (5 s) time out
        "AUTOFILL_FILL_LEASE_MARGIN_S": "2",
        "AUTOFILL_REDISPATCH_AFTER_S": "10",
    }
    with ExitStack() as stack:
        try:
            server = stack.enter_context(private_postgres())
        except (OSError, subprocess.CalledProcessError) as exc:
            unavailable("a PostgreSQL server of the test's own (initdb, pg_ctl)", exc)
        topology = stack.enter_context(
            running_topology(server.url, tmp_path, simulator_server, broker=request.param, **env)
        )
        yield topology, server


def _load(topology: Topology) -> tuple[str, list[str]]:
    """The rows, written through the domain services (as fast as a bulk import)."""
    with topology.store.transaction() as session:
        spec = {"name": "Tickets", "properties": [{"name": "Name", "type": "title"}]}
        database = database_service.create_database(
            session,
            topology.api.workspace_id,
            DatabaseCreate.model_validate(spec),
            default_model="sim:sim-1",
        )
        database_id = database.id
    with topology.store.transaction() as session:
        database = get_database(session, topology.api.workspace_id, database_id)
        rows = [
            row_service.create_row(
                session,
                database,
                RowCreate(properties={"Name": f"Ticket {n}"}, content=_page(n, 0)),
            ).id
            for n in range(ROWS)
        ]
    return database_id, rows


def _edit(topology: Topology, row_id: str, content: str) -> None:
    response = topology.api.patch(f"/v1/rows/{row_id}", json={"content": content})
    assert response.status_code == 200, response.get_json()


def _quiet(topology: Topology) -> bool:
    with topology.store.transaction() as session:
        due = session.scalar(select(func.count()).select_from(OutboxEntry))
        unsettled = session.scalar(
            select(func.count()).where(Cell.status.not_in(("filled", "error")))
        )
    return due == 0 and unsettled == 0


def _kill_a_worker(topology: Topology, workers: list[subprocess.Popen[bytes]]) -> None:
    victim = workers.pop(0)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    workers.append(topology.worker(20))


def test_every_cell_ends_filled_for_its_latest_content_or_in_error_through_faults(
    faulty: tuple[Topology, PostgresServer],
) -> None:
    topology, postgres = faulty
    database_id, rows = _load(topology)
    topology.dispatcher()
    workers = [topology.worker(20), topology.worker(20)]
    topology.sim.configure(latency_ms=80, jitter=0.5, error_rates=FAULTS, timeout_s=5, seed=7)
    for spec in COLUMNS:
        response = topology.api.post(f"/v1/databases/{database_id}/properties", json=spec)
        assert response.status_code == 201, response.get_json()

    pages = {row: _page(n, 0) for n, row in enumerate(rows)}
    kills = 0
    started = time.monotonic()

    def at(seconds: float) -> None:
        time.sleep(max(0.0, started + seconds - time.monotonic()))

    at(3)
    _kill_a_worker(topology, workers)
    kills += 1
    at(6)
    # Killed: Redis loses its queue, RabbitMQ keeps what it confirmed; row writes must not care.
    topology.broker.stop()
    for n in range(0, 100):
        pages[rows[n]] = _page(n, 1)
        _edit(topology, rows[n], pages[rows[n]])
    at(12)
    _kill_a_worker(topology, workers)  # a worker without a broker, killed
    kills += 1
    at(36)
    topology.broker.start()
    at(40)
    postgres.stop("fast")  # every connection dropped, as in a restart
    time.sleep(3)
    postgres.start()
    at(46)
    _kill_a_worker(topology, workers)
    kills += 1
    for n in range(50, 150):
        pages[rows[n]] = _page(n, 2)
        _edit(topology, rows[n], pages[rows[n]])

    topology.wait_for(lambda: _quiet(topology), timeout=420)

    with topology.store.transaction() as session:
        properties = {
            p.name: p
            for p in session.scalars(select(Property).where(Property.database_id == database_id))
        }
        all_cells = list(session.scalars(select(Cell)))
        row_objects = {r.id: r for r in session.scalars(select(Row))}
        filled_events = Counter(
            (row_id, property_id)
            for row_id, property_id in session.execute(
                select(CellEvent.row_id, CellEvent.property_id).where(CellEvent.status == "filled")
            )
        )

    # None lost: every row has both cells, each filled or in error with a message.
    assert len(all_cells) == ROWS * len(COLUMNS)
    by_name = {p.id: name for name, p in properties.items()}
    errors = [c for c in all_cells if c.status == "error"]
    assert all(c.error for c in errors)
    assert len(errors) <= 0.02 * len(all_cells), [c.error for c in errors[:5]]

    for cell in all_cells:
        row = row_objects[cell.row_id]
        assert row.content == pages[cell.row_id]  # the edits landed, whatever was down
        if cell.status != "filled":
            continue
        prop = properties[by_name[cell.property_id]]
        assert prop.ai is not None
        # Filled for the latest content: its inputs are the row's inputs now.
        current = changes.input_hash(prop.ai, row.values, row.content, {})
        assert cell.input_hash == current, (cell.row_id, by_name[cell.property_id])
        if by_name[cell.property_id] == "Summary":
            assert cell.value == f"[sim] {row.content}"
        else:
            assert cell.value in OPTIONS

    # Never filled twice from the same content: at most one "filled" per content the row had
    # (an older content's fill may rightly never have happened: it was superseded).
    edits = Counter({rows[n]: 1 for n in range(0, 100)}) + Counter(
        {rows[n]: 1 for n in range(50, 150)}
    )
    for (row_id, property_id), count in filled_events.items():
        assert count <= 1 + edits[row_id], (row_id, by_name[property_id], count)

    # Model calls: one answered call per content and column, but for fills whose worker was
    # killed after the answer came back (paid twice: the redo must ask again).
    answered: Counter[tuple[str, bool]] = Counter()
    for request in topology.sim.requests:
        if request.get("status") != 200 or request.get("fault") != "ok":
            continue  # an error, or a 200 the client never read (too late, truncated)
        body: dict[str, Any] = request["body"]
        last = body["messages"][-1]["content"]
        content = last[last.rfind("<content>") + len("<content>") : last.rfind("</content>")]
        answered[(content.strip(), "response_format" in body)] += 1
    extra = sum(n - 1 for n in answered.values())
    statuses = Counter(str(r.get("fault")) for r in topology.sim.requests)
    print(  # the figures RELIABILITY.md quotes (pytest -s)
        f"fault run: {len(all_cells)} cells, {len(errors)} in error, "
        f"{len(topology.sim.requests)} model calls {dict(statuses)}, "
        f"{extra} answers paid twice, {time.monotonic() - started:.0f} s"
    )
    assert max(answered.values()) <= 1 + kills
    assert extra <= kills * 20, extra  # at most the killed workers' calls in flight
