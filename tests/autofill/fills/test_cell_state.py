"""Cell state transitions: what each may leave, and that a person's cell stays theirs."""

from __future__ import annotations

import pytest

from autofill.db.models import Cell
from autofill.fills import cell_state
from autofill.fills.cell_state import CellStateError
from autofill.kinds import CellStatus, ErrorCode


def _cell(status: CellStatus, value: object = None) -> Cell:
    return Cell(row_id="row_1", property_id="prop_1", status=status.value, value=value)


def _succeed(cell: Cell) -> None:
    cell_state.succeed(
        cell,
        "Résumé.",
        prompt_version="v1",
        model="sim:sim-1",
        input_hash="h",
        tokens_in=10,
        tokens_out=2,
        cost_usd=0.0001,
        truncated=False,
    )


def test_a_fill_goes_pending_then_filled_with_its_provenance() -> None:
    cell = _cell(CellStatus.EMPTY)
    cell_state.request_fill(cell)
    assert cell.status == CellStatus.PENDING.value
    _succeed(cell)
    assert (cell.status, cell.value, cell.model) == ("filled", "Résumé.", "sim:sim-1")
    assert cell.filled_at is not None


@pytest.mark.parametrize(
    "move",
    [
        cell_state.request_fill,
        cell_state.confirm,
        _succeed,
        lambda cell: cell_state.fail(cell, "boom", ErrorCode.PROVIDER_ERROR),
        lambda cell: cell_state.park(cell, "budget"),
    ],
)
def test_nothing_but_override_and_reset_leaves_an_overridden_cell(move: object) -> None:
    cell = _cell(CellStatus.OVERRIDDEN, "Mine.")
    with pytest.raises(CellStateError, match="cannot leave overridden"):
        move(cell)  # type: ignore[operator]
    assert (cell.status, cell.value) == ("overridden", "Mine.")


def test_quiet_transitions_leave_other_states_alone() -> None:
    overridden = _cell(CellStatus.OVERRIDDEN, "Mine.")
    assert cell_state.mark_stale(overridden) is False
    cell_state.cancel(overridden)
    assert cell_state.unpark(overridden) is False
    assert overridden.status == CellStatus.OVERRIDDEN.value
    filled = _cell(CellStatus.FILLED, "x")
    assert cell_state.reset(filled, auto_update=True) is False and filled.value == "x"


def test_cancel_goes_back_to_what_the_cell_was() -> None:
    held, blank = _cell(CellStatus.PENDING, "old"), _cell(CellStatus.PENDING)
    cell_state.cancel(held)
    cell_state.cancel(blank)
    assert (held.status, blank.status) == ("stale", "empty")


def test_override_then_reset_hands_the_cell_back() -> None:
    cell = _cell(CellStatus.FILLED, "AI's.")
    _succeed(cell)
    assert cell_state.override(cell, "Mine.") is True
    assert (cell.status, cell.model, cell.filled_at) == ("overridden", None, None)
    assert cell_state.reset(cell, auto_update=True) is True
    assert (cell.status, cell.value) == ("pending", None)


def test_a_parked_cell_is_due_again_when_unparked() -> None:
    cell = _cell(CellStatus.PENDING)
    cell_state.park(cell, "budget spent")
    assert (cell.status, cell.error_code) == ("error", ErrorCode.BUDGET_EXHAUSTED)
    assert cell_state.unpark(cell) is True and cell.status == "pending" and cell.error is None
