"""One cell's fill, start to finish: the production path the Celery task and the evals call.

claim (short transaction)   the outbox entry is still this generation, the cell is not a
                            person's, no upstream AI cell of the row is due first, the inputs
                            differ from those of the current value, the budget allows it
model call (no transaction) prepare → Completer: rate limit, retries, typed validation
record (short transaction)   under the row's lock: written only if the entry is still this
                            generation and the row's inputs still hash the same; else thrown
                            away (a newer fill is due). Usage is counted either way.

Each step can run twice (a redelivered message, a sweeper's re-dispatch) without harm: the
generation check and the lease make the second one a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.attributes import set_committed_value

from autofill import metrics, tracing
from autofill.config import Settings
from autofill.db import Cell, OutboxEntry, Property, Row, Store, Workspace, utcnow
from autofill.fills import cell_state, changes, outbox, runs, usage
from autofill.fills.blocking import any_chain, is_blocked, upstream_ai
from autofill.kinds import (
    CellStatus,
    EntryState,
    ErrorCode,
    Lane,
    Outcome,
    PromptTask,
    PropertyType,
    Reason,
)
from autofill.language import PageLanguage, detect_language
from autofill.language_names import describe
from autofill.llm import (
    ENCODINGS,
    Completer,
    Completion,
    FillFailed,
    LLMRequest,
    catalogue,
    encoding,
    reask_turns,
)
from autofill.logs import get_logger
from autofill.prompts import CannotPrepare, Prepared, load_prompt, prepare_for_row
from autofill.redaction import redact

log = get_logger(__name__)


@dataclass(frozen=True)
class Claim:
    workspace_id: str
    lane: str
    run_id: str | None
    input_hash: str
    prompt_version: str
    truncated: bool
    prepared: Prepared | None = None  # None when recording a batch answer (built at its claim)
    economy: bool = False  # the fill's dependents are economy fills too
    reask: dict[str, str] | None = None  # a batch answer to re-ask live, with its error
    trace_context: str | None = None  # the scheduling request's traceparent (traces on)


# Starts a claimed entry: (session, entry, tokens, cost in USD) → None. A live fill takes a
# lease; an economy fill is put in a batch (autofill.fills.economy).
Start = Callable[[Session, OutboxEntry, int, float], None]


def fill_cell(
    store: Store,
    completer: Completer,
    settings: Settings,
    row_id: str,
    property_id: str,
    generation: int,
) -> Outcome:
    started = time.perf_counter()
    claimed = store.run(lambda session: _claim(session, settings, row_id, property_id, generation))
    claimed_at = time.perf_counter()
    if isinstance(claimed, Outcome):
        _log(claimed, row_id, property_id, generation, claim_ms=_ms(started, claimed_at))
        return claimed
    completion = call_model(completer, claimed, row_id, property_id)
    answered_at = time.perf_counter()
    # A dead connection here would otherwise throw the paid-for answer away: retried.
    outcome = store.run(
        lambda session: _record(
            session, settings, row_id, property_id, generation, claimed, completion
        )
    )
    # Where a fill's time went, for an operator asking why fills are slow: the model, or us.
    _log(
        outcome,
        row_id,
        property_id,
        generation,
        lane=claimed.lane,
        claim_ms=_ms(started, claimed_at),
        call_ms=_ms(claimed_at, answered_at),
        record_ms=_ms(answered_at, time.perf_counter()),
    )
    return outcome


def call_model(
    completer: Completer, claimed: Claim, row_id: str, property_id: str
) -> Completion | FillFailed:
    """The claimed fill's model call (no transaction open): its answer, or why it failed.
    Counted in the metrics and, when traces are on, a span (autofill.tracing)."""
    assert claimed.prepared is not None
    reference = claimed.prepared.request.model
    started = time.perf_counter()
    metrics.IN_FLIGHT.inc()
    try:
        with tracing.fill_span(
            reference,
            workspace_id=claimed.workspace_id,
            column_id=property_id,
            row_id=row_id,
            run_id=claimed.run_id,
            lane=claimed.lane,
            max_tokens=claimed.prepared.request.max_output_tokens,
            scheduled_by=claimed.trace_context,
        ) as span:
            result = _call(completer, claimed)
            usage = result.usage
            tracing.answered(
                span,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cached_tokens=usage.cached_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                error=result.code if isinstance(result, FillFailed) else None,
                message=str(result) if isinstance(result, FillFailed) else "",
            )
            return result
    finally:
        metrics.IN_FLIGHT.dec()
        provider = metrics.split_model(reference)[0]
        metrics.MODEL_CALL.labels(provider, claimed.lane).observe(time.perf_counter() - started)


def _call(completer: Completer, claimed: Claim) -> Completion | FillFailed:
    assert claimed.prepared is not None
    try:
        # The lane goes with the call: a backfill's calls leave room in the provider's limit.
        request = replace(claimed.prepared.request, lane=claimed.lane)
        if claimed.reask is not None:
            # A batch answer that did not fit the column's type: asked again live, once, with
            # the answer and what was wrong with it, as a live fill's own re-ask is.
            request, completer = reasked(request, claimed.reask, completer)
        return completer.complete(request)
    except FillFailed as exc:
        return exc


def hand_back(
    store: Store, row_id: str, property_id: str, generation: int, *, delay_s: float = 0.0
) -> Outcome:
    """A worker gives back a fill it will not run or finish (it is stopping, or the database
    failed under it): due again in ``delay_s``, for any worker. SUPERSEDED when there was
    nothing of this generation left to give back (an edit or another worker got there first),
    so the log says what happened, not what was tried."""
    due_at = utcnow() + timedelta(seconds=delay_s)
    moved = store.run(
        lambda session: outbox.hand_back(session, row_id, property_id, generation, due_at)
    )
    outcome = Outcome.HANDED_BACK if moved else Outcome.SUPERSEDED
    _log(outcome, row_id, property_id, generation, delay_s=delay_s)
    return outcome


def hand_back_after_crash(
    store: Store,
    settings: Settings,
    row_id: str,
    property_id: str,
    generation: int,
    error: BaseException,
) -> Outcome:
    """A fill raised something unexpected (a bug, a library failing): it counts as an attempt
    and is due again after a backoff, and at the attempt cap its cell ends in error saying what
    happened — a fill that always crashes must not come back forever, even when it crashes
    before its start is counted."""

    def work(session: Session) -> Outcome:
        loaded = _load(session, row_id, property_id)
        entry, cell = loaded.entry, loaded.cell
        if entry is None or entry.generation != generation:
            return Outcome.SUPERSEDED
        if entry.state != EntryState.RUNNING.value:
            entry.attempts += 1  # crashed before its start was counted
        if entry.attempts >= settings.max_fill_attempts and cell is not None:
            detail = redact(f"{type(error).__name__}: {error}")[:300]
            message = f"gave up after {entry.attempts} attempts: the fill failed with {detail}"
            _fail(session, entry, cell, message, loaded.properties, code=ErrorCode.GAVE_UP)
            return Outcome.FAILED
        due_at = utcnow() + timedelta(seconds=min(2.0**entry.attempts, 60.0))
        outbox.hand_back(session, row_id, property_id, generation, due_at)
        return Outcome.HANDED_BACK

    outcome = store.run(work)
    _log(outcome, row_id, property_id, generation, crashed=type(error).__name__)
    return outcome


def _ms(start: float, end: float) -> float:
    return round(1000 * (end - start), 1)


def reasked(
    request: LLMRequest, reask: dict[str, str], completer: Completer
) -> tuple[LLMRequest, Completer]:
    info = catalogue().get(request.model)
    turns = reask_turns(reask.get("answer", ""), reask.get("error", ""), info)
    return replace(request, messages=[*request.messages, *turns]), replace(completer, max_reasks=0)


def _start_live(settings: Settings) -> Start:
    def start(_session: Session, entry: OutboxEntry, tokens: int, cost_usd: float) -> None:
        lease_until = utcnow() + timedelta(seconds=settings.fill_lease_s)
        outbox.start(entry, lease_until=lease_until, tokens=tokens, cost_usd=cost_usd)

    return start


def _claim(
    session: Session,
    settings: Settings,
    row_id: str,
    property_id: str,
    generation: int,
    *,
    start: Start | None = None,
    price: float = 1.0,
    group: GroupReads | None = None,
) -> Claim | Outcome:
    """Whether the fill should go ahead, and if so, started with ``start`` (a live fill's
    lease by default) and its spend held against the budget at ``price`` times list price.
    ``group``: the fill is one of several claimed in this transaction (autofill.fills.group),
    which locked their rows and entries already and shares its reads."""
    loaded = _load(session, row_id, property_id, group)
    entry = loaded.entry
    if entry is None or entry.generation != generation:
        return Outcome.SUPERSEDED
    now = utcnow()
    if entry.state == EntryState.RUNNING.value and entry.lease_until and entry.lease_until > now:
        return Outcome.DUPLICATE
    if entry.state == EntryState.BATCHED.value:
        return Outcome.DUPLICATE  # in a provider batch: its answer is recorded from there
    row, prop, cell = loaded.row, loaded.prop, loaded.cell
    if row is None or prop is None or prop.ai is None or cell is None:
        outbox.finish(session, entry)
        _count(session, Outcome.GONE, entry.lane, entry.workspace_id)
        return Outcome.GONE
    if cell.status == CellStatus.OVERRIDDEN.value:
        _finish(session, entry, Outcome.OVERRIDDEN, loaded.properties)
        return Outcome.OVERRIDDEN
    if is_blocked(session, row_id, upstream_ai(prop, loaded.properties)):
        outbox.block(entry)
        return Outcome.BLOCKED

    input_hash = changes.input_hash(prop.ai, row.values, row.content, loaded.ai_values)
    names = {p.id: p.name for p in loaded.properties}
    known = PageLanguage.from_stored(row.content_language) if row.content_language else None
    try:
        prepared = prepare_for_row(
            prop.ai, names, row.values, row.content, loaded.ai_values, known_language=known
        )
    except CannotPrepare as exc:
        _fail(session, entry, cell, exc.message, loaded.properties, code=exc.code)
        return Outcome.FAILED
    if known is None and prepared.fitted.page_language is not None:
        learned = prepared.fitted.page_language.stored()
        set_committed_value(row, "content_language", learned)
        if group is not None:
            group.languages[row.id] = learned  # written with the group's (claim_group)
        else:
            keep_page_languages(session, {row.id: learned})
    if (
        not entry.force
        and cell.filled_at is not None
        and cell.input_hash == input_hash
        and cell.prompt_version == prepared.fitted.prompt_version
        and cell.model == prop.ai.model
    ):
        cell_state.confirm(cell)
        usage.record(session, entry.workspace_id, usage.Spend(fills_avoided=1))
        _finish(session, entry, Outcome.UNCHANGED, loaded.properties)
        return Outcome.UNCHANGED

    tokens = prepared.fitted.input_tokens + prepared.reserved_output
    cost = prepared.max_cost_usd * price
    workspace = session.get_one(Workspace, entry.workspace_id)
    refusal = usage.budget_refusal(session, workspace, tokens=tokens, cost_usd=cost)
    if refusal is not None:
        outbox.park(entry)
        cell_state.park(cell, refusal)
        _count(session, Outcome.PARKED, entry.lane, entry.workspace_id)
        return Outcome.PARKED

    if entry.attempts >= settings.max_fill_attempts:
        # Each start ended without a result (a worker killed mid-fill, a lease run out): a fill
        # that takes workers down must not be handed out forever.
        message = (
            f"gave up after {entry.attempts} attempts that each ended without a result "
            "(the worker stopped or ran out of time, or the provider asked to wait each "
            "time); fill again to retry"
        )
        _fail(session, entry, cell, message, loaded.properties, code=ErrorCode.GAVE_UP)
        return Outcome.FAILED
    (start or _start_live(settings))(session, entry, tokens, cost)
    if entry.dispatched_at is not None:
        waited = (now - entry.dispatched_at).total_seconds()
        metrics.after_commit(
            session, partial(metrics.QUEUE_WAIT.labels(entry.lane).observe, waited)
        )
    return Claim(
        entry.workspace_id,
        entry.lane,
        entry.run_id,
        input_hash,
        prepared.fitted.prompt_version,
        prepared.fitted.truncated,
        prepared,
        economy=entry.economy,
        reask=entry.reask,
        trace_context=entry.trace_context,
    )


def keep_page_languages(session: Session, languages: dict[str, str]) -> None:
    """Pages' languages (row id → ``PageLanguage.stored()``) kept with their rows for their
    other columns' fills (detecting it was a fifth of a bulk worker's CPU), in one statement.
    Written past the ORM: a fill learning the language is not an edit of the row, so its
    ``updated_at`` stays; and through the session's connection, as one executemany for a
    group, without the ORM's bulk-update bookkeeping or a flush of the claims so far (those
    then go out together at commit). The rows are locked by the claim, so their content is the
    one the language was detected in."""
    if not languages:
        return
    session.connection().execute(
        update(Row)
        .where(Row.id == bindparam("row_id"))
        .values(content_language=bindparam("language"), updated_at=Row.updated_at),
        [{"row_id": row_id, "language": stored} for row_id, stored in languages.items()],
    )


def warm_up(*, for_fork: bool = False) -> None:
    """Load once what nearly every fill needs (the default tokenizer, the language detector),
    before the first fills: otherwise a new worker's first hundred threads each wait for it,
    and a benchmark counts a start-up cost as the cost of a fill. The other encoding (older
    OpenAI models' cl100k_base, 33 MiB) loads with the first fill that counts with it.

    ``for_fork``: also what fills load on first use and then only read — the ORM's mapper
    configuration, the shipped prompts, the model catalogue — for a parent that forks its
    workers after (worker.supervisor): loaded there once and shared, instead of once in each
    worker, in pages of its own."""
    encoding(ENCODINGS[0])
    detect_language("Warming up the language detector.")
    describe("fr")  # the table of language names (autofill/language_names.json)
    if not for_fork:
        return
    configure_mappers()
    for task in PromptTask:
        load_prompt(task)
    catalogue()


@dataclass
class _Loaded:
    """What a fill's transaction reads, in as few statements as the ORM allows: the row and
    its outbox entry locked, the database's properties and the row's cells in one query each
    (the column and the cell are picked from them, not loaded again)."""

    row: Row | None
    entry: OutboxEntry | None
    properties: list[Property]
    row_cells: list[Cell]
    property_id: str

    @property
    def prop(self) -> Property | None:
        return next((p for p in self.properties if p.id == self.property_id), None)

    @property
    def cell(self) -> Cell | None:
        return next((c for c in self.row_cells if c.property_id == self.property_id), None)

    @property
    def ai_values(self) -> dict[str, Any]:
        return {c.property_id: c.value for c in self.row_cells}


@dataclass
class GroupReads:
    """What the fills claimed or recorded in one transaction share: their rows and entries
    are locked up front (autofill.fills.group), and a database's properties are read once."""

    properties: dict[str, list[Property]]
    # The session's identity map holds clean objects weakly: without these references the
    # rows and entries loaded up front would be gone again, and each fill would read its own.
    held: list[object]
    # Pages' languages learned in the group (row id → stored form), written together at the
    # end: detected before the claims (autofill.fills.group.detect_new_pages), so a claim adds
    # one only if that pass skipped a page the claim then read.
    languages: dict[str, str] = field(default_factory=dict)


def _load(
    session: Session, row_id: str, property_id: str, group: GroupReads | None = None
) -> _Loaded:
    # The row's lock first, as every writer of this row takes it first: no lock-order cycles.
    # In a group they are held already, and the objects are in the session: no statement.
    lock = True if group is None else None
    row = session.get(Row, row_id, with_for_update=lock)
    entry = session.get(OutboxEntry, (row_id, property_id), with_for_update=lock)
    if row is None or entry is None:
        return _Loaded(row, entry, [], [], property_id)
    properties = database_properties(session, row.database_id, group)
    return _Loaded(row, entry, properties, list(row.cells), property_id)


def database_properties(
    session: Session, database_id: str, group: GroupReads | None = None
) -> list[Property]:
    """A database's properties in order; read once for all the fills of a group."""
    properties = group.properties.get(database_id) if group is not None else None
    if properties is None:
        properties = list(
            session.scalars(
                select(Property)
                .where(Property.database_id == database_id)
                .order_by(Property.position)
            )
        )
        if group is not None:
            group.properties[database_id] = properties
    return properties


def _record(
    session: Session,
    settings: Settings,
    row_id: str,
    property_id: str,
    generation: int,
    claim: Claim,
    result: Completion | FillFailed,
    group: GroupReads | None = None,
) -> Outcome:
    # Locks in the order every transaction takes them: row, outbox entry, then counters.
    loaded = _load(session, row_id, property_id, group)
    entry = loaded.entry
    spend = _spend(result)
    usage.record(session, claim.workspace_id, spend, run_id=claim.run_id)
    reference = _reference(claim, loaded)
    metrics.after_commit(
        session,
        partial(
            metrics.spent,
            reference,
            claim.workspace_id,
            input_tokens=result.usage.input_tokens,
            cached_tokens=result.usage.cached_tokens,
            output_tokens=result.usage.output_tokens,
            cost_usd=spend.cost_usd,
        ),
    )
    if entry is None or entry.generation != generation:
        # The answer was for older inputs: discarded (the stale-write guard), its cost counted.
        _count(session, Outcome.SUPERSEDED, claim.lane, claim.workspace_id)
        return Outcome.SUPERSEDED
    row, prop, cell = loaded.row, loaded.prop, loaded.cell
    if row is None or prop is None or prop.ai is None or cell is None:
        outbox.finish(session, entry)
        _count(session, Outcome.GONE, entry.lane, entry.workspace_id)
        return Outcome.GONE
    if cell.status == CellStatus.OVERRIDDEN.value:
        _finish(session, entry, Outcome.OVERRIDDEN, loaded.properties)
        return Outcome.OVERRIDDEN
    if changes.input_hash(prop.ai, row.values, row.content, loaded.ai_values) != claim.input_hash:
        # Inputs moved without a new generation (an upstream cell filled meanwhile): go again.
        outbox.retry(entry, utcnow())
        _count(session, Outcome.SUPERSEDED, claim.lane, claim.workspace_id)
        return Outcome.SUPERSEDED
    if isinstance(result, FillFailed) and result.defer_s is not None:
        # The provider asked for a long wait: kept as the entry's due time; the cell stays
        # pending and no worker thread sleeps through it.
        outbox.defer(entry, utcnow() + timedelta(seconds=result.defer_s))
        _count(session, Outcome.DEFERRED, claim.lane, claim.workspace_id)
        return Outcome.DEFERRED
    if isinstance(result, FillFailed):
        _fail(session, entry, cell, result.message, loaded.properties, code=result.code)
        return Outcome.FAILED

    before = cell.value
    cell_state.succeed(
        cell,
        result.value,
        prompt_version=claim.prompt_version,
        model=prop.ai.model,
        input_hash=claim.input_hash,
        tokens_in=result.usage.input_tokens,
        tokens_out=result.usage.output_tokens,
        cost_usd=result.cost_usd,
        truncated=claim.truncated,
    )
    _finish(session, entry, Outcome.FILLED, loaded.properties)
    if before != cell.value:
        # The value is an input of the AI columns that read it: they are due now, in order.
        readers = [p for p in loaded.properties if p.type == PropertyType.AI.value]
        due = changes.mark_dependents_changed(row, prop, readers)
        outbox.schedule_cells(
            session,
            claim.workspace_id,
            due,
            delay_s=0.0,
            reason=Reason.UPSTREAM,
            lane=Lane(claim.lane),  # a backfill's dependents are backfill too
            economy=claim.economy,  # and an economy fill's are economy
        )
    return Outcome.FILLED


def _spend(result: Completion | FillFailed) -> usage.Spend:
    if isinstance(result, FillFailed):
        return usage.Spend(
            model_calls=result.calls,
            tokens_in=result.usage.input_tokens,
            tokens_out=result.usage.output_tokens,
        )
    return usage.Spend(
        fills=1,
        model_calls=result.calls,
        tokens_in=result.usage.input_tokens,
        tokens_out=result.usage.output_tokens,
        cost_usd=result.cost_usd,
    )


def _fail(
    session: Session,
    entry: OutboxEntry,
    cell: Cell,
    message: str,
    properties: list[Property],
    *,
    code: ErrorCode,
) -> None:
    cell_state.fail(cell, message, code)
    _finish(session, entry, Outcome.FAILED, properties, code=code)


def _finish(
    session: Session,
    entry: OutboxEntry,
    outcome: Outcome,
    properties: list[Property],
    *,
    code: ErrorCode | None = None,
) -> None:
    """The entry is done: remove it, count it in its run, and let cells that waited go.
    The entry is locked (``_load``), so its generation is still the one this fill was for."""
    outbox.finish(session, entry)
    _count(session, outcome, entry.lane, entry.workspace_id, code)
    if entry.run_id is not None:
        runs.settle(session, entry.workspace_id, entry.run_id, outcome)
    if any_chain(properties):
        # Only a column that reads another AI column is ever blocked (the sweeper re-checks
        # blocked entries too, should a column have stopped reading one meanwhile).
        outbox.unblock_row(session, entry.row_id)


def _count(
    session: Session,
    outcome: Outcome,
    lane: str,
    workspace_id: str,
    code: ErrorCode | None = None,
) -> None:
    """The fill's outcome in ``autofill_fills_total``, once its transaction commits."""
    metrics.after_commit(
        session,
        partial(
            metrics.fill_ended,
            outcome.value,
            lane=lane,
            workspace_id=workspace_id,
            error_code=code.value if code is not None else "",
        ),
    )


def _reference(claim: Claim, loaded: _Loaded) -> str:
    """The model the answer came from: the request's, or (a batch answer) the column's."""
    if claim.prepared is not None:
        return claim.prepared.request.model
    if loaded.prop is not None and loaded.prop.ai is not None:
        return loaded.prop.ai.model
    return "unknown:unknown"


def _log(
    outcome: Outcome | str,
    row_id: str,
    property_id: str,
    generation: int,
    *,
    lane: str | None = None,
    **extra: Any,
) -> None:
    record_ms = extra.get("record_ms")
    if lane is not None and isinstance(record_ms, float):
        metrics.RECORD.labels(lane).observe(record_ms / 1000)
    log.info(
        "fill",
        outcome=outcome.value if isinstance(outcome, Outcome) else outcome,
        row_id=row_id,
        property_id=property_id,
        gen=generation,
        **extra,
    )
