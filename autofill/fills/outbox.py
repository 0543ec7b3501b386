"""The outbox: due fills, recorded in the same transaction as the change that made them due,
and the one owner of their entries' states.

One entry per cell (primary key row, property). Scheduling a cell that already has an entry
bumps its ``generation`` and moves ``due_at``: a burst of saves costs one fill (the debounce),
and a fill started for an older generation knows its result is out of date.

An entry's life (any other move is refused, EntryStateError)::

    schedule ─▶ waiting ─dispatch─▶ dispatched ─start─▶ running ─finish─▶ (deleted)
                  ▲  ▲                  │  │               │
                  │  └──── block ◀──────┘  └──── park ─▶ parked ── unpark (budget, month) ─┐
                  │              blocked ── unblock (a fill of the row ended; the sweeper) ─┤
                  ├─ retry (inputs moved under a running fill; lease or message lost) ◀─────┘
                  ├─ defer (running: the provider asked for a long wait; due after it)
                  ├─ hand back (dispatched or running: the worker stopped or lost the database)
                  └─ go live (batched: the batch could not answer it; a live fill instead)

Economy entries (``economy``) are not dispatched: the batcher (autofill.fills.economy) claims
them into a provider batch, ``waiting ─batch─▶ batched``, and records their answers from there
(finish, retry, or go live).

A fill may also start from waiting, blocked or parked (a message delivered again after the
sweeper put its entry back), and a running entry whose lease has passed may start again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Insert,
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from autofill import tracing
from autofill.db import Cell, OutboxEntry, Property, Row, upsert, utcnow
from autofill.fills import wakeup
from autofill.kinds import EntryState, Lane, Reason

WAITING, DISPATCHED, RUNNING = EntryState.WAITING, EntryState.DISPATCHED, EntryState.RUNNING
BATCHED = EntryState.BATCHED
# A column change on at most this many rows is a person's, waited for; more is a backfill.
INTERACTIVE_MAX_CELLS = 20
BLOCKED, PARKED = EntryState.BLOCKED, EntryState.PARKED


class EntryStateError(RuntimeError):
    """A transition asked of an entry in a state it may not leave that way (a bug)."""


def _move(entry: OutboxEntry, to: EntryState, may_leave: tuple[EntryState, ...]) -> None:
    _may_move(entry, to, may_leave)
    entry.state = to.value


def _may_move(entry: OutboxEntry, to: EntryState, may_leave: tuple[EntryState, ...]) -> None:
    if EntryState(entry.state) not in may_leave:
        raise EntryStateError(
            f"outbox entry ({entry.row_id}, {entry.property_id}) is {entry.state}: "
            f"it cannot become {to.value}"
        )


def dispatch(entry: OutboxEntry, now: datetime) -> None:
    """Sent to the queue."""
    _move(entry, DISPATCHED, (WAITING,))
    entry.dispatched_at = now


def dispatch_many(session: Session, entries: list[OutboxEntry], now: datetime) -> None:
    """``dispatch`` for many entries in one executemany through the session's connection: the
    unit of work's flush of one update per entry was a fifth of the dispatcher's CPU. The
    entries are locked by the caller's select; the session's objects are told their new state
    as committed, so nothing is flushed for them again."""
    for entry in entries:
        _may_move(entry, DISPATCHED, (WAITING,))  # as ``dispatch``: all checked, none sent
    if not entries:
        return
    session.connection().execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.row_id == bindparam("key_row"),
            OutboxEntry.property_id == bindparam("key_property"),
        )
        .values(state=DISPATCHED.value, dispatched_at=now),
        [{"key_row": e.row_id, "key_property": e.property_id} for e in entries],
    )
    for entry in entries:
        set_committed_value(entry, "state", DISPATCHED.value)
        set_committed_value(entry, "dispatched_at", now)


def block(entry: OutboxEntry) -> None:
    """An AI cell this one reads is due first in the same row: wait for its fill. (Running:
    a fill claimed again after its lease passed finds the row's upstream due.)"""
    _move(entry, BLOCKED, (WAITING, DISPATCHED, BLOCKED, PARKED, RUNNING))


def start(entry: OutboxEntry, *, lease_until: datetime, tokens: int, cost_usd: float) -> None:
    """A worker owns the fill until ``lease_until`` and holds its most possible spend against
    the workspace's budget meanwhile."""
    _move(entry, RUNNING, (WAITING, DISPATCHED, BLOCKED, PARKED, RUNNING))
    entry.lease_until = lease_until
    entry.attempts += 1
    entry.reserved_tokens, entry.reserved_usd = tokens, cost_usd


def park(entry: OutboxEntry) -> None:
    """The workspace's budget is spent: wait for more budget or the next month."""
    _move(entry, PARKED, (WAITING, DISPATCHED, BLOCKED, PARKED, RUNNING))


def batch(entry: OutboxEntry, batch_id: str, *, tokens: int, cost_usd: float) -> None:
    """Claimed into a provider batch: its most possible spend, at the batch price, is held
    against the budget until its answer is recorded."""
    _move(entry, BATCHED, (WAITING,))
    entry.batch_id = batch_id
    entry.attempts += 1
    entry.reserved_tokens, entry.reserved_usd = tokens, cost_usd


def go_live(session: Session, entry: OutboxEntry, *, reask: dict[str, str] | None = None) -> None:
    """The batch could not fill it (expired, failed for a passing reason, cut off, cancelled
    by the provider, or answered with a value that needs a re-ask): a live fill, due now, in
    the entry's lane. ``reask`` (the answer and what was wrong with it) is asked live, once."""
    _move(entry, WAITING, (BATCHED, WAITING))
    entry.economy = False
    entry.batch_id = None
    entry.reask = reask
    entry.due_at = utcnow()
    entry.reserved_tokens, entry.reserved_usd = 0, 0.0
    wakeup.notify_due(session)


def retry(entry: OutboxEntry, now: datetime) -> None:
    """Run again now: the inputs moved under a running fill without a new generation. (Waiting
    already: the fill outlived its lease on a busy machine and the sweeper put it back.
    Batched: the same, found when a batch answer was recorded.)"""
    _move(entry, WAITING, (RUNNING, WAITING, BATCHED))
    entry.batch_id = None
    entry.due_at = now
    entry.reserved_tokens, entry.reserved_usd = 0, 0.0


# Entries going back to waiting, each statement naming the states it moves entries from.
_BACK = {"state": WAITING.value, "reserved_tokens": 0, "reserved_usd": 0.0}


def defer(entry: OutboxEntry, due_at: datetime) -> None:
    """The provider asked for a wait longer than a fill holds a worker: the wait is kept here,
    as a due time, not in a sleeping thread or a queue's countdown. The start still counts
    towards the attempt cap, so a provider that always says "later" does not loop forever."""
    _move(entry, WAITING, (RUNNING, WAITING))  # waiting: see retry
    entry.due_at = due_at
    entry.reserved_tokens, entry.reserved_usd = 0, 0.0


def hand_back(
    session: Session, row_id: str, property_id: str, generation: int, due_at: datetime
) -> bool:
    """A worker gives back a fill it will not finish (it is shutting down, or the database
    failed under it): due again at ``due_at`` for any worker, instead of waiting for the
    sweeper to find the message lost or the lease passed. Only the generation it was sent;
    True if it was still there to give back."""
    moved = session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.row_id == row_id,
            OutboxEntry.property_id == property_id,
            OutboxEntry.generation == generation,
            OutboxEntry.state.in_((DISPATCHED.value, RUNNING.value)),
        )
        .values(**_BACK, due_at=due_at)
    )
    if _count(moved) and due_at <= utcnow():
        wakeup.notify_due(session)
    return bool(_count(moved))


