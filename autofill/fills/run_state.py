"""The one owner of a bulk run's state: running until every cell it selected is settled, then
done; or cancelled by a person while it runs. Any other move is refused (RunStateError)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from autofill.db import FillRun
from autofill.fills.spend import Settled
from autofill.ids import new_id
from autofill.kinds import RunState, Scope


class RunStateError(RuntimeError):
    """A transition asked of a run in a state it may not leave that way (a bug)."""


def new_run(
    workspace_id: str, property_id: str, scope: Scope, total: int, now: datetime
) -> FillRun:
    """A run of ``total`` cells: running, or done at once when it selected none."""
    return FillRun(
        id=new_id("run"),
        workspace_id=workspace_id,
        property_id=property_id,
        scope=scope.value,
        state=(RunState.RUNNING if total else RunState.DONE).value,
        total=total,
        finished_at=None if total else now,
    )


def cancel(run: FillRun, now: datetime) -> None:
    if run.state != RunState.RUNNING.value:
        raise RunStateError(f"run {run.id} is {run.state}: only a running run can be cancelled")
    run.state = RunState.CANCELLED.value
    run.finished_at = now


def finish_if_complete(session: Session, run_id: str, last_at: datetime) -> None:
    """Done, if it is still running and every cell it selected is settled in its row."""
    settled = FillRun.done + FillRun.failed + FillRun.skipped
    session.execute(
        update(FillRun)
        .where(
            FillRun.id == run_id, FillRun.state == RunState.RUNNING.value, settled >= FillRun.total
        )
        .values(state=RunState.DONE.value, finished_at=last_at)
    )


def as_seen(
    run: FillRun, settled: Settled, last_settled_at: datetime | None, now: datetime
) -> tuple[RunState, datetime | None]:
    """The state readers see, counting the settled cells not yet folded into the row: a run
    whose last cell settled is done before the sweeper writes so."""
    state = RunState(run.state)
    if state == RunState.RUNNING and settled.total >= run.total:
        return RunState.DONE, last_settled_at or now
    return state, run.finished_at
