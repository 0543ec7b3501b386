"""Concurrency: a seeded random schedule of edits, overrides, override resets, single-cell and
bulk fills and column edits, run by several client threads while worker threads fill cells,
ends in the same cells as a serial replay of the same operations.

Each client thread owns its rows (a person editing their own tickets); one more thread edits
columns and starts bulk fills. Operations on different rows commute, and each row's operations
keep their order, so any correct interleaving must end where the serial replay ends: same value
and status for every cell. A lost update, a stale fill written over a newer one, an override
overwritten or a fill never run shows up as a difference.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from autofill.config import Settings
from autofill.db.models import OutboxEntry
from autofill.db.session import Store
from autofill.fills.dispatch import dispatch_due
from autofill.fills.fill import fill_cell
from autofill.fills.upkeep import sweep
from autofill.llm.complete import Completer
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.simulator.server import Simulator
from tests.conftest import Caller
from tests.helpers import make_database

CLIENTS = 3
ROWS_PER_CLIENT = 5
OPS_PER_CLIENT = 30
PAGES = [
    "The export to PDF fails on page two.",
    "Great support, thank you!",
    "Invoices are charged twice; please refund.",
    "",
    "Le client veut une intégration avec son CRM.",
]
NEXT_INSTRUCTIONS = ["Given {Status} and {Summary}, the next step?", "What should we do next?"]
SPEC: dict[str, Any] = {
    "name": "Tickets",
    "properties": [
        {"name": "Name", "type": "title"},
        {"name": "Status", "type": "select", "options": ["Open", "Done"]},
        {"name": "Summary", "type": "ai", "ai": {"task": "summary"}},
        {
            "name": "Sentiment",
            "type": "ai",
            "ai": {
                "task": "classify",
                "output": {"type": "select", "options": ["Positive", "Neutral", "Negative"]},
            },
        },
        {
            "name": "Next",
            "type": "ai",
            "ai": {"task": "custom", "instruction": NEXT_INSTRUCTIONS[0]},
        },
    ],
}
AI = ["Summary", "Sentiment", "Next"]
pytestmark = pytest.mark.timeout(300)
Op = tuple[str, int, Any]  # (kind, row index or -1, argument)


def _schedule(seed: int) -> tuple[list[list[Op]], list[Op]]:
    rng = random.Random(seed)
    clients: list[list[Op]] = []
    for client in range(CLIENTS):
        rows = [client * ROWS_PER_CLIENT + n for n in range(ROWS_PER_CLIENT)]
        ops: list[Op] = []
        for _ in range(OPS_PER_CLIENT):
            row = rng.choice(rows)
            kind = rng.choices(
                ["content", "status", "override", "reset", "fill_cell"], [5, 3, 2, 2, 1]
            )[0]
            if kind == "content":
                ops.append((kind, row, rng.choice(PAGES)))
            elif kind == "status":
                ops.append((kind, row, rng.choice(["Open", "Done", None])))
            elif kind == "override":
                column = rng.choice(AI)
                value = "Negative" if column == "Sentiment" else f"By hand {rng.randint(1, 9)}"
                ops.append((kind, row, (column, value)))
            else:
                ops.append((kind, row, rng.choice(AI)))
        clients.append(ops)
    columns: list[Op] = []
    for step in range(6):
        if step % 2:
            columns.append(("bulk", -1, rng.choice([("Sentiment", "all"), ("Summary", "stale")])))
        else:
            columns.append(("instruction", -1, NEXT_INSTRUCTIONS[step // 2 % 2 - 1]))
    return clients, columns


class World:
    """One database and its rows, driven through the API."""

    def __init__(self, api: Caller) -> None:
        self.api = api
        self.database = make_database(api, SPEC)
        self.props = {p["name"]: p["id"] for p in self.database["properties"]}
        self.rows = []
        for n in range(CLIENTS * ROWS_PER_CLIENT):
            response = api.post(
                f"/v1/databases/{self.database['id']}/rows",
                json={"properties": {"Name": f"T{n}"}, "content": PAGES[n % len(PAGES)]},
            )
            assert response.status_code == 201, response.get_json()
            self.rows.append(response.get_json()["id"])

    def apply(self, caller: Caller, op: Op) -> None:
        kind, index, argument = op
        row = self.rows[index] if index >= 0 else None
        if kind == "content":
            response = caller.patch(f"/v1/rows/{row}", json={"content": argument})
        elif kind == "status":
            response = caller.patch(f"/v1/rows/{row}", json={"properties": {"Status": argument}})
        elif kind == "override":
            column, value = argument
            response = caller.put(
                f"/v1/rows/{row}/cells/{self.props[column]}", json={"value": value}
            )
        elif kind == "reset":
            response = caller.delete(f"/v1/rows/{row}/cells/{self.props[argument]}")
        elif kind == "fill_cell":
            response = caller.post(f"/v1/rows/{row}/cells/{self.props[argument]}/fill")
        elif kind == "bulk":
            column, scope = argument
            response = caller.post(
                f"/v1/properties/{self.props[column]}/fill", json={"scope": scope}
            )
        else:
            response = caller.patch(
                f"/v1/properties/{self.props['Next']}", json={"ai": {"instruction": argument}}
            )
        # 409: a fill asked of an overridden cell; the same answer in both runs.
        assert response.status_code in (200, 201, 202, 204, 409), (op, response.get_json())

    def cells(self) -> dict[tuple[int, str], tuple[str, Any]]:
        found = {}
        for index, row in enumerate(self.rows):
            cells = self.api.get(f"/v1/rows/{row}").get_json()["cells"]
            for column in AI:
                found[(index, column)] = (cells[column]["status"], cells[column]["value"])
        return found


class Workers:
    """Worker threads: the real dispatch and fill code, a queue.Queue for the broker."""

    def __init__(self, store: Store, settings: Settings, threads: int = 3) -> None:
        self.store, self.settings = store, settings
        self.completer = Completer(limiter=RateLimiter({}, None), timeout_s=20.0, max_reasks=1)
        self.queue: queue.Queue[tuple[str, str, int]] = queue.Queue()
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                dispatch_due(self.store, self._send, self.settings)
                try:
                    message = self.queue.get(timeout=0.02)
                except queue.Empty:
                    continue
                fill_cell(self.store, self.completer, self.settings, *message)
            except Exception as exc:  # a test failure, reported after the join
                self.errors.append(exc)

    def _send(self, fills: list[tuple[str, str, int]], lane: str = "") -> None:
        for fill in fills:
            self.queue.put(fill)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def settle(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.store.transaction() as session:
                due = session.scalar(select(func.count()).select_from(OutboxEntry))
            if not due and self.queue.empty():
                break
            sweep(self.store, self.settings)  # blocked entries are looked at again
            time.sleep(0.1)
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)
        assert not self.errors, self.errors
        with self.store.transaction() as session:
            assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 0


@pytest.mark.real_time  # threads racing for real: the interleavings are the point
@pytest.mark.parametrize("seed", [1, 2])
def test_concurrent_operations_end_as_their_serial_replay(
    app: Flask,
    api: Caller,
    store: Store,
    fill_settings: Settings,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    app.extensions["autofill.settings"] = fill_settings
    clients, columns = _schedule(seed)

    # Concurrently: every client thread and the column thread at once, workers filling.
    concurrent = World(api)
    workers = Workers(store, fill_settings)
    workers.start()

    def run(ops: list[Op]) -> None:
        caller = Caller(app.test_client(), api.token, api.workspace_id)
        for op in ops:
            concurrent.apply(caller, op)
            time.sleep(random.random() * 0.01)  # vary the interleavings

    threads = [threading.Thread(target=run, args=(ops,)) for ops in [*clients, columns]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    workers.settle()

    # Serially: the same operations one after another, then filled.
    serial = World(api)
    for ops in [*clients, columns]:
        for op in ops:
            serial.apply(api, op)
    replay = Workers(store, fill_settings, threads=1)
    replay.start()
    replay.settle()

    got, expected = concurrent.cells(), serial.cells()
    different = {key: (got[key], expected[key]) for key in expected if got[key] != expected[key]}
    assert different == {}
    # Settled, and the schedule did exercise both kinds of cell.
    assert {status for status, _ in got.values()} == {"filled", "overridden"}