def finish(session: Session, entry: OutboxEntry) -> None:
    """The fill is settled (or has nothing left to fill): the entry goes."""
    session.delete(entry)


def retry_expired_leases(session: Session, now: datetime) -> int:
    """Running past its lease: the worker died. The fill goes back to the outbox."""
    moved = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.state == RUNNING.value, OutboxEntry.lease_until < now)
        .values(**_BACK, due_at=now)
    )
    return _count(moved)


def retry_lost_messages(session: Session, now: datetime, sent_before: datetime) -> int:
    """Dispatched long ago and never started: the queue lost the message."""
    moved = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.state == DISPATCHED.value, OutboxEntry.dispatched_at < sent_before)
        .values(**_BACK, due_at=now)
    )
    return _count(moved)


def unblock_all(session: Session) -> int:
    """Blocked entries are looked at again; the dispatcher blocks them anew if need be (a
    column may have stopped reading the one it waited for)."""
    moved = session.execute(
        update(OutboxEntry).where(OutboxEntry.state == BLOCKED.value).values(state=WAITING.value)
    )
    return _count(moved)


def unblock_row(session: Session, row_id: str) -> None:
    """A fill of this row finished: cells that waited for it may go now."""
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.row_id == row_id, OutboxEntry.state == BLOCKED.value)
        .values(state=WAITING.value)
    )


