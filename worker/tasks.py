"""Celery tasks: thin. Ids in; the fill's logic lives in autofill.fills, where the evals run it.

A task may run twice (a redelivered message, a sweeper's re-dispatch); the fill's generation
check and lease make the second run a no-op. A database error is retried with backoff; if that
runs out, the outbox entry is still there and the sweeper sends it again.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from autofill.fills import fill_cell as run_fill
from worker import runtime
from worker.celery_app import app, queue_for


@app.task(
    name="autofill.fill_cell",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DBAPIError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=8,
    ignore_result=True,
)
def fill_cell(row_id: str, property_id: str, generation: int) -> str:
    current = runtime.current()
    outcome = run_fill(
        current.store, current.completer, current.settings, row_id, property_id, generation
    )
    return outcome.value


def send_fill(row_id: str, property_id: str, generation: int, lane: str = "interactive") -> None:
    """The dispatcher's way out, on the lane's queue. No publish retries: if the broker is down
    the dispatcher's transaction rolls back and the entries stay in the outbox for its next
    try."""
    fill_cell.apply_async(
        args=(row_id, property_id, generation), queue=queue_for(lane), retry=False
    )
