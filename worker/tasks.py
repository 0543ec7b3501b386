"""Celery tasks: thin. Ids in; the fill's logic lives in autofill.fills, where the evals run it.

A task may run twice (a redelivered message, a sweeper's re-dispatch); the fill's generation
check and lease make the second run a no-op. No delay lives in the queue: a fill that cannot go
on (the worker is stopping, the database failed under it) hands its entry back to the outbox
with a due time, and the dispatcher sends it again — no Celery countdown, no retry held in a
worker's memory. If even the hand-back cannot reach the database, the entry is still there and
the sweeper sends it again.
"""

from __future__ import annotations

import structlog
from sqlalchemy.exc import DBAPIError
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from autofill.fills import fill_cell as run_fill
from autofill.fills import hand_back, hand_back_after_crash
from worker import runtime
from worker.celery_app import app, queue_for

log = structlog.get_logger(__name__)
DATABASE_RETRY_S = 2.0  # a fill the database failed under is due again this much later
# How long a worker thread keeps trying to hand a fill back while the database is out (full,
# restarting): a thread waiting here costs nothing, and the fill is not left to the sweeper.
HAND_BACK_FOR_S = 30.0


@app.task(
    name="autofill.fill_cell",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def fill_cell(row_id: str, property_id: str, generation: int) -> str:
    current = runtime.current()
    if runtime.stopping.is_set():
        # Received, not started, and the worker is going: another worker takes it now.
        return hand_back(current.store, row_id, property_id, generation).value
    try:
        outcome = run_fill(
            current.store, current.completer, current.settings, row_id, property_id, generation
        )
    except DBAPIError as exc:
        log.warning("fill lost the database; handing it back", row_id=row_id, error=str(exc))
        retrying = Retrying(
            retry=retry_if_exception_type(DBAPIError),
            wait=wait_exponential(multiplier=0.5, max=5.0),
            stop=stop_after_delay(HAND_BACK_FOR_S),
            reraise=True,
        )
        try:
            handed = retrying(
                hand_back, current.store, row_id, property_id, generation, delay_s=DATABASE_RETRY_S
            )
        except DBAPIError:
            log.warning("database still out; the sweeper will send the fill again", row_id=row_id)
            return "left_for_sweeper"  # the entry is still in the outbox
        return handed.value
    except Exception as exc:  # a bug or a library failing: counted, retried, capped
        log.exception("fill crashed", row_id=row_id, property_id=property_id)
        try:
            return hand_back_after_crash(
                current.store, current.settings, row_id, property_id, generation, exc
            ).value
        except Exception:
            return "left_for_sweeper"
    return outcome.value


def send_fill(row_id: str, property_id: str, generation: int, lane: str = "interactive") -> None:
    """The dispatcher's way out, on the lane's queue. No publish retries: if the broker is down
    the dispatcher's transaction rolls back and the entries stay in the outbox for its next
    try."""
    fill_cell.apply_async(
        args=(row_id, property_id, generation), queue=queue_for(lane), retry=False
    )
