"""The one owner of a provider batch's state (autofill.kinds.BatchState); any other move is
refused (BatchStateError).

    building ─close─▶ prepared ─submitted─▶ submitted ─ended─▶ ended ─recorded─▶ done
        │                 │                      │
        └──── cancel ─────┴──▶ cancelled         └── (cancel_requested: the provider cancels
                          └──▶ failed                 it; its results are recorded as any)

A step under way (building, submitting, checking, recording) holds the batch with a lease, so
two dispatchers never do the same step twice; a lease that runs out (the process died) lets
another take the step over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from autofill.db import ProviderBatch, utcnow
from autofill.ids import new_id
from autofill.kinds import BatchState

BUILDING, PREPARED, SUBMITTED = BatchState.BUILDING, BatchState.PREPARED, BatchState.SUBMITTED
ENDED, DONE, FAILED, CANCELLED = (
    BatchState.ENDED,
    BatchState.DONE,
    BatchState.FAILED,
    BatchState.CANCELLED,
)


class BatchStateError(RuntimeError):
    """A transition asked of a batch in a state it may not leave that way (a bug)."""


def move(batch: ProviderBatch, to: BatchState, may_leave: tuple[BatchState, ...]) -> None:
    if BatchState(batch.state) not in may_leave:
        raise BatchStateError(f"batch {batch.id} is {batch.state}: it cannot become {to.value}")
    batch.state = to.value


def new_batch(
    workspace_id: str, run_id: str | None, model: str, now: datetime, lease_s: float
) -> ProviderBatch:
    """An empty batch, building, held by the pass that fills it."""
    return ProviderBatch(
        id=new_id("bat"),
        workspace_id=workspace_id,
        run_id=run_id,
        model=model,
        state=BUILDING.value,
        requests=0,
        bytes=0,
        input_tokens=0,
        processing=0,
        succeeded=0,
        failed=0,
        cancel_requested=False,
        checks=0,
        next_check_at=now,
        lease_until=now + timedelta(seconds=lease_s),
    )


def close(batch: ProviderBatch) -> None:
    """No more cells go into it: ready to be sent."""
    move(batch, PREPARED, (BUILDING,))
    batch.lease_until = None


def submitted(
    batch: ProviderBatch, provider_batch_id: str, input_file_id: str | None, first_check_s: float
) -> None:
    move(batch, SUBMITTED, (PREPARED,))
    now = utcnow()
    batch.provider_batch_id = provider_batch_id
    batch.input_file_id = input_file_id
    batch.submitted_at = now
    batch.processing = batch.requests
    batch.next_check_at = now + timedelta(seconds=first_check_s)
    batch.lease_until = None


def ended(batch: ProviderBatch) -> None:
    move(batch, ENDED, (SUBMITTED, ENDED))
    batch.ended_at = batch.ended_at or utcnow()


def done(batch: ProviderBatch) -> None:
    move(batch, DONE, (ENDED,))
    batch.lease_until = None
    batch.processing = 0


def fail(batch: ProviderBatch, error: str) -> None:
    """The provider refused it (or it could not be sent): its cells have gone back to live
    fills by the caller."""
    move(batch, FAILED, (BUILDING, PREPARED, SUBMITTED, ENDED))
    batch.error = error[:2000]
    batch.lease_until = None
    batch.processing = 0


def cancel(batch: ProviderBatch) -> None:
    """Cancelled before the provider had it."""
    move(batch, CANCELLED, (BUILDING, PREPARED))
    batch.lease_until = None
    batch.processing = 0


def take(
    session: Session,
    batch_id: str,
    states: tuple[BatchState, ...],
    now: datetime,
    lease_s: float,
) -> bool:
    """Hold the batch for one step, if it is in one of ``states`` and no live lease holds it.
    Committed by the caller before the step's slow part (a provider call) begins."""
    taken = session.execute(
        update(ProviderBatch)
        .where(
            ProviderBatch.id == batch_id,
            ProviderBatch.state.in_([s.value for s in states]),
            or_(ProviderBatch.lease_until.is_(None), ProviderBatch.lease_until < now),
        )
        .values(lease_until=now + timedelta(seconds=lease_s))
    )
    return bool(getattr(taken, "rowcount", 0))


def release(batch: ProviderBatch) -> None:
    batch.lease_until = None
