"""What a change does to AI cells: a row written, an AI value changed, a column's configuration
changed. Each returns the cells now due for a fill; the moves themselves are cell_state's.

- a cell whose inputs changed goes ``pending`` when its column auto-updates, else ``stale``;
- an ``overridden`` cell belongs to the person who wrote it and is never touched here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from autofill.columns import AIConfig
from autofill.db import Cell, Property, Row
from autofill.fills import cell_state
from autofill.kinds import CONTENT_INPUT, CellStatus


def input_hash(
    ai: AIConfig, values: dict[str, Any], content: str, ai_values: dict[str, Any]
) -> str:
    """SHA-256 over the column's inputs and configuration as canonical JSON: equal inputs to the
    same prompt, equal hash. (``auto_update`` says when to fill, not what, so it is left out.)"""
    snapshot: dict[str, Any] = {"@config": ai.model_dump(mode="json", exclude={"auto_update"})}
    for input_id in ai.inputs:
        if input_id == CONTENT_INPUT:
            snapshot[input_id] = content
        elif input_id in ai_values:
            snapshot[input_id] = ai_values[input_id]
        else:
            snapshot[input_id] = values.get(input_id)
    encoded = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def mark_inputs_changed(
    row: Row,
    ai_properties: Iterable[Property],
    before_values: dict[str, Any],
    before_content: str,
) -> list[Cell]:
    """After a row write, move the cells whose inputs changed; return those now due for a fill
    (pending ones included: a new save restarts their debounce)."""
    cells = {cell.property_id: cell for cell in row.cells}
    due = []
    for prop in ai_properties:
        cell = cells.get(prop.id)
        if cell is None or prop.ai is None:
            continue
        changed = _inputs_changed(prop.ai, cells, before_values, before_content, row)
        if changed and _move_for_change(cell, prop.ai):
            due.append(cell)
    return due


def _inputs_changed(
    ai: AIConfig,
    cells: dict[str, Cell],
    before_values: dict[str, Any],
    before_content: str,
    row: Row,
) -> bool:
    """Whether ``input_hash`` before and after the write would differ, without hashing: the
    column's configuration and the AI values are the same on both sides, so the hashes differ
    exactly when one input's canonical JSON does. Hashing both sides hashed the page twice
    per AI column on every save, even a save of a property no column reads (with 5 columns
    and a 100 KB page, most of a PATCH's instructions: bench.api_steps --wide)."""
    for input_id in ai.inputs:
        if input_id == CONTENT_INPUT:
            if row.content != before_content:  # both str: equal exactly when their JSON is
                return True
        elif input_id not in cells and _canonical(row.values.get(input_id)) != _canonical(
            before_values.get(input_id)
        ):
            return True
    return False


def _canonical(value: Any) -> str:
    # As input_hash encodes it: 1 and 1.0, or 1 and true, are different inputs.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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
        and prop.ai.reads(changed.id)
        and prop.id in cells
        and _move_for_change(cells[prop.id], prop.ai)
    ]


def mark_config_changed(session: Session, prop: Property, ai: AIConfig) -> list[Cell]:
    """A new prompt or model: values no longer reflect the column. With auto-update every cell
    the AI owns is due again (values stay visible meanwhile); without, filled and failed cells
    turn stale. Returns the cells due for a fill."""
    due = []
    for cell in session.scalars(
        select(Cell).where(Cell.property_id == prop.id, Cell.status != CellStatus.OVERRIDDEN.value)
    ):
        if ai.auto_update:
            cell_state.request_fill(cell)
            due.append(cell)
        else:
            cell_state.mark_stale(cell)
    return due


def auto_update_toggled(
    session: Session, prop: Property, ai: AIConfig
) -> tuple[list[Cell], list[Cell]]:
    """Turned on: empty and stale cells are due. Turned off: fills not started are dropped.
    Returns (cells now due, cells whose due fill was dropped)."""
    due: list[Cell] = []
    dropped: list[Cell] = []
    for cell in session.scalars(select(Cell).where(Cell.property_id == prop.id)):
        status = CellStatus(cell.status)
        if ai.auto_update and status in (CellStatus.EMPTY, CellStatus.STALE):
            cell_state.request_fill(cell)
            due.append(cell)
        elif not ai.auto_update and status == CellStatus.PENDING:
            cell_state.cancel(cell)
            dropped.append(cell)
    return due, dropped


def _move_for_change(cell: Cell, ai: AIConfig) -> bool:
    """Move one cell for new inputs; True when it is now due for a fill."""
    if cell_state.is_overridden(cell):
        return False
    if ai.auto_update:
        cell_state.request_fill(cell)
        return True
    cell_state.mark_stale(cell)
    return False
