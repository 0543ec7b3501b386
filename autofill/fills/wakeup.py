"""Waking whoever waits on the database at once, instead of making it wait for its next poll.

On PostgreSQL a transaction that makes a fill due now sends ``NOTIFY autofill_due``, and one
that writes cell events sends ``NOTIFY autofill_events`` (both delivered at commit, so never for
work that rolled back). The dispatcher LISTENs for the first and wakes at once; the API's event
hub (autofill.fills.event_hub) LISTENs for the second, so a filled cell reaches the events
stream in milliseconds. A fill due later (a debounce) needs no message: the dispatcher sleeps
until the earliest ``due_at`` it knows of. Polling stays as the fallback (a missed
notification, a restarted connection) and is the only way on SQLite.

The transactions' side is here; the listening side is autofill.fills.waker.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

DUE_CHANNEL = "autofill_due"
EVENTS_CHANNEL = "autofill_events"
_NOTIFY = text("SELECT pg_notify(:channel, '')")


def notify_due(session: Session) -> None:
    """Tell a listening dispatcher, at commit, that a fill is due now (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY, {"channel": DUE_CHANNEL})


_NOTIFY_WITH = text("SELECT pg_notify(:channel, :payload)")


def notify_events(connection: Connection, database_ids: Iterable[str]) -> None:
    """Tell listening event hubs, at commit, which databases have new cell events (PostgreSQL
    only), so a stream is woken for its own database only. PostgreSQL folds repeated
    identical notifications of one transaction into one."""
    if connection.dialect.name == "postgresql":
        for database_id in sorted(set(database_ids)):  # one, for a fill
            connection.execute(_NOTIFY_WITH, {"channel": EVENTS_CHANNEL, "payload": database_id})
