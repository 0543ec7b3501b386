"""Economy fills into provider batches: each due cell claimed as a live fill would be (the same
checks: still this generation, not a person's, not blocked, inputs changed, budget), then put
in a batch of its run and model, within the provider's limits (requests, bytes) and ours
(``AUTOFILL_BATCH_MAX_REQUESTS``, the queued-token cap).

One request per cell, its ``custom_id`` ``<n>-g<generation>-<inputs' hash>``: which line of the
batch, for which generation of the outbox entry and which inputs; the batch item keeps the same
with the entry's key. Claims go ``AUTOFILL_BATCH_CLAIM_CHUNK`` cells per transaction (each
holds its rows' locks: a person's edit of one of them waits for that transaction only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from autofill.config import Settings
from autofill.db import BatchItem, OutboxEntry, Property, ProviderBatch, Row, Store, utcnow
from autofill.fills import outbox
from autofill.fills.economy import batch_state
from autofill.fills.fill import Claim, _claim
from autofill.kinds import BatchState, EntryState
from autofill.llm import (
    BatchLimits,
    CallPlan,
    LLMRequest,
    ModelInfo,
    ModelRefused,
    ProviderError,
    Providers,
    Route,
    catalogue,
    is_structured,
    output_limit,
)
from autofill.llm import plan_call as make_plan
from autofill.logs import get_logger

log = get_logger(__name__)
Group = tuple[str, str, str | None]  # workspace id, model reference, run id

# Prompt tokens of batches the provider holds or will soon: what the queued-token cap counts.
_QUEUED = (BatchState.BUILDING, BatchState.PREPARED, BatchState.SUBMITTED)


@dataclass
class _Open:
    """A batch being filled in this pass (its counts live in its row)."""

    batch_id: str
    closed: bool = False


def build(store: Store, settings: Settings, providers: Providers) -> int:
    """Claim due economy fills into batches; returns how many cells were claimed. The batches
    this pass filled are closed (ready to send) at its end."""
    opened: dict[Group, _Open] = {}
    claimed = 0
    try:
        # At most a batch's worth per pass: the first batch goes out while the rest of a
        # large run is still being claimed (the pass sends what it closed before claiming on).
        while claimed < settings.batch_max_requests:
            added, more = store.run(
                lambda session: _claim_chunk(session, settings, providers, opened)
            )
            claimed += added
            if not more:
                break
    finally:
        store.run(lambda session: _close(session, opened))
    return claimed


def adopt_abandoned(session: Session) -> int:
    """Batches left building by a process that died: closed as they are, and sent."""
    now = utcnow()
    stale = session.scalars(
        select(ProviderBatch)
        .where(
            ProviderBatch.state == BatchState.BUILDING.value,
            ProviderBatch.lease_until < now,
        )
        .with_for_update(skip_locked=True)
    ).all()
    for batch in stale:
        batch_state.close(batch)
    return len(stale)


def _close(session: Session, opened: dict[Group, _Open]) -> None:
    for held in opened.values():
        if held.closed:
            continue
        batch = session.get(ProviderBatch, held.batch_id, with_for_update=True)
        if batch is None or batch.state != BatchState.BUILDING.value:
            continue
        if batch.requests == 0:
            session.delete(batch)  # every cell it was meant for turned out not to need a fill
        else:
            batch_state.close(batch)
        held.closed = True


def _claim_chunk(
    session: Session, settings: Settings, providers: Providers, opened: dict[Group, _Open]
) -> tuple[int, bool]:
    """One transaction's worth of claims: (cells claimed, whether more may be due)."""
    now = utcnow()
    due = session.execute(
        select(
            OutboxEntry.row_id,
            OutboxEntry.property_id,
            OutboxEntry.generation,
            OutboxEntry.workspace_id,
            OutboxEntry.run_id,
        )
        .where(
            OutboxEntry.economy.is_(True),
            OutboxEntry.state == EntryState.WAITING.value,
            OutboxEntry.due_at <= now,
        )
        .order_by(OutboxEntry.due_at, OutboxEntry.row_id)
        .limit(settings.batch_claim_chunk)
    ).all()
    if not due:
        return 0, False
    props = {
        p.id: p
        for p in session.scalars(
            select(Property).where(Property.id.in_({d.property_id for d in due}))
        )
    }
    claimed = 0
    capped = False
    targets: dict[str, _Target | None] = {}
    for row_id, property_id, generation, workspace_id, run_id in due:
        prop = props.get(property_id)
        if prop is None or prop.ai is None:
            continue  # gone: the claim below would finish it, a live fill does as well
        group = (workspace_id, prop.ai.model, run_id)
        target = _target(session, providers, targets, prop.ai.model)
        if target is None:
            # A live fill instead, which reports whatever is wrong in the cell.
            _go_live(session, row_id, property_id, generation)
            continue
        try:
            placed = _claim_one(
                session, settings, target, opened, group, row_id, property_id, generation
            )
        except _QueueFull:
            capped = True
            continue
        claimed += placed
    # More may be due if this chunk was full and not everything stopped at a cap.
    return claimed, len(due) == settings.batch_claim_chunk and not capped


@dataclass
class _Target:
    """What a model's cells need, looked up once per chunk rather than once per cell."""

    info: ModelInfo
    route: Route
    limits: BatchLimits
    queued: int | None = None  # prompt tokens of its batches at the provider, counted once


