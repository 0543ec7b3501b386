"""Reading the feed of cell changes, as the events stream and the table page do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from autofill.db import Store
from autofill.fills import EventHub, events

__all__ = ["EventHub", "changes_after", "last_position"]


def last_position(session: Session, database_id: str) -> int:
    """Where a stream that starts now begins: after everything already in the feed."""
    return events.last_position(session, database_id)


def changes_after(
    store: Store, database_id: str, after: int, *, stamp: bool = True
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The database's cell changes after ``after``, in commit order, as (position, data).
    Positions are given to committed events first (one stamper at a time), so a reader that
    resumes after a position misses nothing. ``stamp=False``: an event hub positions them
    (autofill.fills.event_hub) before it wakes the reader, and the dispatcher's pass as the
    fallback."""
    if stamp:
        with store.transaction() as session:
            events.stamp(session)
    with store.transaction() as session:
        batch = [
            (event.position, event.data)
            for event in events.events_after(session, database_id, after)
        ]
    for position, data in batch:
        assert position is not None
        yield position, data
