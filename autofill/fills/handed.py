"""What a worker does with a fill it was handed: run it, or give it back to the outbox.

No delay lives in the queue: a fill that cannot go on hands its entry back with a due time and
the dispatcher sends it again — no Celery countdown, no retry held in a worker's memory.
- The worker is stopping: a fill not yet started goes back due now, for another worker.
- The database went away under the fill (a connection refused or cut, past ``Store.run``'s own
  retry on a fresh connection): back, due in ``DATABASE_RETRY_S``, tried for up to
  ``HAND_BACK_FOR_S`` while the database is out; if it stays out, the entry is still there and
  the sweeper sends it again. Not counted: the fill did nothing wrong.
- The fill crashed (a bug, a library failing, or a statement the database refuses — an
  integrity or data error would fail the same way every time): counted as an attempt, back
  after a backoff, and at the attempt cap its cell ends in error naming the exception.
The Celery task (worker.tasks) calls this with ids, as the evals call ``fill_cell``.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from autofill import clock
from autofill.config import Settings
from autofill.db import Store
from autofill.fills.fill import fill_cell, hand_back, hand_back_after_crash
from autofill.kinds import Outcome
from autofill.llm import Completer
from autofill.logs import get_logger

log = get_logger(__name__)
DATABASE_RETRY_S = 2.0  # a fill the database failed under is due again this much later
# How long a worker thread keeps trying to hand a fill back while the database is out (full,
# restarting): a thread waiting here costs nothing, and the fill is not left to the sweeper.
HAND_BACK_FOR_S = 30.0
LEFT_FOR_SWEEPER = "left_for_sweeper"


def run_handed_fill(
    store: Store,
    completer: Completer,
    settings: Settings,
    row_id: str,
    property_id: str,
    generation: int,
    *,
    stopping: bool,
) -> str:
    """Run the fill, or hand it back; the outcome's name (or ``left_for_sweeper``)."""
    if stopping:
        return hand_back(store, row_id, property_id, generation).value
    try:
        return fill_cell(store, completer, settings, row_id, property_id, generation).value
    except DBAPIError as exc:
        if not database_out(exc):
            return _count_the_crash(store, settings, row_id, property_id, generation, exc)
        log.warning("fill lost the database; handing it back", row_id=row_id, error=str(exc))
        return _hand_back_when_the_database_is_back(store, row_id, property_id, generation)
    except Exception as exc:  # a bug or a library failing: counted, retried, capped
        return _count_the_crash(store, settings, row_id, property_id, generation, exc)


def database_out(error: DBAPIError) -> bool:
    """The database could not be reached or went away (refused, full, restarting, cut): not the
    fill's fault. Anything else it raises (an integrity or data error) would recur."""
    return isinstance(error, OperationalError | InterfaceError) or bool(
        error.connection_invalidated
    )


def _count_the_crash(
    store: Store,
    settings: Settings,
    row_id: str,
    property_id: str,
    generation: int,
    error: Exception,
) -> str:
    log.error("fill crashed", row_id=row_id, property_id=property_id, exc_info=error)
    try:
        return hand_back_after_crash(store, settings, row_id, property_id, generation, error).value
    except Exception:
        return LEFT_FOR_SWEEPER


def _hand_back_when_the_database_is_back(
    store: Store, row_id: str, property_id: str, generation: int
) -> str:
    retrying = Retrying(
        retry=retry_if_exception_type(DBAPIError),
        wait=wait_exponential(multiplier=0.5, max=5.0),
        stop=stop_after_delay(HAND_BACK_FOR_S),
        sleep=lambda seconds: clock.current().sleep(seconds),
        reraise=True,
    )
    try:
        outcome: Outcome = retrying(
            hand_back, store, row_id, property_id, generation, delay_s=DATABASE_RETRY_S
        )
    except DBAPIError:
        log.warning("database still out; the sweeper will send the fill again", row_id=row_id)
        return LEFT_FOR_SWEEPER  # the entry is still in the outbox
    return outcome.value
