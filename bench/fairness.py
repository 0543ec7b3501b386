"""Fairness on the real topology: a person's edit does not wait behind a backfill, a backfill
does not slow down because people edit, and two backfills share the capacity.

    .venv/bin/python -m bench.fairness                 # one run, about 10 minutes
    .venv/bin/python -m bench.fairness --runs 3        # medians of three runs
    .venv/bin/python -m bench.fairness --rows 2000 --idle-s 20   # a quick look

Everything runs as in production (docker-compose.yml's topology), on loopback: `autofill
serve` (gunicorn) on a PostgreSQL database of the run's own, one dispatcher, three `autofill
worker --lane bulk` processes holding 100 fills in flight between them, a small `autofill worker
--lane interactive` (10 threads) for people's edits, Redis, and the simulator answering in 1 s
(log-normal jitter 0.3); no debounce. Three workspaces: A and B each have a "Notes" database
(one AI summary column, 300 rows) where a person edits a page once a second; A also has a
backlog of ``--rows`` pages that gains a new AI column (the backfill); A and C have 3,000-row
backlogs for the two-backfill phase.

Phases, each measured on the same machine in the same run:
1. idle: the edits in A and B with nothing else going on, ``--idle-s`` seconds;
2. backfill alone: a new column over A's backlog; its steady rate (10 % → 90 % of the cells);
3. backfill with edits: another new column over the same backlog, the same size, while the
   edits in A and B go on; the edits' latencies and the backfill's steady rate;
4. two backfills: new columns over A's and C's 3,000-row backlogs, one right after the other;
   each one's cells filled from the moment both compete (C's column committed: A's backfill
   runs while C's column is being added) until the first of them is done.

An edit's latency runs from its PATCH returning to the events stream's first ``filled`` event
carrying the edit's marker, as a client sees it. Targets (issue 19): p99 during the backfill ≤
2 × idle p99 in both workspaces; backfill rate with the edits ≥ 95 % of alone; the two
backfills within 10 % of equal (the smaller share ≥ 0.9 × the larger).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import click
import httpx2

from autofill.schemas import DatabaseCreate, PropertyCreate, RowCreate
from autofill.services import databases as database_service
from autofill.services import properties as property_service
from autofill.services import rows as row_service
from autofill.services.lookup import get_database
from autofill.services.workspaces import create_workspace
from bench.backfill import PAGES, statuses, wait_ready
from bench.edit_latency import Listener
from bench.results import record, steady_rate
from bench.services import free_port, wait_until_ready
from bench.topology import Topology, machine_cpu_seconds, topology

SUMMARY: dict[str, Any] = {
    "name": "Summary",
    "type": "ai",
    "ai": {"task": "summary", "model": "sim:sim-1"},
}
NOTES_ROWS = 300
DUAL_ROWS = 3000
IN_FLIGHT = 100
WORKERS = 3
INTERACTIVE_THREADS = 10


@dataclass
class Space:
    """A workspace of the run: its token and databases by name."""

    name: str
    workspace_id: str
    token: str
    databases: dict[str, str] = field(default_factory=dict)
    note_rows: list[str] = field(default_factory=list)


def make_space(topo: Topology, name: str) -> Space:
    with topo.store.transaction() as session:
        workspace, token = create_workspace(session, f"Fairness {name}")
    return Space(name, workspace.id, token)


def add_database(topo: Topology, space: Space, name: str, rows: int, ai: bool) -> list[str]:
    properties: list[dict[str, Any]] = [{"name": "Name", "type": "title"}]
    if ai:
        properties.append(SUMMARY)
    with topo.store.transaction() as session:
        database = database_service.create_database(
            session,
            space.workspace_id,
            DatabaseCreate.model_validate({"name": name, "properties": properties}),
            default_model="sim:sim-1",
        )
        space.databases[name] = database.id
    ids: list[str] = []
    for start in range(0, rows, 1000):
        with topo.store.transaction() as session:
            database = get_database(session, space.workspace_id, space.databases[name])
            for n in range(start, min(start + 1000, rows)):
                page = f"Page {n} of {name}. {PAGES[n % len(PAGES)]}"
                data = RowCreate(properties={"Name": f"{name} {n}"}, content=page)
                ids.append(row_service.create_row(session, database, data).id)
    return ids


def add_column(topo: Topology, space: Space, database: str, name: str) -> str:
    spec = {**SUMMARY, "name": name}
    with topo.store.transaction() as session:
        found = get_database(
            session, space.workspace_id, space.databases[database], for_update=True
        )
        prop = property_service.add_property(
            session, found, PropertyCreate.model_validate(spec), default_model="sim:sim-1"
        )
        return prop.id


class Editor:
    """A person editing a page of a workspace's Notes once a second, in a thread."""

    def __init__(self, url: str, space: Space, listener: Listener) -> None:
        self.url, self.space, self.listener = url, space, listener
        self.returned: dict[str, float] = {}
        self.cursor = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8)
        self._client = httpx2.Client(
            base_url=url, headers={"Authorization": f"Bearer {space.token}"}, timeout=60
        )

    def run_until(self, done: Callable[[], bool], rate: float, phase: str) -> list[str]:
        markers: list[str] = []
        start = time.monotonic()
        n = 0
        while not done():
            at = start + n / rate
            time.sleep(max(0.0, at - time.monotonic()))
            marker = f"{self.space.name}{phase}{n}"
            row_id = self.space.note_rows[self.cursor % len(self.space.note_rows)]
            self.cursor += 1
            self._pool.submit(self._edit, row_id, marker)
            markers.append(marker)
            n += 1
        return markers

    def _edit(self, row_id: str, marker: str) -> None:
        response = self._client.patch(
            f"/v1/rows/{row_id}", json={"content": f"Update edit-{marker} arrived."}
        )
        response.raise_for_status()
        with self._lock:
            self.returned[marker] = time.monotonic()

    def latencies(self, markers: list[str], wait_s: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and not all(m in self.listener.seen for m in markers):
            time.sleep(0.1)
        found = sorted(
            1000 * (self.listener.seen[m] - self.returned[m])
            for m in markers
            if m in self.listener.seen and m in self.returned
        )
        cuts = statistics.quantiles(found, n=100, method="inclusive")
        return {
            "edits": len(markers),
            "observed": len(found),
            "p50_ms": round(cuts[49], 1),
            "p95_ms": round(cuts[94], 1),
            "p99_ms": round(cuts[98], 1),
            "max_ms": round(found[-1], 1),
        }

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()


class Progress(threading.Thread):
    """Samples each column's settled cells (filled or error) every quarter second."""

    def __init__(self, topo: Topology, property_ids: list[str]) -> None:
        super().__init__(daemon=True)
        self.topo, self.property_ids = topo, property_ids
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.stop = threading.Event()
        self.started = time.monotonic()

    def settled(self) -> dict[str, int]:
        counts = {}
        for prop in self.property_ids:
            found = statuses(self.topo, [prop])
            counts[prop] = found["filled"] + found["error"]
        return counts

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.monotonic() - self.started, self.settled()))
            self.stop.wait(0.25)

    def steady_rate(self, prop: str, total: int) -> float:
        """Cells per second between 10 % and 90 % of the column."""

        def at(share: float) -> float:
            return next(t for t, c in self.samples if c[prop] >= share * total)

        marks = {"p10": at(0.1), "p90": at(0.9), "end": at(1.0)}
        return steady_rate(total, marks)


