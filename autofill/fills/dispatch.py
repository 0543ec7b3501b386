"""The dispatcher: moves due outbox entries to the queue, and sweeps up what got lost.

Several dispatchers may run at once: each takes its batch with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (SQLite has one writer at a time anyway). An entry is marked dispatched and its
message sent inside one transaction: if the queue is down the send raises, the transaction
rolls back and the entries wait for the next try. A message sent by a transaction that then
failed to commit is harmless: the fill checks the entry's generation and lease.

The queue is kept short (``max_queued`` dispatched but not started): the outbox is where
work waits, so a lost queue loses little and the sweeper's re-dispatch bound can be minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from autofill.config import Settings
from autofill.db import OutboxEntry, Property, Store, utcnow
from autofill.fills import events, outbox, upkeep
from autofill.fills.blocking import upstream_ai
from autofill.kinds import EntryState

log = structlog.get_logger(__name__)

# Sends one fill to the queue: (row id, property id, generation). Raises if the queue is down.
Send = Callable[[str, str, int], None]


def dispatch_due(store: Store, send: Send, settings: Settings) -> int:
    """Send one batch of due fills; returns how many were sent."""
    with store.transaction() as session:
        queued = session.scalar(
            select(func.count()).where(OutboxEntry.state == EntryState.DISPATCHED.value)
        )
        room = min(settings.dispatch_batch, settings.max_queued - int(queued or 0))
        if room <= 0:
            return 0
        now = utcnow()
        entries = list(
            session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.state == EntryState.WAITING.value, OutboxEntry.due_at <= now)
                .order_by(OutboxEntry.due_at)
                .limit(room)
                .with_for_update(skip_locked=True)
            )
        )
        if not entries:
            return 0
        outgoing = []
        blocked = _blocked(session, entries)
        for entry in entries:
            if (entry.row_id, entry.property_id) in blocked:
                outbox.block(entry)
                continue
            outbox.dispatch(entry, now)
            outgoing.append((entry.row_id, entry.property_id, entry.generation))
        session.flush()
        for row_id, property_id, generation in outgoing:
            send(row_id, property_id, generation)
    return len(outgoing)


def _blocked(session: Session, entries: list[OutboxEntry]) -> set[tuple[str, str]]:
    """Entries whose row has a fill due for an AI cell they read (directly or not)."""
    property_ids = {entry.property_id for entry in entries}
    props = {
        p.id: p for p in session.scalars(select(Property).where(Property.id.in_(property_ids)))
    }
    upstream: dict[str, set[str]] = {
        pid: upstream_ai(prop, prop.database.properties) for pid, prop in props.items()
    }
    if not any(upstream.values()):
        return set()
    rows = {entry.row_id for entry in entries if upstream.get(entry.property_id)}
    due = {
        (row_id, property_id)
        for row_id, property_id in session.execute(
            select(OutboxEntry.row_id, OutboxEntry.property_id).where(OutboxEntry.row_id.in_(rows))
        )
    }
    return {
        (entry.row_id, entry.property_id)
        for entry in entries
        if any((entry.row_id, up) in due for up in upstream.get(entry.property_id, ()))
    }


def stamp_events(store: Store) -> int:
    with store.transaction() as session:
        return events.stamp(session)


class Dispatcher:
    """The dispatch loop: due fills out every ``dispatch_interval_s`` (at once while there is a
    backlog), events stamped, a sweep every ``sweep_interval_s``. Survives the database or the
    queue being down: it logs, waits and tries again."""

    def __init__(
        self, store: Store, send: Send, settings: Settings, *, heartbeat: Path | None = None
    ) -> None:
        self.store = store
        self.send = send
        self.settings = settings
        self.heartbeat = heartbeat  # touched on every pass, for a container's health check
        self.stopping = threading.Event()
        self.sent = 0

    def run(self) -> None:
        next_sweep = 0.0
        failures = 0
        while not self.stopping.is_set():
            if self.heartbeat is not None:
                self.heartbeat.touch()
            try:
                if time.monotonic() >= next_sweep:
                    upkeep.sweep(self.store, self.settings)
                    next_sweep = time.monotonic() + self.settings.sweep_interval_s
                sent = dispatch_due(self.store, self.send, self.settings)
                self.sent += sent
                stamp_events(self.store)
                failures = 0
            except Exception as exc:  # the queue or the database is down: wait, then retry
                failures += 1
                log.warning("dispatch failed; retrying", error=str(exc), failures=failures)
                self.stopping.wait(min(0.5 * 2**failures, 10.0))
                continue
            if sent < self.settings.dispatch_batch:
                self.stopping.wait(self.settings.dispatch_interval_s)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="autofill-dispatcher", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