def _target(
    session: Session,
    providers: Providers,
    targets: dict[str, _Target | None],
    model: str,
) -> _Target | None:
    """The model's batch interface, or None where it has none (a self-hosted server, a model
    the catalogue no longer knows)."""
    if model not in targets:
        found = None
        try:
            info = catalogue().get(model)
            route = providers.route(model)
        except (ModelRefused, ProviderError):
            info = None
        if info is not None and route.batches is not None and info.batch_discount:
            limits = catalogue().batch_limits(info.provider)
            found = _Target(info, route, limits) if limits is not None else None
        targets[model] = found
    return targets[model]


class _QueueFull(Exception):
    """The model's batches hold as many prompt tokens as the provider queues: wait."""


def _claim_one(
    session: Session,
    settings: Settings,
    target: _Target,
    opened: dict[Group, _Open],
    group: Group,
    row_id: str,
    property_id: str,
    generation: int,
) -> int:
    info, route, limits = target.info, target.route, target.limits
    if settings.batch_max_queued_tokens is not None:
        if target.queued is None:
            target.queued = _queued_tokens(session, group[1])
        if target.queued >= settings.batch_max_queued_tokens:
            raise _QueueFull
    held = opened.get(group)
    batch = session.get(ProviderBatch, held.batch_id) if held is not None else None
    max_requests = min(limits.max_requests, settings.batch_max_requests)
    if (
        held is None
        or held.closed
        or batch is None  # made by a transaction that did not commit
        or batch.state != BatchState.BUILDING.value
        or batch.requests >= max_requests
    ):
        if held is not None and batch is not None and batch.state == BatchState.BUILDING.value:
            batch_state.close(batch)  # full: ready to send
            held.closed = True
        held = _open(session, opened, group, settings.batch_lease_s)
        batch = session.get_one(ProviderBatch, held.batch_id)

    batch_id = held.batch_id
    assert info.batch_discount is not None
    price = 1.0 - info.batch_discount

    def start(session: Session, entry: OutboxEntry, tokens: int, cost_usd: float) -> None:
        outbox.batch(entry, batch_id, tokens=tokens, cost_usd=cost_usd)

    claim = _claim(session, settings, row_id, property_id, generation, start=start, price=price)
    if not isinstance(claim, Claim):
        return 0  # settled, blocked or parked by the claim, as a live fill's would be
    assert claim.prepared is not None
    request = claim.prepared.request
    custom_id = f"{batch.requests}-g{generation}-{claim.input_hash[:16]}"
    line, plan = batch_line(route, info, custom_id, request)
    if batch.requests and batch.bytes + len(line) + 1 > limits.max_bytes:
        # Over the provider's byte limit: this cell starts the next batch.
        batch_state.close(batch)
        held.closed = True
        held = _open(session, opened, group, settings.batch_lease_s)
        batch = session.get_one(ProviderBatch, held.batch_id)
        entry = session.get_one(OutboxEntry, (row_id, property_id))
        entry.batch_id = batch.id
        custom_id = f"{batch.requests}-g{generation}-{claim.input_hash[:16]}"
        line, plan = batch_line(route, info, custom_id, request)
    session.add(
        BatchItem(
            batch_id=batch.id,
            custom_id=custom_id,
            row_id=row_id,
            property_id=property_id,
            generation=generation,
            input_hash=claim.input_hash,
            prompt_version=claim.prompt_version,
            truncated=claim.truncated,
            lane=claim.lane,
            structured=plan.structured,
            line=line.decode(),
        )
    )
    batch.requests += 1
    batch.bytes += len(line) + 1
    batch.input_tokens += claim.prepared.fitted.input_tokens
    if target.queued is not None:
        target.queued += claim.prepared.fitted.input_tokens
    batch.lease_until = utcnow() + timedelta(seconds=settings.batch_lease_s)
    return 1


def batch_line(
    route: Route, info: ModelInfo, custom_id: str, request: LLMRequest
) -> tuple[bytes, CallPlan]:
    """The cell's request as a batch line, planned as the live call's first ask is."""
    assert route.batches is not None
    plan = make_plan(
        info,
        request.max_output_tokens,
        request.temperature,
        typed=is_structured(request.output),
        limit=output_limit(info, request.max_output_tokens),
        token_fields=route.token_fields,
    )
    return route.batches.line(custom_id, request, route.model, plan), plan


def _open(session: Session, opened: dict[Group, _Open], group: Group, lease_s: float) -> _Open:
    workspace_id, model, run_id = group
    now = utcnow()
    batch = batch_state.new_batch(workspace_id, run_id, model, now, lease_s)
    session.add(batch)
    session.flush()
    held = _Open(batch.id)
    opened[group] = held
    return held


def _queued_tokens(session: Session, model: str) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(ProviderBatch.input_tokens), 0)).where(
            ProviderBatch.model == model,
            ProviderBatch.state.in_([s.value for s in _QUEUED]),
        )
    )
    return int(total or 0)


def _go_live(session: Session, row_id: str, property_id: str, generation: int) -> None:
    session.get(Row, row_id, with_for_update=True)  # the row's lock first, as everywhere
    entry = session.get(OutboxEntry, (row_id, property_id), with_for_update=True)
    if entry is not None and entry.generation == generation and entry.economy:
        entry.economy = False
        log.warning(
            "economy fill has no batch interface; filling it live",
            row_id=row_id,
            property_id=property_id,
        )
