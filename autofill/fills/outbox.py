"""Recording due fills in the same transaction as the change that made them due.

One entry per cell (primary key row, property). Scheduling a cell that already has an entry
bumps its ``generation`` and moves ``due_at``: a burst of saves costs one fill (the debounce),
and a fill started for an older generation knows its result is out of date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Insert, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from autofill.db.models import Cell, FillJob, Property, Row
from autofill.db.types import utcnow
from autofill.kinds import EntryState, Reason


def _upsert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(FillJob)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[FillJob.row_id, FillJob.property_id],
        set_={
            "generation": FillJob.generation + 1,
            "due_at": excluded.due_at,
            "state": EntryState.WAITING.value,
            "force": or_(FillJob.force, excluded.force),
            "run_id": func.coalesce(excluded.run_id, FillJob.run_id),
            "reason": excluded.reason,
            "updated_at": excluded.updated_at,
        },
    )


def schedule(
    session: Session,
    workspace_id: str,
    keys: Iterable[tuple[str, str]],
    *,
    delay_s: float,
    reason: Reason,
    force: bool = False,
    run_id: str | None = None,
) -> int:
    """Make each (row id, property id) due in ``delay_s`` seconds; returns how many."""
    now = utcnow()
    due_at = now + timedelta(seconds=delay_s)
    entries = [
        {
            "row_id": row_id,
            "property_id": property_id,
            "workspace_id": workspace_id,
            "generation": 1,
            "state": EntryState.WAITING.value,
            "due_at": due_at,
            "force": force,
            "run_id": run_id,
            "reason": reason.value,
            "attempts": 0,
            "reserved_tokens": 0,
            "reserved_usd": 0.0,
            "created_at": now,
            "updated_at": now,
        }
        for row_id, property_id in dict.fromkeys(keys)
    ]
    if entries:
        # Without autoflush the entries are locked before the cells' own updates go out: every
        # transaction takes row, then outbox entry, then cell locks, so none waits in a cycle.
        # (New rows must be flushed by the caller first: the entries reference them.)
        with session.no_autoflush:
            session.execute(_upsert(session), entries)
    return len(entries)


def schedule_cells(
    session: Session, workspace_id: str, cells: Iterable[Cell], *, delay_s: float, reason: Reason
) -> int:
    return schedule(
        session,
        workspace_id,
        ((cell.row_id, cell.property_id) for cell in cells),
        delay_s=delay_s,
        reason=reason,
    )


def schedule_new_column(session: Session, workspace_id: str, prop: Property) -> None:
    """A new auto-update column: one entry per row, in one INSERT ... SELECT."""
    now = utcnow()
    rows = select(
        Row.id,
        literal(prop.id),
        literal(workspace_id),
        literal(1),
        literal(EntryState.WAITING.value),
        literal(now),
        literal(False),
        literal(Reason.CONFIG.value),
        literal(0),
        literal(0),
        literal(0.0),
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
        "attempts",
        "reserved_tokens",
        "reserved_usd",
        "created_at",
        "updated_at",
    ]
    statement: Insert = insert(FillJob).from_select(columns, rows)
    session.execute(statement)


def cancel(session: Session, keys: Iterable[tuple[str, str]]) -> None:
    """Drop entries that have not started; a running fill finishes and is judged then."""
    for row_id, property_id in keys:
        with session.no_autoflush:  # entry locks before cell locks, as everywhere
            session.execute(
                delete(FillJob).where(
                    FillJob.row_id == row_id,
                    FillJob.property_id == property_id,
                    FillJob.state != EntryState.RUNNING.value,
                )
            )


def unblock_row(session: Session, row_id: str) -> None:
    """A fill of this row finished: cells that waited for it may go now."""
    session.execute(
        update(FillJob)
        .where(FillJob.row_id == row_id, FillJob.state == EntryState.BLOCKED.value)
        .values(state=EntryState.WAITING.value)
    )
