"""Backfill throughput on the distributed topology: a database of N rows gains two AI columns
(summary and a sentiment classification, auto-update), and every cell fills through the outbox,
the dispatcher, Redis and Celery worker processes, against the simulator with a set latency.

    .venv/bin/python -m bench.backfill --in-flight 100            # 10,000 rows × 2 columns
    .venv/bin/python -m bench.backfill --in-flight 50 --rows 5000
    .venv/bin/python -m bench.backfill --in-flight 100 --profile  # py-spy of one worker
    .venv/bin/python -m bench.backfill --rpm 1200 --rows 2400 --columns 1   # rate-limited

The limit is in-flight calls ÷ the latency the simulator actually served (measured in the same
run): a pipeline adding nothing would fill that many cells per second. The figure is the
steady-state rate (10 % → 90 % of the cells) as a share of it; the whole run's rate is reported
beside it. CPU per fill counts our processes (workers, dispatcher), then the whole machine
(PostgreSQL, Redis and the simulator included). Worker memory is read at 10 % of the run and at
its end: it must not grow with the run's size.

The workers are one ``autofill worker --processes W`` (the parent loads what they share once and
forks them) unless ``--separate`` starts W commands. Memory per worker is what the host holds:
the workers' PSS plus the parent's, over W (RSS counts each shared page in every worker).

With ``--rpm N`` the simulator refuses (429) more than N requests in any minute, and the
workers are told the same limit (``AUTOFILL_RATE_LIMITS``, as N/60 a second, so no minute holds
more than N): the figure is the sustained call rate as a share of N, and no 429 may reach a
cell as an error.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from autofill.db.models import Cell
from autofill.schemas import DatabaseCreate, PropertyCreate, RowCreate
from autofill.services import databases as database_service
from autofill.services import properties as property_service
from autofill.services import rows as row_service
from autofill.services.lookup import get_database
from bench.results import busy_share, record, steady_rate
from bench.topology import (
    Topology,
    children_of,
    cpu_seconds,
    machine_cpu_seconds,
    pss_mib,
    rss_mib,
    topology,
)
from worker import split_in_flight

PAGES = [
    "The customer cannot export invoices since the last update. They tried twice, on Chrome "
    "and Firefox, and the download stops at 80 %. They need the March invoices for an audit.",
    "Le client demande un remboursement : la facture de mars a été payée deux fois. Il "
    "souhaite une réponse avant vendredi et menace de résilier son abonnement.",
    "Der Kunde lobt die neue Suchfunktion, wünscht sich aber einen dunklen Modus und schnellere "
    "Synchronisierung zwischen Telefon und Laptop.",
    "顧客は請求書のエクスポートができないと報告しています。監査のために三月分が必要です。",
    "El cliente quiere integrar el calendario con su CRM y pregunta por el precio del plan "
    "anual para veinte usuarios.",
]
COLUMNS: list[dict[str, Any]] = [
    {"name": "Summary", "type": "ai", "ai": {"task": "summary", "model": "sim:sim-1"}},
    {
        "name": "Sentiment",
        "type": "ai",
        "ai": {
            "task": "classify",
            "model": "sim:sim-1",
            "output": {"type": "select", "options": ["Positive", "Neutral", "Negative"]},
        },
    },
]


def load_rows(topo: Topology, rows: int) -> str:
    with topo.store.transaction() as session:
        database = database_service.create_database(
            session,
            topo.workspace_id,
            DatabaseCreate.model_validate(
                {"name": "Backfill", "properties": [{"name": "Name", "type": "title"}]}
            ),
            default_model="sim:sim-1",
        )
        database_id = database.id
    for start in range(0, rows, 1000):
        with topo.store.transaction() as session:
            database = get_database(session, topo.workspace_id, database_id)
            for n in range(start, min(start + 1000, rows)):
                page = f"Ticket {n}. {PAGES[n % len(PAGES)]}"
                data = RowCreate(properties={"Name": f"Ticket {n}"}, content=page)
                row_service.create_row(session, database, data)
    return database_id


def add_columns(topo: Topology, database_id: str, columns: int) -> list[str]:
    ids = []
    with topo.store.transaction() as session:
        database = get_database(session, topo.workspace_id, database_id, for_update=True)
        for spec in COLUMNS[:columns]:
            prop = property_service.add_property(
                session, database, PropertyCreate.model_validate(spec), default_model="sim:sim-1"
            )
            ids.append(prop.id)
    return ids


def statuses(topo: Topology, property_ids: list[str]) -> Counter[str]:
    with topo.store.transaction() as session:
        found = session.execute(
            select(Cell.status, func.count())
            .where(Cell.property_id.in_(property_ids))
            .group_by(Cell.status)
        ).all()
    return Counter({status: count for status, count in found})


def wait_ready(topo: Topology, names: list[str], each: int = 1) -> None:
    """Until each log in ``names`` says ``ready.`` ``each`` times (a forked command's workers
    share its log)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logs = [(topo.logs / f"{n}.log").read_text(errors="replace") for n in names]
        if all(log.count("ready.") >= each for log in logs):
            return
        time.sleep(0.2)
    raise RuntimeError(f"workers not ready: see {topo.logs}")


