"""AI cell state: what a row write or a column change does to cells, and a person's overrides.

The rules (see PRODUCT.md, "zones of influence"):
- a cell whose inputs changed goes ``pending`` when its column auto-updates, else ``stale``;
- an ``overridden`` cell belongs to the person who wrote it and is never touched here;
- the value stays visible while a refill is pending.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from autofill.db.models import Cell, Property, Row
from autofill.db.types import utcnow
from autofill.errors import InvalidInput
from autofill.kinds import CONTENT_INPUT, CellStatus
from autofill.values import validate_value


def initial_status(prop: Property) -> CellStatus:
    assert prop.ai is not None
    return CellStatus.PENDING if prop.ai["auto_update"] else CellStatus.EMPTY


def input_hash(
    prop: Property, values: dict[str, Any], content: str, ai_values: dict[str, Any]
) -> str:
    """SHA-256 over the column's inputs and configuration as canonical JSON: equal inputs to the
    same prompt, equal hash. (``auto_update`` says when to fill, not what, so it is left out.)"""
    assert prop.ai is not None
    config = {key: value for key, value in prop.ai.items() if key != "auto_update"}
    snapshot: dict[str, Any] = {"@config": config}
    for input_id in prop.ai["inputs"]:
        if input_id == CONTENT_INPUT:
            snapshot[input_id] = content
        elif input_id in ai_values:
            snapshot[input_id] = ai_values[input_id]
        else:
            snapshot[input_id] = values.get(input_id)
    encoded = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def cells_for_new_row(row: Row, ai_properties: Iterable[Property]) -> list[Cell]:
    return [
        Cell(row_id=row.id, property_id=prop.id, status=initial_status(prop).value)
        for prop in ai_properties
    ]


def add_column_cells(session: Session, prop: Property) -> None:
    """Give every existing row a cell for a new AI column, in one INSERT ... SELECT."""
    now = utcnow()
    rows = select(
        Row.id, literal(prop.id), literal(initial_status(prop).value), literal(now)
    ).where(Row.database_id == prop.database_id)
    session.execute(
        insert(Cell).from_select(["row_id", "property_id", "status", "updated_at"], rows)
    )


def mark_inputs_changed(
    row: Row,
    ai_properties: Iterable[Property],
    before_values: dict[str, Any],
    before_content: str,
) -> list[Cell]:
    """After a row write, move the cells whose inputs changed; return those now due for a fill
    (pending ones included: a new save restarts their debounce)."""
    cells = {cell.property_id: cell for cell in row.cells}
    ai_values = {pid: cell.value for pid, cell in cells.items()}
    due = []
    for prop in ai_properties:
        cell = cells.get(prop.id)
        if cell is None:
            continue
        old = input_hash(prop, before_values, before_content, ai_values)
        new = input_hash(prop, row.values, row.content, ai_values)
        if old != new and _move_for_change(cell, prop):
            due.append(cell)
    return due


def mark_dependents_changed(
    row: Row, changed: Property, ai_properties: Iterable[Property]
) -> list[Cell]:
    """An AI cell's value changed (a fill, or a person's override or reset): the columns that
    read it now have new inputs. Returns the cells now due for a fill."""
    cells = {cell.property_id: cell for cell in row.cells}
    return [
        cells[prop.id]
        for prop in ai_properties
        if prop.ai is not None
        and changed.id in prop.ai["inputs"]
        and prop.id in cells
        and _move_for_change(cells[prop.id], prop)
    ]


def mark_config_changed(session: Session, prop: Property) -> list[Cell]:
    """A new prompt or model: values no longer reflect the column. With auto-update every cell
    the AI owns is due again (values stay visible meanwhile); without, filled and failed cells
    turn stale. Returns the cells due for a fill."""
    assert prop.ai is not None
    due = []
    for cell in session.scalars(
        select(Cell).where(Cell.property_id == prop.id, Cell.status != CellStatus.OVERRIDDEN.value)
    ):
        if prop.ai["auto_update"]:
            cell.status = CellStatus.PENDING.value
            cell.error = cell.error_code = None
            due.append(cell)
        elif cell.status in (CellStatus.FILLED.value, CellStatus.ERROR.value):
            cell.status = CellStatus.STALE.value
    return due


def _move_for_change(cell: Cell, prop: Property) -> bool:
    """Move one cell for new inputs; True when it is now due for a fill."""
    assert prop.ai is not None
    status = CellStatus(cell.status)
    if status == CellStatus.OVERRIDDEN:
        return False
    if prop.ai["auto_update"]:
        cell.status = CellStatus.PENDING.value
        cell.error = cell.error_code = None
        return True
    if status in (CellStatus.FILLED, CellStatus.ERROR):
        cell.status = CellStatus.STALE.value
    return False


def override(cell: Cell, prop: Property, value: Any) -> bool:
    """A person writes the cell: it becomes theirs until reset. True if the value changed."""
    assert prop.ai is not None
    output = prop.ai["output"]
    try:
        stored = validate_value(output["type"], value, output.get("options"))
    except ValueError as exc:
        raise InvalidInput.field("value", str(exc)) from None
    changed = bool(stored != cell.value)
    cell.value = stored
    cell.status = CellStatus.OVERRIDDEN.value
    cell.error = cell.error_code = None
    cell.overridden_at = utcnow()
    _clear_provenance(cell)
    return changed


def reset(cell: Cell, prop: Property) -> bool:
    """Hand an overridden cell back to the AI; any other cell is left as it is.
    True if the value changed."""
    if cell.status != CellStatus.OVERRIDDEN.value:
        return False
    changed = cell.value is not None
    cell.value = None
    cell.status = initial_status(prop).value
    cell.overridden_at = None
    _clear_provenance(cell)
    return changed


def _clear_provenance(cell: Cell) -> None:
    cell.prompt_version = cell.model = cell.input_hash = None
    cell.tokens_in = cell.tokens_out = None
    cell.cost_usd = None
    cell.truncated = None
    cell.filled_at = None
