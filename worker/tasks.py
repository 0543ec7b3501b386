"""Celery tasks: thin. Ids in; the fill's logic lives in autofill.fills, where the evals run it.

A task may run twice (a redelivered message, a sweeper's re-dispatch); the fill's generation
check and lease make the second run a no-op. What cannot go on (the worker stopping, the
database failing under the fill, a crash) goes back to the outbox with a due time
(autofill.fills.handed): no Celery countdown, no retry held in a worker's memory.
"""

from __future__ import annotations

from autofill.fills import run_handed_fill
from worker import runtime
from worker.celery_app import app, queue_for


@app.task(
    name="autofill.fill_cell",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def fill_cell(row_id: str, property_id: str, generation: int) -> str:
    current = runtime.current()
    return run_handed_fill(
        current.store,
        current.completer,
        current.settings,
        row_id,
        property_id,
        generation,
        stopping=runtime.stopping.is_set(),  # set by Celery's warm shutdown
    )


def send_fill(row_id: str, property_id: str, generation: int, lane: str = "interactive") -> None:
    """The dispatcher's way out, on the lane's queue. No publish retries: if the broker is down
    the dispatcher's transaction rolls back and the entries stay in the outbox for its next
    try."""
    fill_cell.apply_async(
        args=(row_id, property_id, generation), queue=queue_for(lane), retry=False
    )
