"""Outbox entry transitions: each names the states it may leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from autofill.db.models import OutboxEntry
from autofill.fills import outbox
from autofill.fills.outbox import EntryStateError
from autofill.kinds import EntryState

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _entry(state: EntryState) -> OutboxEntry:
    return OutboxEntry(
        row_id="row_1",
        property_id="prop_1",
        workspace_id="ws_1",
        state=state.value,
        due_at=NOW,
        attempts=0,
        reserved_tokens=0,
        reserved_usd=0.0,
    )


def test_the_usual_life_of_an_entry() -> None:
    entry = _entry(EntryState.WAITING)
    outbox.dispatch(entry, NOW)
    assert (entry.state, entry.dispatched_at) == ("dispatched", NOW)
    outbox.start(entry, lease_until=NOW + timedelta(minutes=2), tokens=900, cost_usd=0.01)
    assert (entry.state, entry.attempts, entry.reserved_tokens) == ("running", 1, 900)
    outbox.retry(entry, NOW)
    assert (entry.state, entry.reserved_tokens, entry.reserved_usd) == ("waiting", 0, 0.0)


@pytest.mark.parametrize(
    ("state", "move"),
    [
        (EntryState.DISPATCHED, lambda e: outbox.dispatch(e, NOW)),  # sent twice
        (EntryState.RUNNING, lambda e: outbox.dispatch(e, NOW)),
        (EntryState.BLOCKED, lambda e: outbox.dispatch(e, NOW)),  # blocked until unblocked
        (EntryState.DISPATCHED, lambda e: outbox.retry(e, NOW)),  # only a started fill retries
        (EntryState.PARKED, lambda e: outbox.retry(e, NOW)),
        # In a provider batch: its answer comes from there, never from a live start.
        (EntryState.BATCHED, lambda e: outbox.start(e, lease_until=NOW, tokens=1, cost_usd=0.0)),
        (EntryState.RUNNING, lambda e: outbox.batch(e, "bat_1", tokens=1, cost_usd=0.0)),
    ],
)
def test_a_move_from_a_state_it_may_not_leave_is_refused(state: EntryState, move: object) -> None:
    entry = _entry(state)
    with pytest.raises(EntryStateError, match=f"is {state.value}"):
        move(entry)  # type: ignore[operator]
    assert entry.state == state.value


@pytest.mark.parametrize(
    "state", [s for s in EntryState if s not in (EntryState.RUNNING, EntryState.BATCHED)]
)
def test_a_fill_may_start_from_any_state_its_message_can_find(state: EntryState) -> None:
    """A message delivered again after the sweeper put its entry back finds it waiting,
    blocked or parked: the claim decides, and the start is allowed."""
    entry = _entry(state)
    outbox.start(entry, lease_until=NOW, tokens=1, cost_usd=0.0)
    assert entry.state == EntryState.RUNNING.value


def test_a_fill_that_outlived_its_lease_may_still_retry_or_defer() -> None:
    """On a busy machine the sweeper can put a running fill's entry back (its lease passed)
    before the fill records: the record step then finds it waiting, and asks for a retry or a
    deferral all the same (found by the serial-replay test under load)."""
    entry = _entry(EntryState.WAITING)
    outbox.retry(entry, NOW)
    assert (entry.state, entry.due_at) == ("waiting", NOW)
    outbox.defer(entry, NOW + timedelta(seconds=30))
    assert (entry.state, entry.due_at) == ("waiting", NOW + timedelta(seconds=30))


def test_dispatching_many_refuses_them_all_when_one_may_not_be_sent() -> None:
    # Checked before the statement: nothing of the batch is sent (the caller's transaction
    # rolls back), and no entry is told it was.
    waiting, running = _entry(EntryState.WAITING), _entry(EntryState.RUNNING)
    with pytest.raises(EntryStateError, match="is running: it cannot become dispatched"):
        outbox.dispatch_many(Session(), [waiting, running], NOW)
    assert (waiting.state, waiting.dispatched_at) == ("waiting", None)
