"""Waking whoever waits on the database at once, instead of making it wait for its next poll.

On PostgreSQL a transaction that makes a fill due now sends ``NOTIFY autofill_due``, and one
that writes cell events sends ``NOTIFY autofill_events`` (both delivered at commit, so never for
work that rolled back). The dispatcher LISTENs for the first and wakes at once; the API's event
hub (autofill.fills.event_hub) LISTENs for the second, so a filled cell reaches the events
stream in milliseconds. A fill due later (a debounce) needs no message: the dispatcher sleeps
until the earliest ``due_at`` it knows of. Polling stays as the fallback (a missed
notification, a restarted connection) and is the only way on SQLite.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Iterable
from typing import Any

import structlog
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)
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


class Waker:
    """What a waiting loop waits on: a notification on its channel, its stop event, or the
    timeout, whichever comes first."""

    def __init__(
        self, database_url: str | None, stopping: threading.Event, channel: str = DUE_CHANNEL
    ) -> None:
        self.stopping = stopping
        self.channel = channel
        self._url = database_url if database_url and database_url.startswith("postgresql") else None
        self._connection: Any = None

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def _listen(self) -> None:
        if self._url is None or self._connection is not None:
            return
        import psycopg

        url = self._url.replace("postgresql+psycopg://", "postgresql://", 1)
        try:
            connection = psycopg.connect(url, autocommit=True, connect_timeout=4)
            connection.execute(f"LISTEN {self.channel}")
        except psycopg.Error as exc:
            log.warning("cannot listen; polling", channel=self.channel, error=str(exc))
            return
        self._connection = connection

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True if woken by a notification."""
        return self.wait_for_payloads(timeout) is not None

    def wait_for_payloads(self, timeout: float) -> set[str] | None:
        """Wait up to ``timeout`` seconds; the payloads of the notifications that woke it (all
        of those waiting, at most a thousand), or None if none came."""
        self._listen()
        if self._connection is None:
            self.stopping.wait(timeout)
            return None
        try:
            ready, _, _ = select.select([self._connection.fileno()], [], [], max(timeout, 0.0))
            if not ready:
                return None
            payloads = {
                notice.payload for notice in self._connection.notifies(timeout=0, stop_after=1000)
            }
            return payloads or None
        except Exception as exc:  # the connection died: poll until it is back
            log.warning("lost the listener; polling", channel=self.channel, error=str(exc))
            self.close()
            self.stopping.wait(min(timeout, 1.0))
            return None

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