@dataclass
class Backfilled:
    rate: float  # steady cells/s
    seconds: float
    cpu_ms_per_cell: dict[str, float]  # by process, and the whole machine


def backfill(topo: Topology, space: Space, name: str, rows: int) -> Backfilled:
    """A new column over the backlog, watched to the end."""
    cpu_before, machine_before = topo.cpu(), machine_cpu_seconds()
    prop = add_column(topo, space, "Backlog", name)
    progress = Progress(topo, [prop])
    progress.start()
    while not progress.samples or progress.samples[-1][1][prop] < rows:
        time.sleep(0.25)
        if time.monotonic() - progress.started > 3600:
            raise RuntimeError("backfill not done after an hour")
    progress.stop.set()
    progress.join()
    cpu_after, machine_after = topo.cpu(), machine_cpu_seconds()
    cpu = {n: round(1000 * (cpu_after[n] - cpu_before.get(n, 0.0)) / rows, 2) for n in cpu_after}
    cpu["machine"] = round(1000 * (machine_after - machine_before) / rows, 2)
    return Backfilled(progress.steady_rate(prop, rows), progress.samples[-1][0], cpu)


def wait_settled(topo: Topology, property_ids: list[str], total: int) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        found = statuses(topo, property_ids)
        if found["filled"] + found["error"] >= total:
            return
        time.sleep(0.5)
    raise RuntimeError("the Notes databases never settled")