def unpark_before(session: Session, now: datetime, parked_before: datetime) -> int:
    """Parked in an earlier month: the new month's budget lets them try again."""
    moved = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.state == PARKED.value, OutboxEntry.updated_at < parked_before)
        .values(**_BACK, due_at=now)
    )
    return _count(moved)


def unpark_workspace(session: Session, workspace_id: str) -> list[tuple[str, str]]:
    """The workspace's budget changed: its parked fills go back; the claim checks again.
    Returns the (row id, property id) of each."""
    parked = [
        (row_id, property_id)
        for row_id, property_id in session.execute(
            select(OutboxEntry.row_id, OutboxEntry.property_id).where(
                OutboxEntry.workspace_id == workspace_id, OutboxEntry.state == PARKED.value
            )
        )
    ]
    if parked:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.workspace_id == workspace_id, OutboxEntry.state == PARKED.value)
            .values(state=WAITING.value, due_at=utcnow())
        )
    return parked


def cancel_run(session: Session, run_id: str) -> list[tuple[str, str]]:
    """A bulk run is cancelled: its fills not yet started are dropped (returned as (row id,
    property id)); running ones finish. Entries also due for an edit keep going, outside it."""
    not_started = (
        OutboxEntry.run_id == run_id,
        OutboxEntry.reason == Reason.RUN.value,
        OutboxEntry.state != RUNNING.value,
    )
    dropped = [
        (row_id, property_id)
        for row_id, property_id in session.execute(
            select(OutboxEntry.row_id, OutboxEntry.property_id).where(*not_started)
        )
    ]
    session.execute(delete(OutboxEntry).where(*not_started))
    session.execute(update(OutboxEntry).where(OutboxEntry.run_id == run_id).values(run_id=None))
    return dropped


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# The upsert, built once per dialect: building it (its CASEs, its cache key) took 1.7 ms of a
# PATCH's 6.8 ms in-process, and a statement is immutable, so one serves every write.
_UPSERTS: dict[str, Any] = {}


def _upsert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        _UPSERTS[dialect] = _build_upsert(session)
    return _UPSERTS[dialect]


def _build_upsert(session: Session) -> Any:
    # On the table, not the mapped class: the ORM's bulk-insert path around a Core statement
    # cost another 1.5 ms per call, and the entries are plain rows of values anyway.
    table = OutboxEntry.__table__
    statement = upsert(session, table)
    excluded, current = statement.excluded, table.c
    return statement.on_conflict_do_update(
        index_elements=[current.row_id, current.property_id],
        set_={
            "generation": current.generation + 1,
            "due_at": excluded.due_at,
            "state": WAITING.value,
            "force": or_(current.force, excluded.force),
            "run_id": func.coalesce(excluded.run_id, current.run_id),
            "reason": excluded.reason,
            "attempts": 0,  # a new generation is a new fill: its own attempts
            # A person's change is filled live; a batch answer for the old inputs, when it
            # comes, is found stale and thrown away.
            "economy": case(
                (
                    or_(
                        current.lane == Lane.INTERACTIVE.value,
                        excluded.lane == Lane.INTERACTIVE.value,
                    ),
                    False,
                ),
                else_=excluded.economy,
            ),
            "batch_id": None,
            "reask": None,
            "trace_context": excluded.trace_context,  # the latest change's request
            # A person's edit to a cell a backfill has queued makes it theirs: interactive.
            "lane": case(
                (
                    or_(
                        current.lane == Lane.INTERACTIVE.value,
                        excluded.lane == Lane.INTERACTIVE.value,
                    ),
                    Lane.INTERACTIVE.value,
                ),
                else_=Lane.BULK.value,
            ),
            "updated_at": excluded.updated_at,
        },
    )


