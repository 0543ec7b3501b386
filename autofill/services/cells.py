"""A person and one AI cell: writing their own value, handing it back to the AI, asking for a
fill now. Each schedules what the change makes due; the cell's moves are autofill.fills.
cell_state's, what a changed value does to its readers autofill.fills.changes'."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from autofill.db import Cell, Database, Property, Row
from autofill.errors import Conflict, InvalidInput
from autofill.fills import cell_state, changes, outbox
from autofill.kinds import CellStatus, PropertyType, Reason
from autofill.values import validate_value


def override(
    session: Session,
    database: Database,
    row: Row,
    prop: Property,
    cell: Cell,
    value: Any,
    *,
    debounce_s: float,
) -> None:
    """A person writes the cell: it becomes theirs until reset; the columns that read it are
    due."""
    output = prop.ai_config().output
    try:
        stored = validate_value(output.type, value, output.options)
    except ValueError as exc:
        raise InvalidInput.field("value", str(exc)) from None
    if cell_state.override(cell, stored):
        _readers_due(session, database, row, prop, debounce_s)


def reset(
    session: Session,
    database: Database,
    row: Row,
    prop: Property,
    cell: Cell,
    *,
    debounce_s: float,
) -> None:
    """Hand an overridden cell back to the AI (any other cell is left as it is)."""
    if cell_state.reset(cell, prop.ai_config().auto_update):
        _readers_due(session, database, row, prop, debounce_s)
    if cell.status == CellStatus.PENDING.value:
        outbox.schedule_cells(
            session, database.workspace_id, [cell], delay_s=debounce_s, reason=Reason.EDIT
        )


def request_fill(session: Session, workspace_id: str, row: Row, prop: Property, cell: Cell) -> None:
    """Fill one cell now, even when its value is up to date (a retry, a refill on request)."""
    if cell_state.is_overridden(cell):
        raise Conflict(
            "a person wrote this cell; reset it (DELETE) to hand it back to the AI",
            {"property_id": "the cell is overridden"},
        )
    outbox.schedule(
        session, workspace_id, [(row.id, prop.id)], delay_s=0.0, reason=Reason.REQUEST, force=True
    )
    cell_state.request_fill(cell)


def _readers_due(
    session: Session, database: Database, row: Row, prop: Property, debounce_s: float
) -> None:
    """The cell's value is an input of the AI columns that read it."""
    readers = [p for p in database.properties if p.type == PropertyType.AI.value]
    due = changes.mark_dependents_changed(row, prop, readers)
    outbox.schedule_cells(
        session, database.workspace_id, due, delay_s=debounce_s, reason=Reason.EDIT
    )
