"""Run state: running until every selected cell is settled, or cancelled while running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autofill.fills import run_state
from autofill.fills.run_state import RunStateError
from autofill.fills.spend import Settled
from autofill.kinds import RunState, Scope

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_a_run_that_selected_nothing_is_done_at_once() -> None:
    run = run_state.new_run("ws_1", "prop_1", Scope.EMPTY, 0, NOW)
    assert (run.state, run.finished_at) == ("done", NOW)
    with pytest.raises(RunStateError, match="only a running run can be cancelled"):
        run_state.cancel(run, NOW)


def test_readers_see_a_run_done_once_its_last_cell_settled() -> None:
    run = run_state.new_run("ws_1", "prop_1", Scope.ALL, 3, NOW)
    last = NOW + timedelta(seconds=5)
    assert run_state.as_seen(run, Settled(done=2), last, NOW) == (RunState.RUNNING, None)
    assert run_state.as_seen(run, Settled(done=2, failed=1), last, NOW) == (RunState.DONE, last)
    run_state.cancel(run, NOW)
    assert run_state.as_seen(run, Settled(done=3), last, NOW) == (RunState.CANCELLED, NOW)
