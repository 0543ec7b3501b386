"""Bulk fills in groups (autofill.fills.group, handed_group): the dispatcher sends a backfill in
groups, a worker claims each group in one transaction, calls side by side and records the
answers together — and each fill keeps every rule a single fill has. The real store (both
databases), the real completer and the LLM simulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from autofill.db.models import OutboxEntry, Row
from autofill.fills.dispatch import dispatch_due, whole_groups
from autofill.fills.group import _lock, detect_new_pages
from autofill.fills.handed_group import Calls, run_handed_group
from autofill.kinds import Lane
from autofill.llm import Completer, Completion, LLMRequest
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.conftest import Caller
from tests.helpers import add_property, add_row, make_database

SUMMARY = {"name": "Summary", "type": "ai", "ai": {"task": "summary", "model": "sim:sim-1"}}
Fill = tuple[str, str, int]


def _backfill(api: Caller, contents: list[str]) -> dict[str, Any]:
    """A database with a row per content, then an AI column over them: a backfill (bulk)."""
    database = make_database(
        api, {"name": "Notes", "properties": [{"name": "Name", "type": "title"}]}
    )
    rows = []
    for number, content in enumerate(contents):
        response = api.post(
            f"/v1/databases/{database['id']}/rows",
            json={"properties": {"Name": f"Row {number}"}, "content": content},
        )
        assert response.status_code == 201
        rows.append(response.get_json()["id"])
    response = api.post(f"/v1/databases/{database['id']}/properties", json=SUMMARY)
    assert response.status_code == 201, response.get_json()
    return {**database, "column": response.get_json()["id"], "rows": rows}


@pytest.fixture
def calls() -> Iterator[Calls]:
    pool = Calls(in_flight=8, group_size=4)
    yield pool
    pool.close()


class Messages:
    """The queue as the dispatcher fills it: one entry per message, with its lane."""

    def __init__(self) -> None:
        self.sent: list[tuple[list[Fill], str]] = []

    def __call__(self, fills: list[Fill], lane: str) -> None:
        self.sent.append((list(fills), lane))


def _dispatch(pipeline: Pipeline, **settings: Any) -> Messages:
    pipeline.settings = pipeline.settings.model_copy(update=settings)
    messages = Messages()
    while dispatch_due(pipeline.store, messages, pipeline.settings):
        pass
    return messages


def _cells(api: Caller, rows: list[str]) -> list[dict[str, Any]]:
    return [api.get(f"/v1/rows/{row}").get_json()["cells"]["Summary"] for row in rows]


def test_a_backfill_goes_in_groups_and_each_group_fills_its_cells(
    fill_api: Caller, pipeline: Pipeline, calls: Calls, sim: Simulator
) -> None:
    database = _backfill(fill_api, [f"Page {n} of the launch notes." for n in range(6)])
    messages = _dispatch(pipeline, bulk_group_size=4)
    assert [(len(fills), lane) for fills, lane in messages.sent] == [
        (4, Lane.BULK.value),
        (2, Lane.BULK.value),
    ]
    for fills, _ in messages.sent:
        outcomes = run_handed_group(
            pipeline.store, pipeline.completer, pipeline.settings, calls, fills, stopping=False
        )
        assert outcomes == ["filled"] * len(fills)
    cells = _cells(fill_api, database["rows"])
    assert [cell["status"] for cell in cells] == ["filled"] * 6
    for number, cell in enumerate(cells):
        assert cell["value"].startswith(f"[sim] Page {number} of the launch notes.")
        assert cell["provenance"]["model"] == "sim:sim-1"
    assert len(sim.requests) == 6
    with pipeline.store.transaction() as session:
        assert session.scalars(select(OutboxEntry)).all() == []
    usage = fill_api.get("/v1/workspace").get_json()["usage"]
    assert (usage["fills"], usage["model_calls"]) == (6, 6)


def test_an_edit_still_goes_alone(fill_api: Caller, pipeline: Pipeline) -> None:
    database = make_database(
        fill_api,
        {"name": "Notes", "properties": [{"name": "Name", "type": "title"}, SUMMARY]},
    )
    for number in range(3):
        fill_api.post(
            f"/v1/databases/{database['id']}/rows",
            json={"properties": {"Name": f"Row {number}"}, "content": f"Edit {number}."},
        )
    messages = _dispatch(pipeline, bulk_group_size=4)
    assert [(len(fills), lane) for fills, lane in messages.sent] == [
        (1, Lane.INTERACTIVE.value)
    ] * 3


def test_in_a_group_each_fill_keeps_its_own_rules(
    fill_api: Caller, pipeline: Pipeline, calls: Calls, sim: Simulator
) -> None:
    database = _backfill(fill_api, ["Kept by a person.", "Edited.", "Deleted.", "Plain."])
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    kept, edited, deleted, plain = database["rows"]
    fill_api.put(f"/v1/rows/{kept}/cells/{database['column']}", json={"value": "Mine."})
    fill_api.patch(f"/v1/rows/{edited}", json={"content": "Edited again, after the send."})
    assert fill_api.delete(f"/v1/rows/{deleted}").status_code == 204

    outcomes = run_handed_group(
        pipeline.store, pipeline.completer, pipeline.settings, calls, fills, stopping=False
    )
    by_row = {fill[0]: outcome for fill, outcome in zip(sorted(fills), outcomes, strict=True)}
    assert by_row == {
        kept: "overridden",
        edited: "superseded",  # a newer generation is due: this message is stale
        deleted: "superseded",  # its outbox entry went with the row
        plain: "filled",
    }
    assert len(sim.requests) == 1  # only the plain row's fill called the model
    kept_cell, edited_cell, plain_cell = _cells(fill_api, [kept, edited, plain])
    assert (kept_cell["status"], kept_cell["value"]) == ("overridden", "Mine.")
    assert edited_cell["status"] == "pending"  # its newer fill is still due
    assert plain_cell["status"] == "filled"


class CrashesOn:
    """A completer whose SDK falls over for one page (a bug nobody planned for) and answers
    the others through the real completer and the simulator."""

    def __init__(self, completer: Completer, marker: str) -> None:
        self.completer, self.marker = completer, marker

    def complete(self, request: LLMRequest) -> Completion:
        if any(self.marker in str(message.content) for message in request.messages):
            raise RuntimeError("the SDK fell over")
        return self.completer.complete(request)


def test_a_call_that_crashes_costs_only_its_own_fill(
    fill_api: Caller, pipeline: Pipeline, calls: Calls
) -> None:
    database = _backfill(fill_api, ["Fine one.", "CRASH here.", "Fine two."])
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    crashing: Any = CrashesOn(pipeline.completer, "CRASH")  # a Completer's duck
    outcomes = run_handed_group(
        pipeline.store,
        crashing,
        pipeline.settings,
        calls,
        fills,
        stopping=False,
    )
    by_row = {fill[0]: outcome for fill, outcome in zip(sorted(fills), outcomes, strict=True)}
    first, crashed, second = database["rows"]
    assert by_row == {first: "filled", crashed: "handed_back", second: "filled"}
    with pipeline.store.transaction() as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert (entry.row_id, entry.state, entry.attempts) == (crashed, "waiting", 1)


def test_a_stopping_worker_hands_the_group_back(
    fill_api: Caller, pipeline: Pipeline, calls: Calls, sim: Simulator
) -> None:
    _backfill(fill_api, ["One.", "Two."])
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    outcomes = run_handed_group(
        pipeline.store, pipeline.completer, pipeline.settings, calls, fills, stopping=True
    )
    assert outcomes == ["handed_back", "handed_back"]
    assert sim.requests == []
    with pipeline.store.transaction() as session:
        states = session.scalars(select(OutboxEntry.state)).all()
    assert states == ["waiting", "waiting"]


def test_groups_and_edits_on_the_same_rows_do_not_deadlock(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    """Groups lock their rows, then entries, in key order before any counter; a person's edit
    locks its row first too. Three groups over the same rows, with edits to those rows while
    they run, all end (on PostgreSQL a lock cycle would abort one with a deadlock error)."""
    database = _backfill(fill_api, [f"Page {n}." for n in range(8)])
    fills = [fill for fills, _ in _dispatch(pipeline, bulk_group_size=8).sent for fill in fills]
    sim.configure(latency_ms=50)
    calls = Calls(in_flight=24, group_size=8)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def group(order: list[Fill]) -> None:
        try:
            results.append(
                run_handed_group(
                    pipeline.store,
                    pipeline.completer,
                    pipeline.settings,
                    calls,
                    order,
                    stopping=False,
                )
            )
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    threads = [
        threading.Thread(target=group, args=(order,))
        for order in (fills, list(reversed(fills)), fills[::2] + fills[1::2])
    ]
    for thread in threads:
        thread.start()
    for row in database["rows"][::3]:
        assert (
            fill_api.patch(f"/v1/rows/{row}", json={"content": "Edited meanwhile."}).status_code
            == 200
        )
    for thread in threads:
        thread.join(timeout=60)
    calls.close()
    assert errors == [] and len(results) == 3
    outcomes = [outcome for result in results for outcome in result]
    # Each fill is claimed once; the other groups find it running, done or stale. The rows
    # nobody edited are filled exactly once.
    edited = len(database["rows"][::3])
    assert len(fills) - edited <= outcomes.count("filled") <= len(fills)
    assert set(outcomes) <= {"filled", "duplicate", "superseded", "unchanged"}


PAGES = {
    "fr": "Le client demande un remboursement : la facture de mars a été payée deux fois.",
    "de": "Der Kunde wünscht sich einen dunklen Modus und eine schnellere Synchronisierung.",
    "ja": "顧客は請求書のエクスポートができないと報告しています。監査のために三月分が必要です。",
}


def _languages(pipeline: Pipeline, rows: list[str]) -> list[str | None]:
    with pipeline.store.transaction() as session:
        return [session.get_one(Row, row).content_language for row in rows]


def test_a_group_detects_its_new_pages_before_its_claims(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    """detect_new_pages, alone: each page a fill of the group reads gets its language on the
    row and in the group's reads before any claim runs; a page whose language the row keeps
    already is not looked at again."""
    database = _backfill(fill_api, [*PAGES.values(), PAGES["fr"]])
    french, german, japanese, known = database["rows"]
    with pipeline.store.transaction() as session:
        # Kept already (as a fill would have kept it): not detected again, even though wrong.
        session.execute(update(Row).where(Row.id == known).values(content_language="it|Latin|1"))
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    with pipeline.store.transaction() as session:
        reads = _lock(session, fills)
        detect_new_pages(session, fills, reads)
        assert reads.languages == {
            french: "fr|Latin|1",
            german: "de|Latin|1",
            japanese: "ja|Kana|1",
        }
        rows = [session.get_one(Row, row) for row in database["rows"]]
        assert [row.content_language for row in rows] == [
            "fr|Latin|1",
            "de|Latin|1",
            "ja|Kana|1",
            "it|Latin|1",
        ]


def test_a_groups_requests_name_the_language_a_single_fill_would(
    fill_api: Caller, pipeline: Pipeline, calls: Calls, sim: Simulator
) -> None:
    database = _backfill(fill_api, list(PAGES.values()))
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    outcomes = run_handed_group(
        pipeline.store, pipeline.completer, pipeline.settings, calls, fills, stopping=False
    )
    assert outcomes == ["filled"] * 3
    assert _languages(pipeline, database["rows"]) == ["fr|Latin|1", "de|Latin|1", "ja|Kana|1"]
    # Each request's own turn (the last; the examples before it name their own languages).
    named = sorted(
        name
        for request in sim.requests
        for name in ("French", "German", "Japanese")
        if f"The page is written in {name}" in str(request["body"]["messages"][-1])
    )
    assert named == ["French", "German", "Japanese"]


def test_a_group_that_does_not_read_the_page_leaves_its_language_alone(
    fill_api: Caller, pipeline: Pipeline, calls: Calls
) -> None:
    database = make_database(
        fill_api, {"name": "Notes", "properties": [{"name": "Name", "type": "title"}]}
    )
    rows = [
        add_row(fill_api, database["id"], {"properties": {"Name": f"Row {n}"}, "content": page})[
            "id"
        ]
        for n, page in enumerate(PAGES.values())
    ]
    by_name = {"name": "Named", "type": "ai", "ai": {"task": "summary", "inputs": ["Name"]}}
    add_property(fill_api, database["id"], by_name)
    ((fills, _),) = _dispatch(pipeline, bulk_group_size=4).sent
    outcomes = run_handed_group(
        pipeline.store, pipeline.completer, pipeline.settings, calls, fills, stopping=False
    )
    assert outcomes == ["filled"] * 3
    assert _languages(pipeline, rows) == [None, None, None]


def test_a_backfill_goes_out_in_whole_groups_until_its_last_fills(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    """Room for 8 bulk fills (max_queued 10, a fifth kept for edits) and groups of 3: two whole
    groups go, not two and a part of one; the last fills go however few they are."""
    _backfill(fill_api, [f"Page {n}." for n in range(11)])
    first = _dispatch(pipeline, bulk_group_size=3, max_queued=10)
    assert [len(fills) for fills, _ in first.sent] == [3, 3]
    with pipeline.store.transaction() as session:  # the workers took them: room again
        session.execute(
            update(OutboxEntry).where(OutboxEntry.state == "dispatched").values(state="running")
        )
    second = _dispatch(pipeline, bulk_group_size=3, max_queued=10)
    assert [len(fills) for fills, _ in second.sent] == [3, 2]  # all that waits fits: the tail


@pytest.mark.parametrize(
    ("slots", "waiting", "group", "sent"),
    [(32, 1000, 20, 20), (19, 1000, 20, 0), (40, 1000, 20, 40), (32, 7, 20, 7), (5, 9, 1, 5)],
)
def test_whole_groups(slots: int, waiting: int, group: int, sent: int) -> None:
    assert whole_groups(slots, waiting, group) == sent
