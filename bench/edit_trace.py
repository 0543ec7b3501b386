"""Tokens spent on a realistic trace of edits: Autofill versus refilling every AI column on
every save, with the same final cell values.

    .venv/bin/python -m bench.edit_trace            # 500 rows, about a minute

The trace (seeded, so every run replays the same edits) creates 500 rows and then edits them
the way people do: status and owner changes no column reads, typos made and fixed (some in the
same sitting, some in the next), bursts of saves while a paragraph is typed, page rewrites and
renames. A *sitting* is a burst of saves on one row closer together than the debounce; sittings
are further apart. Three AI columns: a summary and a sentiment of the page, and the Name in
French.

Autofill replays the trace through the service layer (each save is the same `update_row` the
API calls) and, after each sitting, runs every due fill through `fill_cell` — the production
path. The naive run calls the model for every AI column on every save, with the same prompts
(`prepare`) and the same simulator. Tokens are prompt + answer tokens as the simulator counts
them. The final value of every cell must be the same in both runs.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from autofill.config import Settings, use_settings
from autofill.db.migrate import upgrade
from autofill.db.models import Cell, OutboxEntry
from autofill.db.session import Store
from autofill.fills import shared_limiter, usage
from autofill.fills.fill import fill_cell
from autofill.llm.complete import Completer
from autofill.llm.simulator import Simulator
from autofill.prompts.prepare import prepare, row_data
from autofill.schemas import DatabaseCreate, PropertyCreate, RowCreate, RowUpdate
from autofill.services import databases as database_service
from autofill.services import properties as property_service
from autofill.services import rows as row_service
from autofill.services.lookup import get_database, get_row
from autofill.services.store import open_store
from autofill.services.workspaces import create_workspace
from bench.backfill import COLUMNS as PAGE_COLUMNS
from bench.results import record

SENTENCES = [
    "The customer cannot export invoices since the last update.",
    "They need the March invoices for an audit next week.",
    "Support suggested clearing the cache, which did not help.",
    "The account manager promised a call on Thursday.",
    "They like the new editor and the faster search.",
    "Billing charged them twice for the annual plan.",
    "A refund was issued but has not arrived yet.",
    "The team wants single sign-on before renewing.",
    "Dark mode is the most requested feature this quarter.",
    "Their admin cannot add new members to the workspace.",
]
NAMES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vehement", "Stark", "Wayne"]
COLUMNS: list[dict[str, Any]] = [
    *PAGE_COLUMNS,  # a summary and a sentiment of the page, as in the backfill
    {
        "name": "Name (FR)",
        "type": "ai",
        "ai": {
            "task": "translate",
            "target_language": "fr",
            "inputs": ["Name"],
            "model": "sim:sim-1",
        },
    },
]


@dataclass
class Save:
    row: int
    properties: dict[str, Any] | None = None
    content: str | None = None


def page(rng: random.Random) -> str:
    return " ".join(rng.sample(SENTENCES, rng.randint(2, 5)))


def make_trace(rows: int, seed: int) -> tuple[list[dict[str, Any]], list[list[Save]]]:
    """Rows to create, then sittings (each a list of saves on one row)."""
    rng = random.Random(seed)
    created = [
        {"Name": f"{rng.choice(NAMES)} {n}", "content": page(rng), "Status": "Open"}
        for n in range(rows)
    ]
    contents = [c["content"] for c in created]
    sittings: list[list[Save]] = []
    for _ in range(rows * 4):
        n = rng.randrange(rows)
        kind = rng.choices(
            ["status", "owner", "typo_same", "typo_next", "burst", "rewrite", "rename"],
            weights=[30, 15, 10, 8, 20, 10, 7],
        )[0]
        text = contents[n]
        if kind == "status":
            sittings.append([Save(n, {"Status": rng.choice(["Open", "Waiting", "Done"])})])
        elif kind == "owner":
            sittings.append([Save(n, {"Owner": rng.choice(["Lee", "Sam", "Ana"])})])
        elif kind in ("typo_same", "typo_next"):
            typo = text.replace("the", "teh", 1) if "the" in text else text + " x"
            if kind == "typo_same":  # noticed before leaving the page
                sittings.append([Save(n, content=typo), Save(n, content=text)])
            else:  # fixed on a later visit
                sittings += [[Save(n, content=typo)], [Save(n, content=text)]]
        elif kind == "burst":
            added = rng.choice(SENTENCES)
            steps = rng.randint(3, 8)
            burst = [
                Save(n, content=f"{text} {added[: len(added) * k // steps]}")
                for k in range(1, steps + 1)
            ]
            contents[n] = burst[-1].content or text
            sittings.append(burst)
        elif kind == "rewrite":
            contents[n] = page(rng)
            sittings.append([Save(n, content=contents[n])])
        else:
            sittings.append([Save(n, {"Name": f"{rng.choice(NAMES)} {n}"})])
    return created, sittings


def run_autofill(
    store: Store, settings: Settings, created: list[dict[str, Any]], sittings: list[list[Save]]
) -> tuple[usage.Spend, usage.Spend, dict[tuple[int, str], Any], tuple[str, str]]:
    """(spent on the new rows' first fills, spent in all, final values, where)."""
    completer = Completer(shared_limiter())
    with store.transaction() as session:
        workspace, _ = create_workspace(session, "Trace")
        spec = DatabaseCreate.model_validate(
            {
                "name": "Accounts",
                "properties": [
                    {"name": "Name", "type": "title"},
                    {"name": "Status", "type": "select", "options": ["Open", "Waiting", "Done"]},
                    {"name": "Owner", "type": "text"},
                ],
            }
        )
        database = database_service.create_database(
            session, workspace.id, spec, default_model="sim:sim-1"
        )
        for column in COLUMNS:
            property_service.add_property(
                session, database, PropertyCreate.model_validate(column), default_model="sim:sim-1"
            )
        row_ids = []
        for values in created:
            data = RowCreate(
                properties={"Name": values["Name"], "Status": values["Status"]},
                content=values["content"],
            )
            row_ids.append(row_service.create_row(session, database, data).id)
        workspace_id, database_id = workspace.id, database.id
    drain(store, completer, settings)
    with store.transaction() as session:
        created_spend = usage.this_month(session, workspace_id)
    for sitting in sittings:
        with store.transaction() as session:
            database = get_database(session, workspace_id, database_id)
            for save in sitting:
                row = get_row(session, workspace_id, row_ids[save.row], for_update=True)
                update = RowUpdate(properties=save.properties, content=save.content)
                row_service.update_row(session, database, row, update, debounce_s=1.0)
        drain(store, completer, settings)
    with store.transaction() as session:
        spent = usage.this_month(session, workspace_id)
        database = get_database(session, workspace_id, database_id)
        names = {p.id: p.name for p in database.properties}
        index = {row_id: n for n, row_id in enumerate(row_ids)}
        finals = {
            (index[cell.row_id], names[cell.property_id]): cell.value
            for cell in session.scalars(select(Cell))
        }
    return created_spend, spent, finals, (workspace_id, database_id)


def drain(store: Store, completer: Completer, settings: Settings) -> None:
    """Every due fill, through the production fill path (the sitting is over: debounce done)."""
    while True:
        with store.transaction() as session:
            due = session.execute(
                select(OutboxEntry.row_id, OutboxEntry.property_id, OutboxEntry.generation)
            )
            entries = due.all()
        if not entries:
            return
        for row_id, property_id, generation in entries:
            fill_cell(store, completer, settings, row_id, property_id, generation)


def run_naive(
    store: Store,
    where: tuple[str, str],
    created: list[dict[str, Any]],
    sittings: list[list[Save]],
) -> tuple[int, int, dict[tuple[int, str], Any]]:
    """Every save refills every AI column: prompts built the same way, the same model.
    Returns (tokens of the new rows' first fills, tokens in all, final values)."""
    completer = Completer(shared_limiter())
    with store.transaction() as session:
        database = get_database(session, *where)
        props = {p.name: p for p in database.properties}
        names = {p.id: p.name for p in database.properties}
    states = [
        {"values": {"Name": c["Name"], "Status": c["Status"]}, "content": c["content"]}
        for c in created
    ]
    tokens = 0
    finals: dict[tuple[int, str], Any] = {}

    def refill(n: int) -> None:
        nonlocal tokens
        state = states[n]
        values = {props[k].id: v for k, v in state["values"].items()}
        for column in COLUMNS:
            ai = props[column["name"]].ai
            assert ai is not None
            prepared = prepare(ai, row_data(ai, names, values, state["content"], {}))
            completion = completer.complete(prepared.request)
            tokens += completion.usage.input_tokens + completion.usage.output_tokens
            finals[(n, column["name"])] = completion.value

    for n in range(len(states)):
        refill(n)
    created_tokens = tokens
    for sitting in sittings:
        for save in sitting:
            state = states[save.row]
            if save.properties:
                state["values"].update(save.properties)
            if save.content is not None:
                state["content"] = save.content
            refill(save.row)
    return created_tokens, tokens, finals


@click.command()
@click.option("--rows", default=500, show_default=True)
@click.option("--seed", default=7, show_default=True)
def main(rows: int, seed: int) -> None:
    """The figure counts the edits: the rows exist and are filled when the trace starts (both
    runs pay the same for those first fills; the details count them too)."""
    created, sittings = make_trace(rows, seed)
    saves = sum(len(s) for s in sittings)
    with tempfile.TemporaryDirectory() as scratch, Simulator() as sim:
        settings = Settings(
            data_dir=Path(scratch), redis_url=None, debounce_s=1.0, sim_url=sim.openai_base_url
        )
        use_settings(settings)  # the completer's routes read the simulator's address there
        store = open_store(f"sqlite:///{scratch}/trace.db")
        upgrade(store)
        first, spent, ours, where = run_autofill(store, settings, created, sittings)
        our_calls = len(sim.requests)
        naive_first, naive_all, theirs = run_naive(store, where, created, sittings)
        naive_calls = len(sim.requests) - our_calls
        store.dispose()
    our_all = spent.tokens_in + spent.tokens_out
    our_edits = our_all - (first.tokens_in + first.tokens_out)
    naive_edits = naive_all - naive_first
    same = ours == theirs
    share = our_edits / naive_edits
    click.echo(
        f"{rows} rows, {len(sittings)} sittings, {saves} saves. Tokens on the edits: Autofill "
        f"{our_edits:,}, naive {naive_edits:,} → {share:.1%}. With the new rows' first fills: "
        f"{our_all:,} vs {naive_all:,} → {our_all / naive_all:.1%}. Calls: {our_calls} vs "
        f"{naive_calls}. Final values identical: {same}"
    )
    record(
        "edit_trace_tokens_vs_naive",
        round(100 * share, 1),
        "% of the naive tokens",
        target="<= 25%, identical final values",
        met=share <= 0.25 and same,
        command=f"python -m bench.edit_trace --rows {rows} --seed {seed}",
        details={
            "rows": rows,
            "sittings": len(sittings),
            "saves": saves,
            "autofill_edit_tokens": our_edits,
            "naive_edit_tokens": naive_edits,
            "autofill_tokens_with_first_fills": our_all,
            "naive_tokens_with_first_fills": naive_all,
            "share_with_first_fills": round(our_all / naive_all, 3),
            "autofill_calls": our_calls,
            "naive_calls": naive_calls,
            "fills_avoided": spent.fills_avoided,
            "final_values_identical": same,
        },
    )
    if not same:
        differing = [key for key in theirs if ours.get(key) != theirs[key]][:5]
        raise SystemExit(f"final values differ, e.g. {differing}")


if __name__ == "__main__":
    main()
