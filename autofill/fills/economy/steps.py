"""The batcher's steps on one batch at a time: send it, look at it, record it, cancel it.

Every step takes the batch's lease and commits before its provider call, and writes what the
provider said in a transaction after it: the provider's batch id is in the database before
anything waits on it, so a restart (of the dispatcher that runs the batcher, or of everything)
resumes where it stopped. A batch whose submission was cut short is looked for at the provider
by its tag before it is sent again (OpenAI keeps our id in the batch's metadata; Anthropic's
batches carry none, so there it is sent again and the first copy, never read, is paid twice:
RELIABILITY.md, "Known limits").
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from autofill.config import Settings
from autofill.db import BatchItem, ProviderBatch, Store, utcnow
from autofill.fills.economy import batch_state, progress
from autofill.fills.economy.record import go_live_unanswered, record_result
from autofill.kinds import BatchState
from autofill.llm import (
    BatchAPI,
    BatchView,
    ItemResult,
    ModelInfo,
    ModelRefused,
    ProviderError,
    Providers,
    catalogue,
)
from autofill.logs import get_logger

log = get_logger(__name__)
RECORD_CHUNK = 100  # results recorded per transaction
MAX_SUBMIT_TRIES = 8  # a batch the provider keeps refusing for a passing reason goes live


def due_batches(store: Store, states: tuple[BatchState, ...], limit: int = 20) -> list[str]:
    now = utcnow()
    with store.transaction() as session:
        return list(
            session.scalars(
                select(ProviderBatch.id)
                .where(
                    ProviderBatch.state.in_([s.value for s in states]),
                    ProviderBatch.next_check_at <= now,
                )
                .order_by(ProviderBatch.next_check_at)
                .limit(limit)
            )
        )


def _api(providers: Providers, model: str) -> BatchAPI:
    route = providers.route(model)
    if route.batches is None:
        raise ProviderError(f"{model} has no batch interface")
    return route.batches


def submit(store: Store, settings: Settings, providers: Providers, batch_id: str) -> bool:
    """Send a prepared batch. True if it is at the provider now."""
    with store.transaction() as session:
        if not batch_state.take(
            session, batch_id, (BatchState.PREPARED,), utcnow(), settings.batch_lease_s
        ):
            return False
        batch = session.get_one(ProviderBatch, batch_id)
        model, retried = batch.model, batch.submit_started_at is not None
        if batch.cancel_requested:
            batch_state.cancel(batch)
            go_live_unanswered(session, batch)  # their entries were dropped: nothing moves
            return False
        batch.submit_started_at = batch.submit_started_at or utcnow()
        items = session.scalars(select(BatchItem).where(BatchItem.batch_id == batch_id)).all()
        # In the order they were claimed: a custom_id starts with its line's number.
        items = sorted(items, key=lambda item: int(item.custom_id.split("-", 1)[0]))
        lines = [item.line.encode() for item in items]
    try:
        api = _api(providers, model)
        found = api.find(batch_id) if retried else None
        provider_id, file_id = (found, None) if found else api.submit(lines, batch_id)
    except (ProviderError, ModelRefused) as exc:
        return _submit_failed(store, batch_id, exc)
    with store.transaction() as session:
        batch = session.get_one(ProviderBatch, batch_id, with_for_update=True)
        batch_state.submitted(batch, provider_id, file_id, settings.batch_check_first_s)
        progress.publish(session, batch.run_id)
    log.info("batch submitted", batch=batch_id, provider_batch=provider_id, requests=len(lines))
    return True


def _submit_failed(store: Store, batch_id: str, error: ProviderError | ModelRefused) -> bool:
    message = error.message
    retryable = isinstance(error, ProviderError) and error.retryable
    with store.transaction() as session:
        batch = session.get_one(ProviderBatch, batch_id, with_for_update=True)
        batch.checks += 1
        if retryable and batch.checks < MAX_SUBMIT_TRIES:
            batch.next_check_at = utcnow() + timedelta(seconds=min(2.0**batch.checks, 300.0))
            batch_state.release(batch)
            log.warning("batch submission failed; trying again", batch=batch_id, error=message)
            return False
        moved = go_live_unanswered(session, batch)
        batch_state.fail(batch, f"the provider did not take the batch: {message}")
        progress.publish(session, batch.run_id)
    log.error(
        "batch refused; its cells are filled live", batch=batch_id, error=message, cells=moved
    )
    return False


def check(store: Store, settings: Settings, providers: Providers, batch_id: str) -> bool:
    """Ask the provider how a submitted batch is doing (and cancel it when its run was);
    record it once it has ended. True if it ended."""
    with store.transaction() as session:
        if not batch_state.take(
            session,
            batch_id,
            (BatchState.SUBMITTED, BatchState.ENDED),
            utcnow(),
            settings.batch_lease_s,
        ):
            return False
        batch = session.get_one(ProviderBatch, batch_id)
        model, provider_id = batch.model, batch.provider_batch_id
        cancel = batch.cancel_requested and batch.provider_status not in ("cancelling", "canceling")
        already_ended = batch.state == BatchState.ENDED.value
    assert provider_id is not None
    try:
        api = _api(providers, model)
        if cancel and not already_ended:
            api.cancel(provider_id)
        seen = api.state(provider_id)
    except (ProviderError, ModelRefused) as exc:
        _look_again_later(store, settings, batch_id, exc.message)
        return False
    with store.transaction() as session:
        batch = session.get_one(ProviderBatch, batch_id, with_for_update=True)
        batch.provider_status = seen.status
        batch.processing, batch.succeeded, batch.failed = (
            seen.processing,
            seen.succeeded,
            seen.failed,
        )
        if not seen.ended:
            batch.checks += 1
            wait = min(
                settings.batch_check_first_s * 2 ** (batch.checks - 1), settings.batch_check_max_s
            )
            batch.next_check_at = utcnow() + timedelta(seconds=wait)
            batch_state.release(batch)
            progress.publish(session, batch.run_id)
            return False
        batch_state.ended(batch)
    _record_ended(store, settings, api, batch_id, provider_id, catalogue().get(model), seen)
    return True


def _look_again_later(store: Store, settings: Settings, batch_id: str, error: str) -> None:
    with store.transaction() as session:
        batch = session.get_one(ProviderBatch, batch_id, with_for_update=True)
        batch.checks += 1
        batch.error = error[:2000]
        batch.next_check_at = utcnow() + timedelta(seconds=settings.batch_check_max_s)
        batch_state.release(batch)
    log.warning("batch status check failed; trying again later", batch=batch_id, error=error)


def _record_ended(
    store: Store,
    settings: Settings,
    api: BatchAPI,
    batch_id: str,
    provider_id: str,
    info: ModelInfo,
    seen: BatchView,
) -> None:
    if seen.failure is None:
        chunk = []
        for result in api.results(batch_id=provider_id, state=seen):
            chunk.append(result)
            if len(chunk) >= RECORD_CHUNK:
                _record_chunk(store, settings, api, batch_id, chunk, info)
                chunk = []
        if chunk:
            _record_chunk(store, settings, api, batch_id, chunk, info)
    with store.transaction() as session:
        batch = session.get_one(ProviderBatch, batch_id, with_for_update=True)
        left = go_live_unanswered(session, batch)
        if seen.failure is not None:
            batch_state.fail(batch, f"the provider refused the batch: {seen.failure}")
        else:
            batch_state.done(batch)
        files = [f for f in (batch.input_file_id, seen.output_file_id, seen.error_file_id) if f]
        progress.publish(session, batch.run_id)
    if left:
        log.warning("batch left cells unanswered; filling them live", batch=batch_id, cells=left)
    api.forget(files)
    log.info("batch recorded", batch=batch_id, status=seen.status)


def _record_chunk(
    store: Store,
    settings: Settings,
    api: BatchAPI,
    batch_id: str,
    chunk: list[ItemResult],
    info: ModelInfo,
) -> None:
    def work(session: Session) -> None:
        batch = session.get_one(ProviderBatch, batch_id)
        for result in chunk:
            record_result(session, settings, batch, result, api, info)
        batch.lease_until = utcnow() + timedelta(seconds=settings.batch_lease_s)

    store.run(work)


def cancel_run_batches(session: Session, run_id: str) -> None:
    """A run was cancelled: its batches not yet sent are dropped, the provider is asked to
    cancel those it has (on the batcher's next pass, not in the person's request)."""
    for batch in session.scalars(
        select(ProviderBatch)
        .where(
            ProviderBatch.run_id == run_id,
            ProviderBatch.state.in_(
                [BatchState.BUILDING.value, BatchState.PREPARED.value, BatchState.SUBMITTED.value]
            ),
        )
        .with_for_update()
    ):
        batch.cancel_requested = True
        if batch.state in (BatchState.BUILDING.value, BatchState.PREPARED.value):
            batch_state.cancel(batch)
            go_live_unanswered(session, batch)  # their entries are gone: items just go
        else:
            batch.next_check_at = utcnow()
