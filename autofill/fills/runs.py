"""Bulk fills of one AI column: what they would cost, starting them, progress, cancelling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from autofill.db import Cell, Database, FillRun, Property, Row, utcnow
from autofill.errors import InvalidInput
from autofill.fills import cell_state, ledger, outbox, run_state
from autofill.fills.spend import Settled, Spend
from autofill.kinds import CellStatus, FillMode, Outcome, Reason, RunState, Scope
from autofill.llm import ModelRefused, TokenSource, catalogue, prompt_tokens, source_of
from autofill.prompts import CannotPrepare, Prepared, prepare_for_row

# Where a model's minimum cacheable prompt is not published: the most common figure (OpenAI's
# 1,024 tokens; Anthropic's Sonnet and Opus models).
DEFAULT_MIN_CACHEABLE = 1024


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
    economy: EconomyEstimate | None = None  # None: this model has no batch interface
    economy_unavailable: str | None = None  # why, when it has none


@dataclass(frozen=True)
class EconomyEstimate:
    """The same run through the provider's batch interface."""

    cost_usd: float  # at the batch price, with the cached share read from the prompt cache
    max_cost_usd: float
    cost_without_cache_usd: float  # should no request read the cache (hits are best effort)
    discount: float  # off the list price
    cached_share: float  # of the prompt tokens: the static prefix repeated after the first row
    window_hours: float  # every batch ends by then (expired past it)
    typical_hours: float  # what the provider says most batches take
    expected_by: datetime
    latest_by: datetime


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
    total_in = total_out = total_max_out = unfillable = cached = 0
    cost = max_cost = cached_cost = cached_max = 0.0
    memo: dict[str, int] = {}
    counted = 0  # prompts built so far: the first one writes the cache, the rest read it
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
        # The static prefix (instructions, examples) is read from the prompt cache after the
        # first request, when it is long enough for the provider to cache it.
        info = prepared.model_info
        prefix = _cacheable_prefix(prepared, memo) if counted else 0
        counted += 1
        inputs = prepared.fitted.input_tokens
        cached += prefix
        cached_cost += info.cost(inputs, prepared.expected_output, prefix)
        cached_max += info.cost(inputs, prepared.reserved_output, prefix)
    try:
        source = source_of(catalogue().get(ai.model))
    except ModelRefused:
        source = "estimate"
    refusal = economy_refusal(ai.model)
    economy = None
    if refusal is None:
        info = catalogue().get(ai.model)
        limits = catalogue().batch_limits(info.provider)
        assert limits is not None and info.batch_discount is not None
        price = 1.0 - info.batch_discount
        now = utcnow()
        economy = EconomyEstimate(
            cost_usd=round(cached_cost * price, 6),
            max_cost_usd=round(cached_max * price, 6),
            cost_without_cache_usd=round(cost * price, 6),
            discount=info.batch_discount,
            cached_share=round(cached / total_in, 4) if total_in else 0.0,
            window_hours=limits.window_hours,
            typical_hours=limits.typical_hours,
            expected_by=now + timedelta(hours=limits.typical_hours),
            latest_by=now + timedelta(hours=limits.window_hours),
        )
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
        economy=economy,
        economy_unavailable=refusal,
    )


def _cacheable_prefix(prepared: Prepared, memo: dict[str, int]) -> int:
    """Prompt tokens up to the end of the static prefix, if the model caches that many."""
    messages = prepared.request.messages
    ends = [i for i, message in enumerate(messages) if message.cache_boundary]
    if not ends:
        return 0
    info = prepared.model_info
    tokens = prompt_tokens(messages[: ends[-1] + 1], info, prepared.request.output, memo)
    return tokens if tokens >= (info.min_cacheable_tokens or DEFAULT_MIN_CACHEABLE) else 0


def start(
    session: Session,
    database: Database,
    prop: Property,
    scope: Scope,
    mode: FillMode = FillMode.NOW,
) -> FillRun:
    if prop.ai is None:
        raise InvalidInput.field("property_id", "only AI columns can be filled")
    if mode == FillMode.ECONOMY:
        refusal = economy_refusal(prop.ai.model)
        if refusal is not None:
            raise InvalidInput.field("mode", refusal)
    selected = _selected(session, prop, scope)
    run = run_state.new_run(database.workspace_id, prop.id, scope, len(selected), utcnow())
    run.mode = mode.value
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
        economy=mode == FillMode.ECONOMY,
    )
    for cell in selected:
        cell_state.request_fill(cell)
    session.flush()
    return run


def economy_refusal(model: str) -> str | None:
    """Why a run of this model cannot be an economy run (None: it can): its provider has no
    batch interface (a self-hosted server), or the catalogue gives it no batch price."""
    try:
        info = catalogue().get(model)
    except ModelRefused as exc:
        return exc.message
    if catalogue().batch_limits(info.provider) is None or not info.batch_discount:
        return (
            f"{model} has no batch interface (economy fills use OpenAI's Batch API or "
            "Anthropic's Message Batches); fill it with mode 'now'"
        )
    return None


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
