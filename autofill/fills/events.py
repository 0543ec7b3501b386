"""The feed of cell changes behind ``GET /v1/databases/{id}/events``.

Every change of an AI cell's status, value or error becomes a row of ``cell_events`` in the
same transaction as the change, written by a session hook, so no code path can change a cell
without the stream hearing of it (an explicit call per path would be forgotten by the next
one). Readers see events by ``position``, given after commit in commit order (``stamp``), so
``Last-Event-ID`` resumption misses nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, inspect, select, text, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.util import identity_key

from autofill.db import Cell, CellEvent, Property, utcnow
from autofill.fills import wakeup

_WATCHED = ("status", "value", "error")


def cell_data(cell: Cell) -> dict[str, Any]:
    """What an event says of a cell: enough for a table view to redraw it."""
    return {
        "row_id": cell.row_id,
        "property_id": cell.property_id,
        "status": cell.status,
        "value": cell.value,
        "error": cell.error,
        "error_code": cell.error_code,
        "model": cell.model,
        "prompt_version": cell.prompt_version,
        "tokens_in": cell.tokens_in,
        "tokens_out": cell.tokens_out,
        "cost_usd": cell.cost_usd,
        "truncated": cell.truncated,
        "filled_at": _iso(cell.filled_at),
    }


def record_cell_events(session: Session, _flush: UOWTransaction) -> None:
    """``after_flush`` hook: one event per new or changed cell in this flush."""
    changed = [
        obj
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, Cell) and (obj in session.new or _watched_changed(obj))
    ]
    if not changed:
        return
    connection = session.connection()
    databases = _databases_of(session, {cell.property_id for cell in changed})
    now = utcnow()
    entries: list[dict[str, Any]] = [
        {
            "database_id": databases[cell.property_id],
            "row_id": cell.row_id,
            "property_id": cell.property_id,
            "status": cell.status,
            "data": cell_data(cell),
            "created_at": now,
        }
        for cell in changed
        if cell.property_id in databases
    ]
    if entries:
        connection.execute(insert(CellEvent), entries)
        # The event hubs stamp and deliver them at commit.
        wakeup.notify_events(connection, {entry["database_id"] for entry in entries})


def _databases_of(session: Session, property_ids: set[str]) -> dict[str, str]:
    """Each column's database: from the session when it holds the column already (a fill
    does), else one query. A flush hook must not load through the session, so it asks the
    connection."""
    found: dict[str, str] = {}
    for property_id in property_ids:
        loaded = session.identity_map.get(identity_key(Property, property_id))
        if isinstance(loaded, Property) and "database_id" in loaded.__dict__:
            found[property_id] = loaded.database_id
    missing = property_ids - found.keys()
    if missing:
        rows = session.connection().execute(
            select(Property.id, Property.database_id).where(Property.id.in_(missing))
        )
        found.update((property_id, database_id) for property_id, database_id in rows)
    return found


def _watched_changed(cell: Cell) -> bool:
    state = inspect(cell)
    return any(state.attrs[name].history.has_changes() for name in _WATCHED)


def record_new_column(session: Session, prop: Property) -> None:
    """A new AI column's cells were inserted in bulk (no ORM objects): announce them too."""
    now = utcnow()
    cells = session.scalars(select(Cell).where(Cell.property_id == prop.id)).all()
    entries = [
        {
            "database_id": prop.database_id,
            "row_id": cell.row_id,
            "property_id": cell.property_id,
            "status": cell.status,
            "data": cell_data(cell),
            "created_at": now,
        }
        for cell in cells
    ]
    if entries:
        session.execute(insert(CellEvent), entries)
        wakeup.notify_events(session.connection(), [prop.database_id])


