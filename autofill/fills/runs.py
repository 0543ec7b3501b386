"""Bulk fills of one AI column: what they would cost, starting them, progress, cancelling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from autofill.db import Cell, Database, FillRun, Property, Row, utcnow
from autofill.errors import InvalidInput
from autofill.fills import cell_state, ledger, outbox, run_state
from autofill.fills.spend import Settled, Spend
from autofill.kinds import CellStatus, Outcome, Reason, RunState, Scope
from autofill.llm import ModelRefused, TokenSource, catalogue, source_of
from autofill.prompts import CannotPrepare, prepare_for_row


@dataclass(frozen=True)
class Estimate:
    rows: int
    input_tokens: int
    input_tokens_source: TokenSource  # estimated for models tiktoken cannot count
    output_tokens: int  # a typical answer per row
    max_output_tokens: int  # the answer allowance per row, summed
    cost_usd: float
    max_cost_usd: float
    unfillable: int  # rows whose prompt cannot be built (too large, bad model)
    overridden: int  # rows a person wrote, never included


def _selected(session: Session, prop: Property, scope: Scope) -> list[Cell]:
    statement = select(Cell).where(
        Cell.property_id == prop.id, Cell.status != CellStatus.OVERRIDDEN.value
    )
    if scope == Scope.EMPTY:
        statement = statement.where(Cell.filled_at.is_(None), Cell.value.is_(None))
    elif scope == Scope.STALE:
        statement = statement.where(Cell.status == CellStatus.STALE.value)
    elif scope == Scope.ERROR:
        statement = statement.where(Cell.status == CellStatus.ERROR.value)
    return list(session.scalars(statement.order_by(Cell.row_id)))


def _overridden(session: Session, prop: Property) -> int:
    return len(
        session.scalars(
            select(Cell.row_id).where(
                Cell.property_id == prop.id, Cell.status == CellStatus.OVERRIDDEN.value
            )
        ).all()
    )


def estimate(session: Session, database: Database, prop: Property, scope: Scope) -> Estimate:
    """Build every prompt the run would send (the same code as the fill) and add them up."""
    ai = prop.ai_config()
    names = {p.id: p.name for p in database.properties}
    selected = _selected(session, prop, scope)
    rows = {
        row.id: row
        for row in session.scalars(select(Row).where(Row.id.in_([c.row_id for c in selected])))
    }
    total_in = total_out = total_max_out = unfillable = 0
    cost = max_cost = 0.0
    for cell in selected:
        row = rows[cell.row_id]
        ai_values = {c.property_id: c.value for c in row.cells}
        try:
            prepared = prepare_for_row(ai, names, row.values, row.content, ai_values)
        except CannotPrepare:
            unfillable += 1
            continue
        total_in += prepared.fitted.input_tokens
        total_out += prepared.expected_output
        total_max_out += prepared.reserved_output
        cost += prepared.estimated_cost_usd
        max_cost += prepared.max_cost_usd
    try:
        source = source_of(catalogue().get(ai.model))
    except ModelRefused:
        source = "estimate"
    return Estimate(
        rows=len(selected),
        input_tokens=total_in,
        input_tokens_source=source,
        output_tokens=total_out,
        max_output_tokens=total_max_out,
        cost_usd=round(cost, 6),
        max_cost_usd=round(max_cost, 6),
        unfillable=unfillable,
        overridden=_overridden(session, prop),
    )


def start(session: Session, database: Database, prop: Property, scope: Scope) -> FillRun:
    if prop.ai is None:
        raise InvalidInput.field("property_id", "only AI columns can be filled")
    selected = _selected(session, prop, scope)
    run = run_state.new_run(database.workspace_id, prop.id, scope, len(selected), utcnow())
    session.add(run)
    session.flush()
    # Entries before cells: every transaction takes outbox locks before the events feed's.
    outbox.schedule(
        session,
        database.workspace_id,
        ((cell.row_id, cell.property_id) for cell in selected),
        delay_s=0.0,
        reason=Reason.RUN,
        force=scope == Scope.ALL,
        run_id=run.id,
    )
    for cell in selected:
        cell_state.request_fill(cell)
    session.flush()
    return run


def cancel(session: Session, run: FillRun) -> FillRun:
    """Fills not yet started are dropped and their cells go back to what they were
    (stale when they hold a value); fills under way finish."""
    if view(session, run).state != RunState.RUNNING:
        return run  # ended already (its last cells may not be folded into the row yet)
    for row_id, property_id in outbox.cancel_run(session, run.id):
        cell = session.get(Cell, (row_id, property_id))
        if cell is not None:
            cell_state.cancel(cell)
    # The run's own lock last: fills take their entry's lock, then the run's.
    session.refresh(run, with_for_update=True)
    if run.state == RunState.RUNNING.value:  # a fill may have settled its last cell meanwhile
        run_state.cancel(run, utcnow())
    session.flush()
    return run


_COUNTERS = {
    Outcome.FILLED: Settled(done=1),
    Outcome.FAILED: Settled(failed=1),
    Outcome.UNCHANGED: Settled(skipped=1),
    Outcome.OVERRIDDEN: Settled(skipped=1),
    Outcome.GONE: Settled(skipped=1),
}


def settle(session: Session, workspace_id: str, run_id: str, outcome: Outcome) -> None:
    """One cell of the run is settled: appended to the ledger, not added to the run's row, so
    the fills of a bulk run do not queue on that row's lock."""
    settled = _COUNTERS.get(outcome)
    if settled is not None:
        ledger.append(session, workspace_id, run_id=run_id, settled=settled)


@dataclass(frozen=True)
class RunView:
    """A run as readers see it: its row plus its ledger entries not yet folded."""

    run: FillRun
    state: RunState
    spend: Spend
    settled: Settled
    finished_at: datetime | None


def view(session: Session, run: FillRun) -> RunView:
    totals = ledger.run_totals(session, run)
    state, finished_at = run_state.as_seen(run, totals.settled, totals.last_at, utcnow())
    return RunView(run, state, totals.spend, totals.settled, finished_at)
