"""The store the service runs on: the database, and the feed of cell changes written by every
transaction that changes a cell (autofill.fills.events). Storage itself knows nothing of fills:
the feed is attached here, where both are known."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from autofill.db import Store


def open_store(url: str, **engine_kwargs: Any) -> Store:
    store = Store(url, **engine_kwargs)
    # Every change of an AI cell is written to the events feed by the same transaction.
    event.listen(store.sessions, "after_flush", _record_cell_events)
    return store


def _record_cell_events(session: Session, flush_context: UOWTransaction) -> None:
    # The feed's module maps the whole schema; imported at the first flush rather than with
    # the store, a command that only reads (`autofill workspace list`) never pays for it.
    from autofill.fills import record_cell_events

    record_cell_events(session, flush_context)
