"""One listener per process for committed cell events, so an events stream hears of a filled
cell in milliseconds instead of at its next poll.

Every transaction that writes cell events sends ``NOTIFY autofill_events`` at commit, naming
the databases they belong to (autofill.fills.events). The hub LISTENs on one connection of its
own — not one per stream — and when a database that a stream of this process watches is named,
gives the new events their positions (queuing behind any stamper at work, see
``events.stamp``) and wakes that database's streams. Notifications for databases nobody here
watches cost a look-up: a backfill's thousands of events do not wake the streams of others.
Streams keep polling, slower, as the fallback: on SQLite, and whenever the listener is down.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from autofill.db import Store
from autofill.fills import events
from autofill.fills.waker import Waker
from autofill.fills.wakeup import EVENTS_CHANNEL
from autofill.logs import get_logger

log = get_logger(__name__)

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
        self._generations: Counter[str] = Counter()  # wake-ups so far, per database
        self._watched: Counter[str] = Counter()  # streams of this process, per database
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def listening(self) -> bool:
        """True while notifications arrive; streams may then wait long between reads."""
        return self._waker.listening

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

    @contextmanager
    def watching(self, database_id: str) -> Iterator[None]:
        """For the life of a stream: its database's notifications are acted on."""
        with self._changed:
            self._watched[database_id] += 1
        try:
            yield
        finally:
            with self._changed:
                self._watched[database_id] -= 1
                if self._watched[database_id] <= 0:
                    del self._watched[database_id]

    def generation(self, database_id: str) -> int:
        """Wake-ups of this database so far; read it before reading the feed, then ``wait``."""
        with self._changed:
            return self._generations[database_id]

    def wait(self, database_id: str, seen: int, timeout: float) -> int:
        """Wait until the database's events arrive after generation ``seen``, the hub stops,
        or ``timeout`` passes; the generation now."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._generations[database_id] != seen or self.stopping.is_set(),
                timeout,
            )
            return self._generations[database_id]

    def stop(self) -> None:
        self.stopping.set()
        with self._changed:
            self._changed.notify_all()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                named = self._waker.wait_for_payloads(_IDLE_S)
            except Exception as exc:  # never end the loop: the streams poll meanwhile
                log.warning("event hub wait failed", error=str(exc))
                self.stopping.wait(1.0)
                continue
            if not named:
                continue
            with self._changed:
                wanted = {database_id for database_id in named if database_id in self._watched}
            if not wanted:
                continue  # the dispatcher's pass positions them for later readers
            try:
                with self.store.transaction() as session:
                    events.stamp(session, wait=True)
            except Exception as exc:  # the database is down: streams find out on their own
                log.warning("event hub could not stamp events", error=str(exc))
            with self._changed:
                for database_id in wanted:
                    self._generations[database_id] += 1
                self._changed.notify_all()
        self._waker.close()