def record_run_event(session: Session, database_id: str, data: dict[str, Any]) -> None:
    """A bulk run's progress (an economy run's batches moving at the provider), in the same
    feed as its cells', so a stream hears of it in order. ``data["event"]`` is ``run``."""
    session.execute(
        insert(CellEvent),
        [
            {
                "database_id": database_id,
                "row_id": data["run_id"],
                "property_id": data["property_id"],
                "status": "run",
                "data": data,
                "created_at": utcnow(),
            }
        ],
    )
    wakeup.notify_events(session.connection(), [database_id])


# Any constant works; it names the one lock stampers take so they run one at a time.
_STAMP_LOCK = 0x41F1_0005
# Positions count per database (issue 24): a stream's ids and Last-Event-ID say how many
# changes this database has seen, nothing about any other workspace's. Each database's new
# events follow its own last position, in id order (the window numbers a database's unstamped
# events before the LIMIT keeps the first ones by id, so each database's batch is 1..k).
_STAMP_PG = text(
    """
    UPDATE cell_events SET position = numbered.base + numbered.rn
    FROM (
        SELECT e.id,
               row_number() OVER (PARTITION BY e.database_id ORDER BY e.id) AS rn,
               (SELECT coalesce(max(p.position), 0) FROM cell_events p
                WHERE p.database_id = e.database_id) AS base
        FROM cell_events e WHERE e.position IS NULL ORDER BY e.id LIMIT :limit
    ) AS numbered
    WHERE cell_events.id = numbered.id
    """
)


def _stamp_sqlite(session: Session, limit: int) -> int:
    # SQLite runs one writer at a time, so insert order is commit order: number each
    # database's unstamped events by id after its last position.
    waiting = session.execute(
        select(CellEvent.id, CellEvent.database_id)
        .where(CellEvent.position.is_(None))
        .order_by(CellEvent.id)
        .limit(limit)
    ).all()
    if not waiting:
        return 0
    databases = {database_id for _, database_id in waiting}
    last: dict[str, int] = {
        database_id: int(position or 0)
        for database_id, position in session.execute(
            select(CellEvent.database_id, func.max(CellEvent.position))
            .where(CellEvent.database_id.in_(databases))
            .group_by(CellEvent.database_id)
        )
    }
    positions = []
    for event_id, database_id in waiting:
        last[database_id] = last.get(database_id, 0) + 1
        positions.append({"event_id": event_id, "new_position": last[database_id]})
    table = CellEvent.__table__
    assert isinstance(table, Table)
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("event_id"))
        .values(position=bindparam("new_position")),
        positions,
    )
    return len(positions)


def stamp(session: Session, limit: int = 10_000, *, wait: bool = False) -> int:
    """Give committed events their positions. Call in its own short transaction: the stamp
    commits before any later stamp runs, so positions become visible in increasing order.

    ``wait``: queue behind a stamper at work instead of leaving it to that one. The event hub
    waits, because the events it was told of may have committed after that stamper's snapshot;
    pollers do not, as their next poll catches up."""
    if session.get_bind().dialect.name == "postgresql":
        if wait:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _STAMP_LOCK})
        elif not session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _STAMP_LOCK}
        ):
            return 0  # another stamper is at it; its positions will do
        result = session.execute(_STAMP_PG, {"limit": limit})
        return int(getattr(result, "rowcount", 0) or 0)
    return _stamp_sqlite(session, limit)


def events_after(
    session: Session, database_id: str, after: int, limit: int = 500
) -> list[CellEvent]:
    return list(
        session.scalars(
            select(CellEvent)
            .where(CellEvent.database_id == database_id, CellEvent.position > after)
            .order_by(CellEvent.position)
            .limit(limit)
        )
    )


def last_position(session: Session, database_id: str) -> int:
    found = session.scalar(
        select(func.max(CellEvent.position)).where(CellEvent.database_id == database_id)
    )
    return int(found or 0)


def prune(session: Session, older_than: timedelta) -> int:
    result = session.execute(delete(CellEvent).where(CellEvent.created_at < utcnow() - older_than))
    return int(getattr(result, "rowcount", 0) or 0)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