def one_run(rows: int, idle_s: float, edit_rate: float) -> dict[str, Any]:
    env = {"AUTOFILL_API_RATE_LIMIT": "100000000/minute"}
    with topology(sim_args=["--latency-ms", "1000", "--jitter", "0.3"], env=env) as topo:
        a, b, c = (make_space(topo, n) for n in "ABC")
        for space in (a, b):
            space.note_rows = add_database(topo, space, "Notes", NOTES_ROWS, ai=True)
        add_database(topo, a, "Backlog", rows, ai=False)
        add_database(topo, a, "Second", DUAL_ROWS, ai=False)
        add_database(topo, c, "Second", DUAL_ROWS, ai=False)

        port = free_port()
        topo.spawn("serve", "serve", "--port", str(port), "--workers", "2", "--threads", "16")
        names = [f"worker{i}" for i in range(WORKERS)]
        for i, name in enumerate(names):
            threads = IN_FLIGHT // WORKERS + (1 if i < IN_FLIGHT % WORKERS else 0)
            topo.spawn(
                name,
                "worker",
                "--concurrency",
                str(threads),
                "--lane",
                "bulk",
                "-n",
                f"{name}@bench",
            )
        topo.spawn(
            "interactive",
            "worker",
            "--concurrency",
            str(INTERACTIVE_THREADS),
            "--lane",
            "interactive",
            "-n",
            "interactive@bench",
        )
        topo.spawn("dispatcher", "dispatcher")
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, [topo.processes["serve"]])
        wait_ready(topo, [*names, "interactive"])

        with topo.store.transaction() as session:
            notes = [
                p.id
                for s in (a, b)
                for p in get_database(session, s.workspace_id, s.databases["Notes"]).properties
                if p.type == "ai"
            ]
        wait_settled(topo, notes, 2 * NOTES_ROWS)  # the Notes' first fills are over
        listeners = {s.name: Listener(url, s.token, s.databases["Notes"]) for s in (a, b)}
        for listener in listeners.values():
            listener.start()
            listener.ready.wait(10)
        editors = {s.name: Editor(url, s, listeners[s.name]) for s in (a, b)}

        # 1. Idle: the edits alone.
        idle = _edit_phase(editors, "idle", edit_rate, lambda: None, idle_s)
        click.echo(f"idle: {json.dumps(idle)}")

        # 2. The backfill alone.
        alone = backfill(topo, a, "Backfill alone", rows)
        click.echo(f"backfill alone: {alone}")

        # 3. The same backfill again, with the edits going on in both workspaces.
        outcome: dict[str, Backfilled] = {}

        def run_backfill() -> None:
            outcome["run"] = backfill(topo, a, "Backfill with edits", rows)

        busy = _edit_phase(editors, "busy", edit_rate, run_backfill, None)
        with_edits = outcome["run"]
        click.echo(f"backfill with edits: {with_edits}")
        click.echo(f"edits during it: {json.dumps(busy)}")

        # 4. Two workspaces' backfills at once.
        shares = _two_backfills(topo, a, c)
        click.echo(f"two backfills: {json.dumps(shares)}")
        for editor in editors.values():
            editor.close()

    ratios = {n: busy[n]["p99_ms"] / idle[n]["p99_ms"] for n in idle}
    return {
        "idle": idle,
        "during_backfill": busy,
        "p99_ratio": {n: round(r, 3) for n, r in ratios.items()},
        "worst_p99_ratio": round(max(ratios.values()), 3),
        "backfill_alone_cells_per_s": round(alone.rate, 1),
        "backfill_with_edits_cells_per_s": round(with_edits.rate, 1),
        "backfill_alone_s": round(alone.seconds, 1),
        "backfill_with_edits_s": round(with_edits.seconds, 1),
        "throughput_ratio": round(with_edits.rate / alone.rate, 3),
        "cpu_ms_per_cell_alone": alone.cpu_ms_per_cell,
        "cpu_ms_per_cell_with_edits": with_edits.cpu_ms_per_cell,
        "limit_cells_per_s": IN_FLIGHT,  # in flight ÷ the simulator's 1 s median latency
        **shares,
    }


