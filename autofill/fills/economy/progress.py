"""An economy run's progress at the provider, for the run's view and the events stream:
its batches, the requests submitted, those still in the provider's queue, and what the
provider has answered or failed so far (the run's own counts say what is recorded)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from autofill.db import FillRun, Property, ProviderBatch
from autofill.fills import events, runs
from autofill.kinds import BatchState

# Batches the provider has (or had): their requests count as submitted.
_SENT = (BatchState.SUBMITTED, BatchState.ENDED, BatchState.DONE)


@dataclass(frozen=True)
class BatchProgress:
    batches: int  # every batch the run made, whatever its state
    preparing: int  # requests in batches not yet sent
    submitted: int  # requests sent to the provider
    in_provider_queue: int  # of those, not answered yet (the provider's own count)
    provider_succeeded: int
    provider_failed: int  # errored, expired or cancelled at the provider
    failed_batches: int  # refused by the provider as a whole (their cells went live)


def of_run(session: Session, run_id: str) -> BatchProgress:
    rows = session.execute(
        select(
            ProviderBatch.state,
            func.count(),
            func.coalesce(func.sum(ProviderBatch.requests), 0),
            func.coalesce(func.sum(ProviderBatch.processing), 0),
            func.coalesce(func.sum(ProviderBatch.succeeded), 0),
            func.coalesce(func.sum(ProviderBatch.failed), 0),
        )
        .where(ProviderBatch.run_id == run_id)
        .group_by(ProviderBatch.state)
    ).all()
    batches = preparing = submitted = queued = succeeded = failed = refused = 0
    for state, count, requests, processing, ok, bad in rows:
        batches += int(count)
        if state in (BatchState.BUILDING.value, BatchState.PREPARED.value):
            preparing += int(requests)
        elif state in [s.value for s in _SENT]:
            submitted += int(requests)
            queued += int(processing)
            succeeded += int(ok)
            failed += int(bad)
        elif state == BatchState.FAILED.value:
            refused += int(count)
    return BatchProgress(batches, preparing, submitted, queued, succeeded, failed, refused)


def publish(session: Session, run_id: str | None) -> None:
    """Tell the run's database's event streams how the run stands."""
    if run_id is None:
        return
    run = session.get(FillRun, run_id)
    if run is None:
        return
    database_id = session.scalar(select(Property.database_id).where(Property.id == run.property_id))
    if database_id is None:
        return
    events.record_run_event(session, database_id, run_data(session, run))


def run_data(session: Session, run: FillRun) -> dict[str, Any]:
    seen = runs.view(session, run)
    settled = seen.settled
    return {
        "event": "run",
        "run_id": run.id,
        "property_id": run.property_id,
        "mode": run.mode,
        "state": seen.state.value,
        "total": run.total,
        "done": settled.done,
        "failed": settled.failed,
        "skipped": settled.skipped,
        "remaining": max(run.total - settled.total, 0),
        "batch": asdict(of_run(session, run.id)),
    }