def start_workers(topo: Topology, in_flight: int, workers: int, forked: bool) -> list[int]:
    """The workers' pids: ``workers`` commands, or one ``autofill worker --processes`` whose
    parent forks them (``forked``); ``in_flight`` calls can be out at once either way."""
    if forked:
        parent = topo.spawn(
            "workers",
            "worker",
            "--processes",
            str(workers),
            "--concurrency",
            str(in_flight),
            "-n",
            "worker@bench",
        )
        wait_ready(topo, ["workers"], each=workers)
        return sorted(children_of(parent.pid))
    names = [f"worker{i}" for i in range(workers)]
    # Split as `--processes` splits them, so that exactly `in_flight` calls can be out at once.
    for name, threads in zip(names, split_in_flight(in_flight, workers), strict=True):
        topo.spawn(name, "worker", "--concurrency", str(threads), "-n", f"{name}@bench")
    wait_ready(topo, names)
    return [topo.processes[name].pid for name in names]


def worker_memory(topo: Topology, pids: list[int], forked: bool) -> dict[str, Any]:
    """Each worker's RSS and PSS, and the memory per worker the host holds: the PSS of the
    workers (and of their parent, when forked) over their number."""
    rss = [round(rss_mib(pid), 1) for pid in pids]
    pss = [round(pss_mib(pid), 1) for pid in pids]
    parent = pss_mib(topo.processes["workers"].pid) if forked else 0.0
    return {
        "rss_mib": rss,
        "pss_mib": pss,
        "parent_pss_mib": round(parent, 1),
        "per_worker_mib": round((sum(pss) + parent) / len(pids), 1),
    }


def profile(pid: int, seconds: int, out: Path) -> dict[str, list[tuple[str, float]]]:
    """py-spy samples of one worker's threads while they hold the GIL (its CPU, not its
    waits): the share of samples whose innermost frame is in each function ("self") and the
    share each of our functions is on the stack of ("ours_inclusive"), top 20 each."""
    spy = str(Path(sys.executable).with_name("py-spy"))
    options = ["--duration", str(seconds), "--format", "raw", "--output", str(out), "--gil"]
    subprocess.run([spy, "record", "--pid", str(pid), *options], check=True, capture_output=True)
    selfs: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        selfs[frames[-1] if frames else "?"] += int(count)
        # "name (path:line)": ours by path, a function counted once per sample however deep.
        functions = {frame.rsplit(":", 1)[0] + ")" for frame in frames}
        for function in functions:
            if function.split(" (", 1)[-1].startswith(("autofill/", "worker/", "api/")):
                inclusive[function] += int(count)
        total += int(count)
    return {
        "self": [(f, round(100 * n / total, 1)) for f, n in selfs.most_common(20)],
        "ours_inclusive": [(f, round(100 * n / total, 1)) for f, n in inclusive.most_common(20)],
        "samples": [("total", float(total))],
    }


