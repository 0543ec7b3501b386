"""A worker process's recorder (autofill.fills.recorder): the answers of all its bulk groups
that come back within the linger are recorded in one transaction, a lone answer waits no longer
than the linger, a bad answer costs only itself, and closing records what waits. The real
store (both databases), claims and the simulator; answers built by hand where a test needs one
the simulator would never give."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from autofill.db.models import Cell, OutboxEntry
from autofill.fills.fill import Claim
from autofill.fills.group import Answered, claim_group
from autofill.fills.handed_group import Calls, run_handed_group
from autofill.fills.recorder import Recorder
from autofill.llm import Completion, Usage
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.autofill.fills.test_group import _backfill, _dispatch
from tests.conftest import Caller


@pytest.fixture
def record_statements(pipeline: Pipeline) -> Iterator[list[str]]:
    """Each statement that deletes done outbox entries: one per record transaction (a batch's
    entries go in one executemany)."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        statement = args[2]
        if statement.lstrip().upper().startswith("DELETE FROM OUTBOX"):
            seen.append(statement)

    event.listen(pipeline.store.engine, "before_cursor_execute", count)
    yield seen
    event.remove(pipeline.store.engine, "before_cursor_execute", count)


def _answer(value: Any) -> Completion:
    return Completion(value, str(value), Usage(10, 5), 0.0001, 0.01, 1, 1, "sim:sim-1")


def _claimed(pipeline: Pipeline, fills: list[tuple[str, str, int]]) -> list[Answered]:
    """The fills claimed for real, each with an answer given by hand (its row's id)."""
    ordered = sorted(fills)
    claims = pipeline.store.run(lambda session: claim_group(session, pipeline.settings, ordered))
    assert all(isinstance(claim, Claim) for claim in claims)
    return [
        (ref, claim, _answer(f"Answer for {ref[0]}."))
        for ref, claim in zip(ordered, claims, strict=True)
        if isinstance(claim, Claim)
    ]


def test_two_groups_answers_are_recorded_in_one_transaction(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, record_statements: list[str]
) -> None:
    _backfill(fill_api, [f"Page {n}." for n in range(8)])
    groups = [fills for fills, _ in _dispatch(pipeline, bulk_group_size=4).sent]
    assert len(groups) == 2
    sim.configure(latency_ms=50)
    calls = Calls(in_flight=8, group_size=4, record_linger_s=1.0)
    results: list[list[str]] = []
    threads = [
        threading.Thread(
            target=lambda fills=fills: results.append(
                run_handed_group(
                    pipeline.store,
                    pipeline.completer,
                    pipeline.settings,
                    calls,
                    fills,
                    stopping=False,
                )
            )
        )
        for fills in groups
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    calls.close()
    assert results == [["filled"] * 4, ["filled"] * 4]
    # Eight answers within the linger: one record for both groups, not one per answer.
    assert len(record_statements) == 1
    with pipeline.store.transaction() as session:
        assert session.scalars(select(OutboxEntry)).all() == []
        assert {cell.status for cell in session.scalars(select(Cell))} == {"filled"}


def test_a_lone_answer_waits_no_longer_than_the_linger(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    _backfill(fill_api, ["Only page."])
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    (answered,) = _claimed(pipeline, fills)
    recorder = Recorder(linger_s=0.3, most=10)
    started = time.monotonic()
    (future,) = recorder.record(pipeline.store, pipeline.settings, [answered])
    outcome, _ = future.result(timeout=10)
    waited = time.monotonic() - started
    recorder.close()
    assert outcome == "filled"
    assert 0.25 <= waited < 2.0  # held for the linger (others could have joined), no longer


def test_a_full_batch_goes_at_once(
    fill_api: Caller, pipeline: Pipeline, record_statements: list[str]
) -> None:
    _backfill(fill_api, [f"Page {n}." for n in range(6)])
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=6).sent
    answered = _claimed(pipeline, fills)
    recorder = Recorder(linger_s=30.0, most=3)  # a linger no test would wait for
    started = time.monotonic()
    futures = recorder.record(pipeline.store, pipeline.settings, answered)
    outcomes = [future.result(timeout=10)[0] for future in futures]
    recorder.close()
    assert outcomes == ["filled"] * 6
    assert time.monotonic() - started < 10
    assert len(record_statements) == 2  # two batches of ``most``


def test_a_bad_answer_costs_only_itself(fill_api: Caller, pipeline: Pipeline) -> None:
    _backfill(fill_api, ["First.", "Second.", "Third."])
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    first, bad, third = _claimed(pipeline, fills)
    # A value no cell can hold (a bug upstream): the batch's transaction fails on it, and the
    # answers are recorded one by one, so only this fill is counted as crashed.
    bad = (bad[0], bad[1], _answer(object()))
    recorder = Recorder(linger_s=0.2, most=10)
    futures = recorder.record(pipeline.store, pipeline.settings, [first, bad, third])
    outcomes = [future.result(timeout=20)[0] for future in futures]
    recorder.close()
    assert outcomes == ["filled", "handed_back", "filled"]
    with pipeline.store.transaction() as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert (entry.row_id, entry.attempts) == (bad[0][0], 1)


def test_closing_records_what_waits_and_a_closed_recorder_records_at_once(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    _backfill(fill_api, ["One.", "Two."])
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    one, two = _claimed(pipeline, fills)
    recorder = Recorder(linger_s=30.0, most=10)
    (waiting,) = recorder.record(pipeline.store, pipeline.settings, [one])
    recorder.close()  # does not wait out the linger: records, then stops
    assert waiting.result(timeout=0)[0] == "filled"
    (late,) = recorder.record(pipeline.store, pipeline.settings, [two])
    assert late.done() and late.result()[0] == "filled"  # recorded by the caller
