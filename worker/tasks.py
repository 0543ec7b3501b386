"""Celery tasks: thin. Ids in; the fill's logic lives in autofill.fills, where the evals run it.

A task may run twice (a redelivered message, a sweeper's re-dispatch); the fill's generation
check and lease make the second run a no-op. What cannot go on (the worker stopping, the
database failing under the fill, a crash) goes back to the outbox with a due time
(autofill.fills.handed): no Celery countdown, no retry held in a worker's memory.
"""

from __future__ import annotations

from autofill.config import get_settings
from autofill.fills import run_handed_fill, run_handed_group
from worker import runtime
from worker.broker import publish_options
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


@app.task(
    name="autofill.fill_cells",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def fill_cells(fills: list[list[str | int]]) -> list[str]:
    """A group of bulk fills: claimed together, called side by side on the process's call
    threads, recorded together (autofill.fills.handed_group)."""
    current = runtime.current()
    refs = [
        (str(row_id), str(property_id), int(generation))
        for row_id, property_id, generation in fills
    ]
    return run_handed_group(
        current.store,
        current.completer,
        current.settings,
        runtime.calls(),
        refs,
        stopping=runtime.stopping.is_set(),
    )


def send_fills(fills: list[tuple[str, str, int]], lane: str = "interactive") -> None:
    """The dispatcher's way out, on the lane's queue: one fill as ``fill_cell``, several as one
    ``fill_cells`` message. No publish retries: if the broker is down the dispatcher's
    transaction rolls back and the entries stay in the outbox for its next try."""
    options = publish_options(get_settings())
    if len(fills) == 1:
        fill_cell.apply_async(args=fills[0], queue=queue_for(lane), retry=False, **options)
    else:
        fill_cells.apply_async(
            args=([list(fill) for fill in fills],), queue=queue_for(lane), retry=False, **options
        )
