"""Embedded mode's soft shutdown: closing it lets the running fill finish and hands every fill
still queued in memory back to the outbox, due now, so the next start fills them at once
instead of losing them until the sweeper notices (minutes later)."""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import select

from autofill.config import Settings
from autofill.db.models import Cell, OutboxEntry
from autofill.db.session import Store
from autofill.db.types import utcnow
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.test_fill import NOTES_DB, _row
from tests.conftest import Caller
from tests.helpers import make_database
from worker import embedded, runtime


def _states(store: Store) -> list[str]:
    with store.transaction() as session:
        return sorted(session.scalars(select(OutboxEntry.state)))


def _filled(store: Store) -> int:
    with store.transaction() as session:
        return len(session.scalars(select(Cell).where(Cell.status == "filled")).all())


@pytest.mark.real_time  # real threads, the simulator's real latency
def test_stopping_hands_unstarted_fills_back_and_the_next_start_fills_them(
    api: Caller, app: Any, store: Store, settings: Settings, sim: Simulator
) -> None:
    quick = settings.model_copy(update={"debounce_s": 0.0, "dispatch_interval_s": 0.05})
    app.extensions["autofill.settings"] = quick
    database = make_database(api, NOTES_DB)
    sim.configure(latency_ms=1500)
    with embedded(store, quick, concurrency=1):
        for n in range(5):
            _row(api, database["id"], f"Page {n} waits its turn.")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "running" not in _states(store):
            time.sleep(0.05)
        assert "running" in _states(store) and "dispatched" in _states(store)
    # One fill was running: it finished. The four queued were handed back, due now.
    assert _filled(store) == 1
    assert _states(store) == ["waiting"] * 4
    with store.transaction() as session:
        due = [e.due_at.replace(tzinfo=UTC) for e in session.scalars(select(OutboxEntry))]
    assert all(moment <= utcnow() for moment in due)
    assert runtime.stopping.is_set()

    sim.configure(latency_ms=0)
    with embedded(store, quick, concurrency=4):
        assert not runtime.stopping.is_set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _filled(store) < 5:
            time.sleep(0.05)
    assert _filled(store) == 5 and _states(store) == []