def _edit_phase(
    editors: dict[str, Editor],
    phase: str,
    rate: float,
    work: Callable[[], None],
    seconds: float | None,
) -> dict[str, dict[str, Any]]:
    """The editors edit at ``rate`` each while ``work`` runs (or for ``seconds``)."""
    finished = threading.Event()
    ends = time.monotonic() + seconds if seconds is not None else None

    def done() -> bool:
        return finished.is_set() if ends is None else time.monotonic() >= ends

    def background() -> None:
        try:
            work()
        finally:
            finished.set()

    runner = threading.Thread(target=background, daemon=True)
    runner.start()
    markers: dict[str, list[str]] = {}
    threads = [
        threading.Thread(
            target=lambda n=name, e=editor: markers.__setitem__(n, e.run_until(done, rate, phase))
        )
        for name, editor in editors.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runner.join()
    return {name: editors[name].latencies(markers[name]) for name in editors}


def _two_backfills(topo: Topology, a: Space, c: Space) -> dict[str, Any]:
    """Two workspaces add a column each, one after the other as two people would. Adding a
    3,000-row column is one transaction (its cells and outbox entries); cells of A's column
    settled before C's commits are A's alone and are not counted in the share (the count at
    that moment is reported as the head start: 0 in the runs of 2026-12-01, where a cell takes
    the simulator's second). A's fills already queued or running then still finish first: that
    lead (the pipeline's depth) is counted."""
    first = add_column(topo, a, "Second", "Backfill")
    second = add_column(topo, c, "Second", "Backfill")
    progress = Progress(topo, [first, second])
    head_start = progress.settled()
    progress.start()
    while True:
        time.sleep(0.25)
        if progress.samples and max(progress.samples[-1][1].values()) >= DUAL_ROWS:
            break
        if time.monotonic() - progress.started > 1800:
            raise RuntimeError("the two backfills are not done after 30 minutes")
    progress.stop.set()
    progress.join()
    # When the first of the two is done, how far each got since both competed.
    at, counts = next((t, c) for t, c in progress.samples if max(c.values()) >= DUAL_ROWS)
    gained = {prop: counts[prop] - head_start[prop] for prop in counts}
    low, high = min(gained.values()), max(gained.values())
    return {
        "two_backfills_head_start": {"A": head_start[first], "C": head_start[second]},
        "two_backfills_cells_when_first_done": {"A": counts[first], "C": counts[second]},
        "two_backfills_first_done_s": round(at, 1),
        "two_backfills_share_ratio": round(low / high, 3),
        "two_backfills_share_ratio_from_zero": round(
            min(counts.values()) / max(counts.values()), 3
        ),
    }


@click.command()
@click.option("--rows", default=10_000, show_default=True, help="the backfilled backlog's rows")
@click.option("--idle-s", default=60.0, show_default=True, help="seconds of edits with no backfill")
@click.option("--edit-rate", default=1.0, show_default=True, help="edits per second per workspace")
@click.option("--runs", default=1, show_default=True, help="median of this many runs")
def main(rows: int, idle_s: float, edit_rate: float, runs: int) -> None:
    results = []
    for _ in range(runs):
        result = one_run(rows, idle_s, edit_rate)
        click.echo(json.dumps(result))
        results.append(result)
    command = f"python -m bench.fairness --rows {rows} --idle-s {idle_s:g} --runs {runs}"
    settings = {
        "rows": rows,
        "idle_s": idle_s,
        "edit_rate_per_workspace": edit_rate,
        "in_flight": IN_FLIGHT,
        "workers": WORKERS,
        "latency_ms": 1000,
        "jitter": 0.3,
        "runs": runs,
    }

    def median_of(key: str) -> float:
        return float(statistics.median(r[key] for r in results))

    worst = median_of("worst_p99_ratio")
    record(
        "fairness_edit_p99_during_backfill_vs_idle",
        worst,
        "× idle p99 (worse of the two workspaces)",
        target="<= 2",
        met=worst <= 2.0,
        command=command,
        details={
            **settings,
            "per_run": [
                {"idle": r["idle"], "during_backfill": r["during_backfill"]} for r in results
            ],
        },
    )
    throughput = median_of("throughput_ratio")
    record(
        "fairness_backfill_throughput_with_edits",
        throughput,
        "× the backfill alone (steady cells/s)",
        target=">= 0.95",
        met=throughput >= 0.95,
        command=command,
        details={
            **settings,
            "alone_cells_per_s": [r["backfill_alone_cells_per_s"] for r in results],
            "with_edits_cells_per_s": [r["backfill_with_edits_cells_per_s"] for r in results],
            "limit_cells_per_s": IN_FLIGHT,
        },
    )
    share = median_of("two_backfills_share_ratio")
    record(
        "fairness_two_backfills_share",
        share,
        "smaller ÷ larger cells filled while both competed (C's column committed → A done)",
        target=">= 0.9",
        met=share >= 0.9,
        command=command,
        details={
            **settings,
            "rows_each": DUAL_ROWS,
            "per_run": [r["two_backfills_cells_when_first_done"] for r in results],
            "head_start_per_run": [r["two_backfills_head_start"] for r in results],
            "share_from_zero_per_run": [r["two_backfills_share_ratio_from_zero"] for r in results],
        },
    )


if __name__ == "__main__":
    main()
