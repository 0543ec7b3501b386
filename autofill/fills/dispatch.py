"""The dispatcher: moves due outbox entries to the queue, and sweeps up what got lost.

Several dispatchers may run at once: each takes its batch with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (SQLite has one writer at a time anyway). An entry is marked dispatched and its
message sent inside one transaction: if the queue is down the send raises, the transaction
rolls back and the entries wait for the next try. A message sent by a transaction that then
failed to commit is harmless: the fill checks the entry's generation and lease.

The queue is kept short (``max_queued`` dispatched but not started): the outbox is where
work waits, so a lost queue loses little and the sweeper's re-dispatch bound can be minutes.

**Lanes and fairness.** Interactive entries (a person's edit, a cell asked for) are taken first,
in due order. Bulk entries (a backfill, a run) may hold at most ``1 − interactive_reserve`` of
the queue, so an edit never finds it full of someone's backfill; they get at least
``bulk_min_share`` of a dispatch while they wait, so a stream of edits cannot starve them. Among
workspaces, bulk slots go one at a time to the workspace with the fewest fills in flight
(queued or running) — water-filling, so two backfills share the workers equally and one alone
uses all of them — and no workspace passes ``max_in_flight_per_workspace`` while another's bulk
fills wait. Within a workspace the same water-filling shares its slots across its pieces of
bulk work (each run, each column's backfill), so a second run does not wait for the first.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from autofill import metrics
from autofill.config import Settings
from autofill.db import Database, OutboxEntry, Property, ProviderBatch, Store, utcnow
from autofill.fills import chores, economy, events, outbox, upkeep
from autofill.fills.blocking import upstream_ai
from autofill.fills.waker import Waker
from autofill.kinds import EntryState, Lane
from autofill.llm import current_providers
from autofill.logs import get_logger

log = get_logger(__name__)

# Sends fills to the queue as one message: ([(row id, property id, generation), ...], lane).
# Raises if the queue is down. The lane names the queue: workers take interactive fills before
# bulk ones. A person's edit goes alone; bulk fills go in groups of ``bulk_group_size``, which
# a worker claims and records together (autofill.fills.group).
Send = Callable[[list[tuple[str, str, int]], str], None]


def _due(lane: Lane, now: datetime) -> Select[OutboxEntry]:
    return (
        select(OutboxEntry)
        .where(
            OutboxEntry.state == EntryState.WAITING.value,
            OutboxEntry.lane == lane.value,
            OutboxEntry.due_at <= now,
            OutboxEntry.economy.is_(False),  # the batcher's (autofill.fills.economy)
        )
        .order_by(OutboxEntry.due_at)
        .with_for_update(skip_locked=True)
    )


def dispatch_due(store: Store, send: Send, settings: Settings) -> int:
    """Send one batch of due fills; returns how many were sent."""
    with store.transaction() as session:
        queued = dict(
            session.execute(
                select(OutboxEntry.lane, func.count())
                .where(OutboxEntry.state == EntryState.DISPATCHED.value)
                .group_by(OutboxEntry.lane)
            ).all()
        )
        room = min(settings.dispatch_batch, settings.max_queued - sum(queued.values()))
        if room <= 0:
            return 0
        now = utcnow()
        bulk_cap = int(settings.max_queued * (1 - settings.interactive_reserve))
        bulk_room = max(bulk_cap - int(queued.get(Lane.BULK.value, 0)), 0)
        bulk_waits = bulk_room > 0 and _any_due(session, Lane.BULK, now)
        keep_for_bulk = (
            min(math.ceil(room * settings.bulk_min_share), bulk_room) if bulk_waits else 0
        )
        entries = list(session.scalars(_due(Lane.INTERACTIVE, now).limit(room - keep_for_bulk)))
        bulk_room = min(room - len(entries), bulk_room)
        if bulk_waits and bulk_room > 0:
            # Whole groups, unless people's edits share this pass: then bulk fills take what
            # they are given (bulk_min_share), or a stream of edits could starve them.
            group = min(settings.bulk_group_size, bulk_cap, settings.dispatch_batch)
            entries += _fair_bulk(session, now, bulk_room, settings, 1 if entries else group)
        if not entries:
            return 0
        outgoing: dict[str, list[tuple[str, str, int]]] = {}
        blocked = _blocked(session, entries)
        sent: list[OutboxEntry] = []
        for entry in entries:
            if (entry.row_id, entry.property_id) in blocked:
                outbox.block(entry)
                continue
            sent.append(entry)
            fill = (entry.row_id, entry.property_id, entry.generation)
            outgoing.setdefault(entry.lane, []).append(fill)
        session.flush()
        outbox.dispatch_many(session, sent, now)
        for lane, fills in outgoing.items():
            size = settings.bulk_group_size if lane == Lane.BULK.value else 1
            for start in range(0, len(fills), size):
                send(fills[start : start + size], lane)
    return sum(len(fills) for fills in outgoing.values())


def _any_due(session: Session, lane: Lane, now: datetime) -> bool:
    found = session.scalar(
        select(OutboxEntry.row_id)
        .where(
            OutboxEntry.state == EntryState.WAITING.value,
            OutboxEntry.lane == lane.value,
            OutboxEntry.due_at <= now,
            OutboxEntry.economy.is_(False),
        )
        .limit(1)
    )
    return found is not None


def share_slots(
    slots: int, waiting: dict[str, int], in_flight: dict[str, int], cap: int | None
) -> dict[str, int]:
    """Bulk slots per workspace: each to the workspace with the fewest fills in flight (its
    own plus those given so far) that still has fills waiting; none past ``cap`` while another
    workspace waits. Ties go to the workspace id, so the split is the same on every run."""
    given = dict.fromkeys(waiting, 0)
    heap = [(in_flight.get(ws, 0), ws) for ws, count in waiting.items() if count > 0]
    heapq.heapify(heap)

    def others_wait(workspace: str) -> bool:
        return any(given[ws] < count for ws, count in waiting.items() if ws != workspace)

    while slots > 0 and heap:
        load, workspace = heapq.heappop(heap)
        if cap is not None and load >= cap and others_wait(workspace):
            continue  # at its cap: out of this dispatch while another workspace waits
        given[workspace] += 1
        slots -= 1
        if given[workspace] < waiting[workspace]:
            heapq.heappush(heap, (load + 1, workspace))
    return {ws: n for ws, n in given.items() if n}


def whole_groups(slots: int, waiting: int, group: int) -> int:
    """How many of ``slots`` bulk slots to fill now: whole groups of ``group`` only, unless all
    that waits fits (a backfill's last fills, a small run). Each group costs a worker a claim
    transaction, a recording and a queue message whatever its size, and the dispatcher its
    statements: with room checked every ``dispatch_interval_s``, a pass used to find room for
    a group and a half and send a group and a part of one (32 fills a pass, half the groups
    partial, in a 100-in-flight backfill). The rest waits a pass: the queue holds seconds of
    work, and the slots are no one else's meanwhile (interactive fills have their own)."""
    if waiting <= slots or group <= 1:
        return min(waiting, slots)
    return slots - slots % group


def _fair_bulk(
    session: Session, now: datetime, slots: int, settings: Settings, group: int = 1
) -> list[OutboxEntry]:
    """Bulk entries for ``slots`` (rounded down to whole ``group``s, see whole_groups): shared
    across workspaces, then, within each, across its pieces of bulk work (a run, or a
    column's backfill), by the same water-filling."""
    work = func.coalesce(OutboxEntry.run_id, OutboxEntry.property_id)
    waiting_by: dict[tuple[str, str], int] = {
        (ws, key): n
        for ws, key, n in session.execute(
            select(OutboxEntry.workspace_id, work, func.count())
            .where(
                OutboxEntry.state == EntryState.WAITING.value,
                OutboxEntry.lane == Lane.BULK.value,
                OutboxEntry.due_at <= now,
                OutboxEntry.economy.is_(False),
            )
            .group_by(OutboxEntry.workspace_id, work)
        ).all()
    }
    slots = whole_groups(slots, sum(waiting_by.values()), group)
    if slots <= 0:
        return []
    workspaces = sorted({ws for ws, _ in waiting_by})
    flying_by: dict[tuple[str, str], int] = {
        (ws, key): n
        for ws, key, n in session.execute(
            select(OutboxEntry.workspace_id, work, func.count())
            .where(
                OutboxEntry.state.in_([EntryState.DISPATCHED.value, EntryState.RUNNING.value]),
                OutboxEntry.workspace_id.in_(workspaces),
            )
            .group_by(OutboxEntry.workspace_id, work)
        ).all()
    }

    def per_workspace(counts: dict[tuple[str, str], int]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (ws, _), n in counts.items():
            totals[ws] = totals.get(ws, 0) + n
        return totals

    shares = share_slots(
        slots,
        per_workspace(waiting_by),
        per_workspace(flying_by),
        settings.max_in_flight_per_workspace,
    )
    taken: list[OutboxEntry] = []
    for workspace, count in sorted(shares.items()):
        own = {key: n for (ws, key), n in waiting_by.items() if ws == workspace}
        flying = {key: n for (ws, key), n in flying_by.items() if ws == workspace}
        for key, share in sorted(share_slots(count, own, flying, None).items()):
            statement = _due(Lane.BULK, now).where(
                OutboxEntry.workspace_id == workspace, work == key
            )
            taken += session.scalars(statement.limit(share))
    return taken


def _blocked(session: Session, entries: list[OutboxEntry]) -> set[tuple[str, str]]:
    """Entries whose row has a fill due for an AI cell they read (directly or not)."""
    property_ids = {entry.property_id for entry in entries}
    # The columns with their databases' columns, in one round of statements, not a lazy load
    # of each column's database and then of its columns.
    props = {
        p.id: p
        for p in session.scalars(
            select(Property)
            .where(Property.id.in_(property_ids))
            .options(selectinload(Property.database).selectinload(Database.properties))
        )
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
    """The dispatch loop: due fills out as soon as they are due — woken by a notification on
    PostgreSQL (autofill.fills.wakeup), else at the earliest due time, polling every
    ``dispatch_interval_s`` at most, at once while there is a backlog — events stamped; and on a
    thread beside it, a sweep every ``sweep_interval_s``. Survives the database or the queue
    being down: it logs, waits and tries again."""

    def __init__(
        self, store: Store, send: Send, settings: Settings, *, heartbeat: Path | None = None
    ) -> None:
        self.store = store
        self.send = send
        self.settings = settings
        self.heartbeat = heartbeat  # touched on every pass, for a container's health check
        self.stopping = threading.Event()
        self.sent = 0
        url = store.engine.url
        self.waker = Waker(
            url.render_as_string(hide_password=False) if store.dialect == "postgresql" else None,
            self.stopping,
        )
        self.chores = chores.LeaseKeeper(store, chores.SWEEP, settings.chore_lease_s, self.stopping)

    def run(self) -> None:
        # The chores (re-sending lost fills, pruning events, vacuuming) run on a thread of
        # their own: a vacuum of a large table takes seconds, and dispatching, which people's
        # edits wait on, must not wait for it. They run once across dispatchers (several hosts
        # may run one), under a lease whose heartbeat is a thread too (autofill.fills.chores).
        keeper = threading.Thread(target=self.chores.run, name="autofill-chore-lease", daemon=True)
        keeper.start()
        sweeper = threading.Thread(target=self._sweep_forever, name="autofill-sweeper", daemon=True)
        sweeper.start()
        # Economy fills (provider batches) on a thread of their own too: a batch's results
        # take a while to record, and live fills must not wait for them.
        batcher = threading.Thread(target=self._batch_forever, name="autofill-batcher", daemon=True)
        batcher.start()
        counter = threading.Thread(target=self._count_forever, name="autofill-counter", daemon=True)
        counter.start()
        failures = 0
        while not self.stopping.is_set():
            if self.heartbeat is not None:
                self.heartbeat.touch()
            try:
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
                # Until a fill is due: woken by a notification (PostgreSQL), or at the next
                # due time (a debounce ending), or after the polling interval at most.
                try:
                    self.waker.wait(self._until_next_due())
                except Exception as exc:  # never let the wait end the loop: poll instead
                    log.warning("dispatcher wait failed; polling", error=str(exc))
                    self.stopping.wait(self.settings.dispatch_interval_s)
        self.waker.close()
        sweeper.join(timeout=5)  # a daemon: a sweep stuck on the database does not hold the exit
        keeper.join(timeout=5)  # gives the lease up, so another dispatcher sweeps at once
        batcher.join(timeout=5)

    def _count_forever(self) -> None:
        """The outbox and the provider batches counted for ``/metrics`` every few seconds, on
        a thread of its own: a slow count never holds up dispatching."""
        while not self.stopping.is_set():
            try:
                count_for_metrics(self.store)
            except Exception as exc:  # the database is down: the next count tries again
                log.warning("metrics count failed; retrying", error=str(exc))
            self.stopping.wait(METRICS_EVERY_S)

    def _sweep_forever(self) -> None:
        while not self.stopping.is_set():
            if not self.chores.held:  # another dispatcher sweeps; look again soon
                self.stopping.wait(min(self.settings.sweep_interval_s, self.chores.lease_s / 3))
                continue
            try:
                upkeep.sweep(self.store, self.settings, self.chores.renew_in)
            except Exception as exc:  # the database is down: the next sweep tries again
                log.warning("sweep failed; retrying", error=str(exc))
            self.stopping.wait(self.settings.sweep_interval_s)

    def _batch_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                done = economy.pass_once(self.store, self.settings, current_providers())
            except Exception as exc:  # the database or a provider is down: next pass
                log.warning("batcher pass failed; retrying", error=str(exc))
            else:
                if done.claimed >= self.settings.batch_max_requests:
                    continue  # more of a large run is due: claim on at once
            self.stopping.wait(self.settings.batch_interval_s)

    def _until_next_due(self) -> float:
        interval = self.settings.dispatch_interval_s
        try:
            with self.store.transaction() as session:
                soonest = session.scalar(
                    select(func.min(OutboxEntry.due_at)).where(
                        OutboxEntry.state == EntryState.WAITING.value,
                        OutboxEntry.economy.is_(False),
                    )
                )
        except Exception:  # the database is down: the next pass says so
            return interval
        if soonest is not None and soonest.tzinfo is None:
            soonest = soonest.replace(tzinfo=UTC)  # SQLite hands an aggregate back naive
        wait = (soonest - utcnow()).total_seconds() if soonest is not None else interval
        # Due already but not sent (the queue has no room): the next pass is a poll away.
        return min(wait, interval) if wait > 0 else interval

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="autofill-dispatcher", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()


METRICS_EVERY_S = 5.0


def count_for_metrics(store: Store) -> None:
    """``autofill_outbox_entries`` by lane, state and workspace, and
    ``autofill_provider_batches`` by provider and state, as they are now."""
    with store.transaction() as session:
        entries = session.execute(
            select(
                OutboxEntry.lane, OutboxEntry.state, OutboxEntry.workspace_id, func.count()
            ).group_by(OutboxEntry.lane, OutboxEntry.state, OutboxEntry.workspace_id)
        ).all()
        batches = session.execute(
            select(ProviderBatch.model, ProviderBatch.state, func.count()).group_by(
                ProviderBatch.model, ProviderBatch.state
            )
        ).all()
    metrics.set_outbox((lane, state, workspace, count) for lane, state, workspace, count in entries)
    by_provider: dict[tuple[str, str], int] = {}
    for model, state, count in batches:
        key = (metrics.split_model(model)[0], state)
        by_provider[key] = by_provider.get(key, 0) + count
    metrics.set_batches(
        (provider, state, count) for (provider, state), count in by_provider.items()
    )
