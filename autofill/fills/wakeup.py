"""Waking the dispatcher when a fill becomes due, instead of making it wait for its next poll.

On PostgreSQL a transaction that makes a fill due now sends ``NOTIFY autofill_due`` (delivered
at commit, so never for work that rolled back); the dispatcher LISTENs on its own connection and
wakes at once. A fill due later (a debounce) needs no message: the dispatcher sleeps until the
earliest ``due_at`` it knows of. Polling stays as the fallback (a missed notification, a
restarted connection) and is the only way on SQLite.
"""

from __future__ import annotations

import select
import threading
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)
CHANNEL = "autofill_due"


def notify_due(session: Session) -> None:
    """Tell a listening dispatcher, at commit, that a fill is due now (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Waker:
    """What the dispatcher waits on between passes: a notification, its stop event, or the
    timeout, whichever comes first."""

    def __init__(self, database_url: str | None, stopping: threading.Event) -> None:
        self.stopping = stopping
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
            connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            log.warning("cannot listen for due fills; polling", error=str(exc))
            return
        self._connection = connection

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True if woken by a notification."""
        self._listen()
        if self._connection is None:
            self.stopping.wait(timeout)
            return False
        try:
            ready, _, _ = select.select([self._connection.fileno()], [], [], max(timeout, 0.0))
            if not ready:
                return False
            notified = False
            for _ in self._connection.notifies(timeout=0, stop_after=1000):
                notified = True
            return notified
        except Exception as exc:  # the connection died: poll until it is back
            log.warning("lost the due-fill listener; polling", error=str(exc))
            self.close()
            self.stopping.wait(min(timeout, 1.0))
            return False

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
