"""The fill task is thin, and gives back what it will not run: once the worker is stopping, a
fill that has not started goes back to the outbox, due now, for another worker; a fill that
crashes is counted, retried after a backoff, and ends in error at the attempt cap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from autofill.clock import FakeClock
from autofill.config import Settings
from autofill.db.models import OutboxEntry
from autofill.db.session import Store
from autofill.db.types import utcnow
from autofill.fills.dispatch import dispatch_due
from autofill.fills.handed import database_out
from autofill.fills.limits import shared_limiter
from autofill.llm.complete import Completer
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.test_fill import NOTES_DB, _row
from tests.conftest import Caller
from tests.helpers import make_database
from worker import runtime, tasks


@pytest.fixture
def stopping_runtime(store: Store, settings: Settings) -> Iterator[None]:
    before = runtime._current
    runtime.install(runtime.Runtime(settings, store, Completer(shared_limiter())))
    runtime.stopping.set()
    yield
    runtime.stopping.clear()
    runtime._current = before


class Sent(list[tuple[str, str, int]]):
    """The broker's sender, faked: every fill sent, in order."""

    def __call__(self, fills: list[tuple[str, str, int]], lane: str = "") -> None:
        self.extend(fills)


def _sent_fill(
    api: Caller, app: object, store: Store, settings: Settings, content: str
) -> tuple[dict[str, Any], tuple[str, str, int]]:
    """A row written and its fill dispatched (to no worker yet): the row, and the fill as sent."""
    quick = settings.model_copy(update={"debounce_s": 0.0})
    app.extensions["autofill.settings"] = quick  # type: ignore[attr-defined]
    database = make_database(api, NOTES_DB)
    row = _row(api, database["id"], content)
    sent = Sent()
    assert dispatch_due(store, sent, quick) == 1
    return row, sent[0]


def test_a_fill_received_while_stopping_is_handed_back(
    api: Caller,
    app: object,
    store: Store,
    settings: Settings,
    sim: Simulator,
    stopping_runtime: None,
) -> None:
    _, fill = _sent_fill(api, app, store, settings, "Sent, then the worker stops.")

    assert tasks.fill_cell.run(*fill) == "handed_back"
    with store.transaction() as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert entry.state == "waiting" and entry.attempts == 0
        assert entry.due_at.replace(tzinfo=UTC) <= utcnow()
    # Sent again; a stale message (an older generation) does not give the new one back.
    again = Sent()
    assert dispatch_due(store, again, app.extensions["autofill.settings"]) == 1  # type: ignore[attr-defined]
    row_id, property_id, generation = again[0]
    tasks.fill_cell.run(row_id, property_id, generation - 1)
    with store.transaction() as session:
        assert session.scalars(select(OutboxEntry.state)).one() == "dispatched"


class CrashingCompleter:
    """A provider SDK failing in a way nobody planned for: every call raises."""

    def complete(self, request: object) -> object:
        raise RuntimeError("the SDK fell over")


def test_a_fill_that_always_crashes_ends_in_error_at_the_attempt_cap(
    api: Caller, app: object, store: Store, settings: Settings, fake_clock: FakeClock
) -> None:
    quick = settings.model_copy(update={"debounce_s": 0.0})
    app.extensions["autofill.settings"] = quick  # type: ignore[attr-defined]
    before = runtime._current
    runtime.install(runtime.Runtime(quick, store, CrashingCompleter()))  # type: ignore[arg-type]
    try:
        database = make_database(api, NOTES_DB)
        row = _row(api, database["id"], "This page's fill always crashes.")
        sent = Sent()
        outcomes = []
        for _ in range(quick.max_fill_attempts):
            fake_clock.advance(61)  # past the crash's backoff
            assert dispatch_due(store, sent, quick) == 1
            outcomes.append(tasks.fill_cell.run(*sent[-1]))
    finally:
        runtime._current = before
    assert outcomes == ["handed_back"] * (quick.max_fill_attempts - 1) + ["failed"]
    cell = api.get(f"/v1/rows/{row['id']}").get_json()["cells"]["Summary"]
    assert cell["status"] == "error" and cell["error_code"] == "gave_up"
    assert "RuntimeError: the SDK fell over" in cell["error"]
    with store.transaction() as session:
        assert session.scalars(select(OutboxEntry)).all() == []


def test_only_a_database_that_went_away_is_not_the_fills_fault() -> None:
    """A refused or cut connection hands the fill back uncounted; an integrity or data error
    would fail the same way every time, so it counts toward the attempt cap like a crash."""
    cause = Exception("server closed the connection")
    assert database_out(OperationalError("SELECT 1", {}, cause))
    assert database_out(InterfaceError("SELECT 1", {}, cause))
    assert not database_out(IntegrityError("INSERT", {}, cause))
    assert not database_out(DataError("INSERT", {}, cause))


def test_handing_back_a_fill_an_edit_superseded_says_so(
    api: Caller,
    app: object,
    store: Store,
    settings: Settings,
    sim: Simulator,
    stopping_runtime: None,
) -> None:
    """Nothing of the sent generation is left to give back once the row was edited: the outcome
    (and the worker's log line) is ``superseded``, and the newer fill stays as it was."""
    row, fill = _sent_fill(api, app, store, settings, "Sent, then edited, then the worker stops.")
    edited = api.patch(f"/v1/rows/{row['id']}", json={"content": "The edit that came after."})
    assert edited.status_code == 200, edited.get_json()

    assert tasks.fill_cell.run(*fill) == "superseded"
    with store.transaction() as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert entry.generation == fill[2] + 1 and entry.state == "waiting"
