"""Where a bulk fill's CPU goes, step by step, without Celery, threads or the GIL's contention:
the production claim (``claim_group``), model call (``call_model``, the openai SDK against the
simulator answering at once) and record (``record_group``), run one after another on one
thread over a backfill's groups, on PostgreSQL. The record runs in batches of each ``--batch``
size, so the figures show what recording answers together saves.

    .venv/bin/python -m bench.fill_steps                      # batches of 1, 5 and 20
    .venv/bin/python -m bench.fill_steps --rows 1000 --batch 1 --batch 50

Reports this process's CPU per fill for each step (time.process_time) and the statements each
fill costs (an executemany counts once), per batch size. The first group warms up (the SDK's
first call builds its client) and is not counted. Printed, not kept in bench/results.json: a
diagnosis, not a target (the targets are bench.backfill's, on the whole pipeline).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import time
from collections import Counter
from functools import partial
from typing import Any

import click
from sqlalchemy import event

from bench.backfill import add_columns, load_rows
from bench.topology import Topology, topology


def _statement_kind(statement: str) -> str:
    words = statement.split()
    return " ".join(words[:3]) if words else "?"


def one_size(
    topo: Topology, rows: int, batch: int, profiler: cProfile.Profile | None = None
) -> dict[str, Any]:
    """A fresh backfill of ``rows`` × 2 columns, filled group by group; CPU per step."""
    from autofill.config import get_settings
    from autofill.fills.dispatch import dispatch_due
    from autofill.fills.fill import Claim, call_model
    from autofill.fills.group import claim_group, record_group
    from autofill.language import forget_pages
    from autofill.llm import Completer
    from autofill.llm.ratelimit import RateLimiter

    settings = get_settings().model_copy(
        update={"bulk_group_size": 20, "max_queued": 1_000_000, "dispatch_batch": 10_000}
    )
    store = topo.store
    forget_pages()  # the pages repeat from one size to the next: detect their language again
    database_id = load_rows(topo, rows)
    add_columns(topo, database_id, 2)
    groups: list[list[tuple[str, str, int]]] = []
    while dispatch_due(store, lambda fills, _lane: groups.append(sorted(set(fills))), settings):
        pass
    completer = Completer(RateLimiter({}))
    statements: Counter[str] = Counter()

    def count(*args: Any) -> None:
        statements[_statement_kind(args[2])] += 1

    spent = dict.fromkeys(("claim", "call", "record"), 0.0)
    fills = 0
    for number, refs in enumerate(groups):
        if number == 1:  # the first group warmed up: count from here
            event.listen(store.engine, "before_cursor_execute", count)
            if profiler is not None:
                profiler.enable()
            spent = dict.fromkeys(spent, 0.0)
            fills = 0
        started = time.process_time()
        claims = store.run(partial(claim_group, settings=settings, refs=refs))
        claimed = time.process_time()
        live = [(ref, claim) for ref, claim in zip(refs, claims, strict=True)]
        answered = [
            (ref, claim, call_model(completer, claim, ref[0], ref[1]))
            for ref, claim in live
            if isinstance(claim, Claim)
        ]
        called = time.process_time()
        for start in range(0, len(answered), batch):
            part = answered[start : start + batch]
            store.run(partial(record_group, settings=settings, answered=part))
        recorded = time.process_time()
        spent["claim"] += claimed - started
        spent["call"] += called - claimed
        spent["record"] += recorded - called
        fills += len(refs)
    event.remove(store.engine, "before_cursor_execute", count)
    if profiler is not None:
        profiler.disable()
    per_fill = {step: round(1000 * seconds / fills, 2) for step, seconds in spent.items()}
    return {
        "record_batch": batch,
        "fills": fills,
        "cpu_ms_per_fill": {**per_fill, "total": round(sum(per_fill.values()), 2)},
        "statements_per_fill": {
            kind: round(n / fills, 2) for kind, n in statements.most_common(15)
        },
    }


@click.command()
@click.option("--rows", default=500, show_default=True, help="rows per batch size (× 2 columns)")
@click.option("--batch", "batches", multiple=True, type=click.IntRange(1), default=(1, 5, 20))
@click.option(
    "--profile",
    is_flag=True,
    help="also profile the counted groups (cProfile, CPU time): our functions by cumulative CPU",
)
def main(rows: int, batches: tuple[int, ...], profile: bool) -> None:
    with topology(sim_args=["--latency-ms", "0", "--jitter", "0"]) as topo:
        # This process fills: it reads the topology's database and simulator from the settings.
        os.environ["AUTOFILL_DATABASE_URL"] = topo.database_url
        os.environ["AUTOFILL_SIM_URL"] = topo.sim_url
        from autofill.config import use_settings
        from autofill.fills.fill import warm_up

        use_settings(None)
        warm_up()
        profiler = cProfile.Profile(time.process_time) if profile else None
        for batch in batches:
            click.echo(json.dumps(one_size(topo, rows, batch, profiler)))
        if profiler is not None:
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(r"/autofill/", 50)
            if os.environ.get("BENCH_CALLEES"):
                stats.print_callees(os.environ["BENCH_CALLEES"])


if __name__ == "__main__":
    main()