def one_run(
    rows: int,
    in_flight: int,
    workers: int,
    latency_ms: float,
    jitter: float,
    do_profile: bool,
    columns: int = 2,
    rpm: int | None = None,
    forked: bool = False,
    profile_out: Path | None = None,
) -> dict[str, Any]:
    sim_args = ["--latency-ms", str(latency_ms), "--jitter", str(jitter)]
    env = {}
    if rpm is not None:
        sim_args += ["--rpm", str(rpm)]
        env["AUTOFILL_RATE_LIMITS"] = json.dumps({"sim": {"requests": f"{rpm / 60:g}/second"}})
    with topology(sim_args=sim_args, env=env) as topo:
        database_id = load_rows(topo, rows)
        pids = start_workers(topo, in_flight, workers, forked)
        topo.spawn("dispatcher", "dispatcher")
        total = rows * columns
        sim_pid = topo.processes["sim"].pid
        cpu_before, machine_before = topo.cpu(), machine_cpu_seconds()
        sim_before = cpu_seconds(sim_pid)
        started = time.monotonic()
        property_ids = add_columns(topo, database_id, columns)
        marks: dict[str, float] = {}
        memory_early: dict[str, Any] = {}
        memory_half: dict[str, Any] = {}
        profiled: dict[str, list[tuple[str, float]]] = {}
        while True:
            counts = statuses(topo, property_ids)
            settled = counts["filled"] + counts["error"]
            now = time.monotonic() - started
            if settled >= 0.1 * total and "p10" not in marks:
                marks["p10"] = now
                memory_early = worker_memory(topo, pids, forked)
                if do_profile:
                    profiled = profile(pids[0], 20, profile_out or topo.logs / "spy.txt")
            if settled >= 0.5 * total and "p50" not in marks:
                marks["p50"] = now  # in full flow: the memory a worker holds under load
                memory_half = worker_memory(topo, pids, forked)
            if settled >= 0.9 * total and "p90" not in marks:
                marks["p90"] = now
            if settled >= total:
                marks["end"] = now
                break
            if now > 1800:
                raise RuntimeError(f"backfill not done after 30 min: {dict(counts)}")
            time.sleep(0.25)
        cpu_after, machine_after = topo.cpu(), machine_cpu_seconds()
        sim_cpu = cpu_seconds(sim_pid) - sim_before
        memory_end = worker_memory(topo, pids, forked)
        sim = topo.sim_stats()
        ours_cpu = sum(cpu_after[n] - cpu_before.get(n, 0.0) for n in cpu_after)
        limit = in_flight / sim["mean_latency_s"]
        steady = steady_rate(total, marks)
        return {
            "fills": total,
            "errors": counts["error"],
            "model_calls": sim["requests"],
            "refused_429": sim["statuses"].get("429", 0),
            "steady_calls_per_minute": round(60 * steady, 1),
            "seconds": round(marks["end"], 1),
            "overall_fills_per_s": round(total / marks["end"], 1),
            "steady_fills_per_s": round(steady, 1),
            "limit_fills_per_s": round(limit, 1),
            "share_of_limit": round(steady / limit, 3),
            "overall_share_of_limit": round(total / marks["end"] / limit, 3),
            "mean_latency_s": round(sim["mean_latency_s"], 3),
            "cpu_ms_per_fill_ours": round(1000 * ours_cpu / total, 2),
            "cpu_ms_per_fill_by_process": {
                n: round(1000 * (cpu_after[n] - cpu_before.get(n, 0.0)) / total, 2)
                for n in cpu_after
            },
            "cpu_ms_per_fill_machine": round(1000 * (machine_after - machine_before) / total, 2),
            # The simulator stands in for the provider, whose CPU is not on our machine.
            "cpu_ms_per_fill_simulator": round(1000 * sim_cpu / total, 2),
            "forked": forked,
            "worker_rss_mib_at_10pct": memory_early["rss_mib"],
            "worker_rss_mib_at_end": memory_end["rss_mib"],
            "worker_memory_at_half": memory_half,
            "worker_memory_at_end": memory_end,
            "profile": profiled,
        }


