"""One listener per process for committed cell events, so an events stream hears of a filled
cell in milliseconds instead of at its next poll.

Every transaction that writes cell events sends ``NOTIFY autofill_events`` at commit
(autofill.fills.events). The hub LISTENs on one connection of its own — not one per stream —
and on each notification gives the new events their positions (queuing behind any stamper at
work, see ``events.stamp``) and wakes every stream waiting in this process. Streams keep
polling, slower, as the fallback: on SQLite, and whenever the listener is down.
"""

from __future__ import annotations

import threading

import structlog

from autofill.db import Store
from autofill.fills import events
from autofill.fills.wakeup import EVENTS_CHANNEL, Waker

log = structlog.get_logger(__name__)

# How long the hub's wait lasts when nothing is heard, so a stop is noticed; not a poll.
_IDLE_S = 5.0


class EventHub:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.stopping = threading.Event()
        url = store.engine.url
        self._waker = Waker(
            url.render_as_string(hide_password=False) if store.dialect == "postgresql" else None,
            self.stopping,
            EVENTS_CHANNEL,
        )
        self._changed = threading.Condition()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def listening(self) -> bool:
        """True while notifications arrive; streams may then wait long between reads."""
        return self._waker.listening

    @property
    def generation(self) -> int:
        """Counts the wake-ups so far; read it before reading the feed, then ``wait`` on it."""
        with self._changed:
            return self._generation

    def start(self) -> None:
        """Start listening, once per process (after a fork: a forked thread does not run)."""
        if self.store.dialect != "postgresql":
            return
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, name="autofill-event-hub", daemon=True
            )
            self._thread.start()

    def wait(self, seen: int, timeout: float) -> int:
        """Wait until events arrive after generation ``seen`` or ``timeout`` passes; the
        generation now."""
        with self._changed:
            self._changed.wait_for(lambda: self._generation != seen, timeout)
            return self._generation

    def stop(self) -> None:
        self.stopping.set()
        self._wake_all()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                notified = self._waker.wait(_IDLE_S)
            except Exception as exc:  # never end the loop: the streams poll meanwhile
                log.warning("event hub wait failed", error=str(exc))
                self.stopping.wait(1.0)
                continue
            if not notified:
                continue
            try:
                with self.store.transaction() as session:
                    events.stamp(session, wait=True)
            except Exception as exc:  # the database is down: streams find out on their own
                log.warning("event hub could not stamp events", error=str(exc))
            self._wake_all()
        self._waker.close()

    def _wake_all(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()