def lane_for(reason: Reason, cells: int) -> Lane:
    """Who waits for fills made for ``reason``: a bulk run and a column change over many rows
    are bulk; an edit, a cell asked for, a column change on a few rows are a person's."""
    if reason == Reason.RUN or (reason == Reason.CONFIG and cells > INTERACTIVE_MAX_CELLS):
        return Lane.BULK
    return Lane.INTERACTIVE


def schedule(
    session: Session,
    workspace_id: str,
    keys: Iterable[tuple[str, str]],
    *,
    delay_s: float,
    reason: Reason,
    force: bool = False,
    run_id: str | None = None,
    lane: Lane | None = None,
    economy: bool = False,
) -> int:
    """Make each (row id, property id) due in ``delay_s`` seconds; returns how many. The lane
    is ``lane``, else what ``reason`` and the number of cells say (``lane_for``). ``economy``:
    filled through a provider's batch interface (bulk only: a person's edit is never)."""
    now = utcnow()
    due_at = now + timedelta(seconds=delay_s)
    keys = list(dict.fromkeys(keys))
    chosen = (lane or lane_for(reason, len(keys))).value
    traced = tracing.current_traceparent()  # None when traces are off
    entries = [
        {
            "row_id": row_id,
            "property_id": property_id,
            "workspace_id": workspace_id,
            "generation": 1,
            "state": WAITING.value,
            "due_at": due_at,
            "force": force,
            "run_id": run_id,
            "reason": reason.value,
            "lane": chosen,
            "economy": economy and chosen == Lane.BULK.value,
            "attempts": 0,
            "reserved_tokens": 0,
            "reserved_usd": 0.0,
            "trace_context": traced,
            "created_at": now,
            "updated_at": now,
        }
        for row_id, property_id in keys
    ]
    if entries:
        # Without autoflush the entries are locked before the cells' own updates go out: every
        # transaction takes row, then outbox entry, then cell locks, so none waits in a cycle.
        # (New rows must be flushed by the caller first: the entries reference them.)
        with session.no_autoflush:
            session.execute(_upsert(session), entries)
        if delay_s <= 0:
            wakeup.notify_due(session)  # a listening dispatcher sends them at commit
    return len(entries)


def schedule_cells(
    session: Session,
    workspace_id: str,
    cells: Iterable[Cell],
    *,
    delay_s: float,
    reason: Reason,
    lane: Lane | None = None,
    economy: bool = False,
) -> int:
    return schedule(
        session,
        workspace_id,
        ((cell.row_id, cell.property_id) for cell in cells),
        delay_s=delay_s,
        reason=reason,
        lane=lane,
        economy=economy,
    )


def schedule_new_column(session: Session, workspace_id: str, prop: Property) -> None:
    """A new auto-update column: one entry per row, in one INSERT ... SELECT, in the bulk
    lane (a backfill: nobody waits for a given row)."""
    now = utcnow()
    rows = select(
        Row.id,
        literal(prop.id),
        literal(workspace_id),
        literal(1),
        literal(WAITING.value),
        literal(now),
        literal(False),
        literal(Reason.CONFIG.value),
        literal(Lane.BULK.value),
        literal(0),
        literal(0),
        literal(0.0),
        literal(tracing.current_traceparent(), String(55)),
        literal(now),
        literal(now),
    ).where(Row.database_id == prop.database_id)
    columns = [
        "row_id",
        "property_id",
        "workspace_id",
        "generation",
        "state",
        "due_at",
        "force",
        "reason",
        "lane",
        "attempts",
        "reserved_tokens",
        "reserved_usd",
        "trace_context",
        "created_at",
        "updated_at",
    ]
    statement: Insert = insert(OutboxEntry).from_select(columns, rows)
    session.execute(statement)
    wakeup.notify_due(session)


def cancel(session: Session, keys: Iterable[tuple[str, str]]) -> None:
    """Drop entries that have not started; a running fill finishes and is judged then."""
    for row_id, property_id in keys:
        with session.no_autoflush:  # entry locks before cell locks, as everywhere
            session.execute(
                delete(OutboxEntry).where(
                    OutboxEntry.row_id == row_id,
                    OutboxEntry.property_id == property_id,
                    OutboxEntry.state != RUNNING.value,
                )
            )
