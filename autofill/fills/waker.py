"""The listening side of autofill.fills.wakeup: a loop waits on its channel's notifications.

Apart from the notifications because only the dispatcher and the event hub listen, while every
transaction that changes a cell notifies."""

from __future__ import annotations

import select
import threading
from typing import Any

from autofill.fills.wakeup import DUE_CHANNEL
from autofill.logs import get_logger

log = get_logger(__name__)


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