@click.command()
@click.option("--rows", default=10_000, show_default=True)
@click.option("--columns", default=2, show_default=True, type=click.IntRange(1, len(COLUMNS)))
@click.option("--in-flight", default=100, show_default=True)
@click.option("--workers", default=3, show_default=True, help="worker processes")
@click.option("--latency-ms", default=1000.0, show_default=True)
@click.option("--jitter", default=0.3, show_default=True, help="log-normal sigma")
@click.option("--rpm", type=click.IntRange(1), default=None, help="rate limit (requests/min)")
@click.option("--runs", default=1, show_default=True, help="median of this many runs")
@click.option("--profile", "do_profile", is_flag=True, help="py-spy one worker at 10 %")
@click.option(
    "--profile-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="with --profile: keep py-spy's raw stacks here (one line per stack, then its count)",
)
@click.option(
    "--forked/--separate",
    default=True,
    show_default=True,
    help="one `autofill worker --processes W` forking the workers, or W worker commands",
)
def main(
    rows: int,
    columns: int,
    in_flight: int,
    workers: int,
    latency_ms: float,
    jitter: float,
    rpm: int | None,
    runs: int,
    do_profile: bool,
    profile_out: Path | None,
    forked: bool,
) -> None:
    busy = busy_share()
    results = []
    for n in range(runs):
        result = one_run(
            rows,
            in_flight,
            workers,
            latency_ms,
            jitter,
            do_profile and n == 0,
            columns,
            rpm,
            forked,
            profile_out,
        )
        click.echo(json.dumps(result))
        results.append(result)
    command = (
        f"python -m bench.backfill --rows {rows} --columns {columns} --in-flight {in_flight} "
        f"--latency-ms {latency_ms:g} --runs {runs}"
        + (f" --rpm {rpm}" if rpm else "")
        + ("" if forked else " --separate")
    )
    settings = {
        "rows": rows,
        "columns": columns,
        "in_flight": in_flight,
        "workers": workers,
        "latency_ms": latency_ms,
        "jitter": jitter,
        "runs": runs,
        "forked": forked,
    }
    if rpm is not None:
        share = [r["steady_calls_per_minute"] / rpm for r in results]
        median = results[share.index(statistics.median_low(share))]
        errors = sum(r["errors"] for r in results)
        record(
            "rate_limited_backfill",
            median["steady_calls_per_minute"],
            "calls/min",
            target=f"within 5% of {rpm}/min, no 429 in a cell",
            met=abs(median["steady_calls_per_minute"] / rpm - 1) <= 0.05 and errors == 0,
            command=command,
            details={**median, **settings, "rpm": rpm, "shares_of_rpm": share},
        )
        return
    shares = [r["share_of_limit"] for r in results]
    median = results[shares.index(statistics.median_low(shares))]
    wanted = {100: 0.95, 200: 0.90}.get(in_flight)
    record(
        f"backfill_{in_flight}_in_flight",
        median["steady_fills_per_s"],
        "fills/s",
        target=f">= {wanted:.0%} of in-flight ÷ latency" if wanted else None,
        met=(median["share_of_limit"] >= wanted) if wanted else None,
        command=command,
        details={**median, **settings, "shares_of_limit": shares},
        busy=busy,
    )
    ratios = [r["cpu_ms_per_fill_ours"] / r["cpu_ms_per_fill_simulator"] for r in results]
    ratio = round(statistics.median(ratios), 2)
    record(
        f"backfill_{in_flight}_in_flight_cpu_per_fill",
        median["cpu_ms_per_fill_ours"],
        "CPU ms/fill",
        target=None,
        met=None,
        command=command,
        details={
            "machine_wide": median["cpu_ms_per_fill_machine"],
            "simulator": median["cpu_ms_per_fill_simulator"],
            "by_process": median["cpu_ms_per_fill_by_process"],
            "profile": median["profile"],
        },
        busy=busy,
    )
    if in_flight == 100:
        record(
            "cpu_per_fill_vs_simulator",
            ratio,
            "ratio",
            target="<= 3 (our processes' CPU per fill ÷ the simulator's per answered call)",
            met=ratio <= 3,
            command=command,
            details={
                "ratios": [round(r, 2) for r in ratios],
                "ours_ms": [r["cpu_ms_per_fill_ours"] for r in results],
                "simulator_ms": [r["cpu_ms_per_fill_simulator"] for r in results],
            },
            busy=busy,
        )
        # What the host holds per worker (PSS, the parent's share included): RSS counts the
        # pages forked workers share once in each of them (BENCHMARKS.md, worker_rss). Halfway,
        # in full flow, and at the end: the worse of the two, in the worst run.
        worst = max(
            r[moment]["per_worker_mib"]
            for r in results
            for moment in ("worker_memory_at_half", "worker_memory_at_end")
        )
        record(
            "worker_rss",
            worst,
            "MiB",
            target="<= 150 MiB per worker process at 100 in flight",
            met=worst <= 150,
            command=command,
            details={
                "measure": "PSS per worker, the parent's share included, halfway through "
                "the run and at its end; the worst of both in the worst run",
                "by_run": [
                    {"half": r["worker_memory_at_half"], "end": r["worker_memory_at_end"]}
                    for r in results
                ],
            },
            busy=busy,
        )
    early, end = median["worker_rss_mib_at_10pct"], median["worker_rss_mib_at_end"]
    if rows < 10_000:
        return  # the memory figure compares 1,000 rows' worth with the 10,000-row run's end
    record(
        "worker_memory_growth",
        round(max(e - s for s, e in zip(early, end, strict=True)), 1),
        "MiB",
        target="no growth with the run's size (< 5% between 10% and 100% of the run)",
        met=all(e <= s * 1.05 for s, e in zip(early, end, strict=True)),
        command=command,
        details={"rss_mib_at_10pct": early, "rss_mib_at_end": end, "rows": rows},
    )


if __name__ == "__main__":
    main()
