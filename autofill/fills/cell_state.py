"""The one owner of an AI cell's state: every change of ``cell.status`` is a transition here.

    empty ─request─▶ pending ─succeed/confirm─▶ filled ─inputs changed─▶ pending (auto-update)
      ▲                 │  ╲                      │                       or stale (not)
      └──── cancel ─────┘   fail/park ─▶ error ◀──┘
    any ─override─▶ overridden ─reset─▶ empty or pending

An ``overridden`` cell belongs to the person who wrote it: no transition but ``override`` and
``reset`` may leave it, and asking another to is a programming error (``CellStateError``), not
a silent no-op. The value stays visible while a refill is pending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from autofill.db import Cell, Property, Row, utcnow
from autofill.kinds import CellStatus, ErrorCode


class CellStateError(Exception):
    """A transition asked of a cell in a state it may not leave that way."""


def _leave(cell: Cell, transition: str, allowed: tuple[CellStatus, ...] | None = None) -> None:
    status = CellStatus(cell.status)
    if allowed is None:
        allowed = tuple(s for s in CellStatus if s != CellStatus.OVERRIDDEN)
    if status not in allowed:
        raise CellStateError(f"{transition}: a cell cannot leave {status.value} that way")


def initial(auto_update: bool) -> CellStatus:
    """A new cell (a new row, a new column, a person's value handed back): due at once when its
    column updates by itself, else empty until someone asks."""
    return CellStatus.PENDING if auto_update else CellStatus.EMPTY


def new_cell(row_id: str, prop_id: str, auto_update: bool) -> Cell:
    return Cell(row_id=row_id, property_id=prop_id, status=initial(auto_update).value)


def add_column_cells(session: Session, prop: Property, auto_update: bool) -> None:
    """Give every existing row a cell for a new AI column, in one INSERT ... SELECT."""
    rows = select(
        Row.id, literal(prop.id), literal(initial(auto_update).value), literal(utcnow())
    ).where(Row.database_id == prop.database_id)
    session.execute(
        insert(Cell).from_select(["row_id", "property_id", "status", "updated_at"], rows)
    )


def request_fill(cell: Cell) -> None:
    """A fill is due (an edit, a request, a bulk run, a budget raised): pending, its old value
    still shown, its old error gone."""
    _leave(cell, "request_fill")
    cell.status = CellStatus.PENDING.value
    cell.error = cell.error_code = None


def mark_stale(cell: Cell) -> bool:
    """Its inputs or its column changed and it does not refill by itself: a filled or failed
    cell no longer reflects them. True if it moved."""
    if cell.status in (CellStatus.FILLED.value, CellStatus.ERROR.value):
        cell.status = CellStatus.STALE.value
        return True
    return False


def cancel(cell: Cell) -> None:
    """A due fill is dropped before it started: back to what it was (stale when it was ever
    filled or holds a value, else empty)."""
    if cell.status != CellStatus.PENDING.value:
        return
    held = cell.filled_at is not None or cell.value is not None
    cell.status = (CellStatus.STALE if held else CellStatus.EMPTY).value


def succeed(
    cell: Cell,
    value: Any,
    *,
    prompt_version: str,
    model: str,
    input_hash: str,
    tokens_in: int,
    tokens_out: int,
    cost_usd: float,
    truncated: bool,
) -> None:
    """A fill's answer becomes the value, with its provenance."""
    _leave(cell, "succeed")
    cell.value = value
    cell.status = CellStatus.FILLED.value
    cell.error = cell.error_code = None
    cell.prompt_version = prompt_version
    cell.model = model
    cell.input_hash = input_hash
    cell.tokens_in, cell.tokens_out = tokens_in, tokens_out
    cell.cost_usd = cost_usd
    cell.truncated = truncated
    cell.filled_at = utcnow()


def confirm(cell: Cell) -> None:
    """The value is already the answer for these inputs and this prompt: filled, no call."""
    _leave(cell, "confirm")
    cell.status = CellStatus.FILLED.value
    cell.error = cell.error_code = None


def fail(cell: Cell, message: str, code: ErrorCode) -> None:
    """The fill failed: the cell says why; its last value stays."""
    _leave(cell, "fail")
    cell.status = CellStatus.ERROR.value
    cell.error, cell.error_code = message, code


def park(cell: Cell, message: str) -> None:
    """The workspace's budget is spent: the fill waits, and the cell says so."""
    fail(cell, message, ErrorCode.BUDGET_EXHAUSTED)


def unpark(cell: Cell) -> bool:
    """The budget changed: a cell parked for it is due again. True if it was parked."""
    if cell.error_code != ErrorCode.BUDGET_EXHAUSTED:
        return False
    request_fill(cell)
    return True


def override(cell: Cell, value: Any, now: datetime | None = None) -> bool:
    """A person writes the cell: it becomes theirs until reset. True if the value changed."""
    changed = bool(value != cell.value)
    cell.value = value
    cell.status = CellStatus.OVERRIDDEN.value
    cell.error = cell.error_code = None
    cell.overridden_at = now or utcnow()
    _clear_provenance(cell)
    return changed


def reset(cell: Cell, auto_update: bool) -> bool:
    """Hand an overridden cell back to the AI; any other cell is left as it is.
    True if the value changed."""
    if cell.status != CellStatus.OVERRIDDEN.value:
        return False
    changed = cell.value is not None
    cell.value = None
    cell.status = initial(auto_update).value
    cell.overridden_at = None
    _clear_provenance(cell)
    return changed


def is_overridden(cell: Cell) -> bool:
    return cell.status == CellStatus.OVERRIDDEN.value


def _clear_provenance(cell: Cell) -> None:
    cell.prompt_version = cell.model = cell.input_hash = None
    cell.tokens_in = cell.tokens_out = None
    cell.cost_usd = None
    cell.truncated = None
    cell.filled_at = None
