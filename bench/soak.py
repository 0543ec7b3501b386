"""Soak: the whole topology under a steady load for a long time, watched for growth.

    .venv/bin/python -m bench.soak                 # 15 minutes, 5 edits/s (the full run)
    .venv/bin/python -m bench.soak --minutes 1     # what CI runs (tests/bench/test_soak.py)

`autofill serve` (gunicorn), a dispatcher, a worker, a private Redis, PostgreSQL and the
simulator (50 ms). A database of 200 rows with two AI columns; every second ``--rate`` rows get
a new page through the API (each a fill per column) and as many rows are read. Every 5 s:
resident memory of the worker, of the API (gunicorn and its workers) and of the dispatcher,
PostgreSQL connections to the database, Redis keys and Redis memory.

No growth means: the last quarter of the run against the second (the first is warm-up) —
memory up by at most 10 % (+5 MiB), connections and Redis keys no more than the second
quarter's peak plus a small slack, and every edit filled by the end.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx2
import psycopg
import redis
from sqlalchemy import func, select

from autofill.db.models import Cell, OutboxEntry, Row
from bench.backfill import COLUMNS, add_columns, load_rows, wait_ready
from bench.results import record
from bench.services import free_port, wait_until_ready
from bench.topology import Topology, topology

SAMPLE_EVERY_S = 5.0


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (gunicorn forks its workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


@dataclass
class Samples:
    at: list[float] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)

    def add(self, at: float, values: dict[str, float]) -> None:
        self.at.append(at)
        for name, value in values.items():
            self.series.setdefault(name, []).append(value)

    def quarter(self, name: str, which: int) -> list[float]:
        values = self.series[name]
        size = max(1, len(values) // 4)
        return values[which * size : (which + 1) * size] if which < 3 else values[-size:]


def _sample(topo: Topology, redis_url: str, database: str) -> dict[str, float]:
    with psycopg.connect(
        topo.database_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchone()
    client = redis.Redis.from_url(redis_url)
    return {
        "worker_rss_mib": tree_rss_mib(topo.processes["worker0"].pid),
        "api_rss_mib": tree_rss_mib(topo.processes["serve"].pid),
        "dispatcher_rss_mib": tree_rss_mib(topo.processes["dispatcher"].pid),
        "pg_connections": float(row[0] if row else 0),
        "redis_keys": float(client.dbsize()),
        "redis_used_mib": float(client.info("memory")["used_memory"]) / 2**20,
    }


def _load(url: str, token: str, rows: list[str], rate: float, stop: threading.Event) -> int:
    """``rate`` page edits (and as many reads) a second until ``stop``; returns the edits."""
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(5)
    edits = 0
    with httpx2.Client(base_url=url, headers=headers, timeout=30) as client:
        next_at = time.monotonic()
        while not stop.is_set():
            row = rng.choice(rows)
            page = f"Soak edit {edits}: the customer reports issue number {rng.randint(1, 10**6)}."
            response = client.patch(f"/v1/rows/{row}", json={"content": page})
            response.raise_for_status()
            client.get(f"/v1/rows/{rng.choice(rows)}").raise_for_status()
            edits += 1
            next_at += 1 / rate
            time.sleep(max(0.0, next_at - time.monotonic()))
    return edits


def _settled(topo: Topology, property_ids: list[str]) -> bool:
    with topo.store.transaction() as session:
        due = session.scalar(select(func.count()).select_from(OutboxEntry))
        unsettled = session.scalar(
            select(func.count()).where(
                Cell.property_id.in_(property_ids), Cell.status.not_in(("filled", "error"))
            )
        )
    return due == 0 and unsettled == 0


def soak(minutes: float, rate: float) -> dict[str, Any]:
    env = {"AUTOFILL_API_RATE_LIMIT": "100000000/minute", "AUTOFILL_DEBOUNCE_S": "0.5"}
    with topology(sim_args=["--latency-ms", "50", "--jitter", "0.3"], env=env) as topo:
        database_id = load_rows(topo, 200)
        property_ids = add_columns(topo, database_id, len(COLUMNS))
        with topo.store.transaction() as session:
            rows = list(session.scalars(select(Row.id).where(Row.database_id == database_id)))
        port = free_port()
        topo.spawn("serve", "serve", "--port", str(port))
        topo.spawn("worker0", "worker", "--concurrency", "20", "-n", "worker0@soak")
        topo.spawn("dispatcher", "dispatcher")
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, [topo.processes["serve"]])
        wait_ready(topo, ["worker0"])
        redis_url = topo.env["AUTOFILL_REDIS_URL"]
        database = topo.database_url.rsplit("/", 1)[1]

        stop = threading.Event()
        edits: list[int] = []
        loader = threading.Thread(
            target=lambda: edits.append(_load(url, topo.token, rows, rate, stop)), daemon=True
        )
        samples = Samples()
        started = time.monotonic()
        loader.start()
        while time.monotonic() - started < minutes * 60:
            samples.add(time.monotonic() - started, _sample(topo, redis_url, database))
            time.sleep(SAMPLE_EVERY_S)
        stop.set()
        loader.join(60)
        deadline = time.monotonic() + 120
        while not _settled(topo, property_ids) and time.monotonic() < deadline:
            time.sleep(0.5)
        settled = _settled(topo, property_ids)
        with topo.store.transaction() as session:
            errors = session.scalar(
                select(func.count()).where(
                    Cell.property_id.in_(property_ids), Cell.status == "error"
                )
            )

    verdicts: dict[str, dict[str, Any]] = {}
    for name in ("worker_rss_mib", "api_rss_mib", "dispatcher_rss_mib", "redis_used_mib"):
        early = statistics.median(samples.quarter(name, 1))
        late = statistics.median(samples.quarter(name, 3))
        verdicts[name] = {
            "second_quarter": round(early, 1),
            "last_quarter": round(late, 1),
            "growth_pct": round(100 * (late - early) / early, 2) if early else 0.0,
            "met": late <= early * 1.10 + 5,
        }
    for name, slack in (("pg_connections", 2), ("redis_keys", 5)):
        early_peak = max(samples.quarter(name, 1))
        late_peak = max(samples.quarter(name, 3))
        verdicts[name] = {
            "second_quarter_peak": early_peak,
            "last_quarter_peak": late_peak,
            "met": late_peak <= early_peak + slack,
        }
    return {
        "minutes": minutes,
        "rate_per_s": rate,
        "edits": edits[0] if edits else 0,
        "settled": settled,
        "cells_in_error": int(errors or 0),
        "samples": len(samples.at),
        "verdicts": verdicts,
        "met": settled and not errors and all(v["met"] for v in verdicts.values()),
    }


@click.command()
@click.option("--minutes", default=15.0, show_default=True)
@click.option("--rate", default=5.0, show_default=True, help="page edits per second")
@click.option("--record/--no-record", "do_record", default=True, help="write bench/results.json")
def main(minutes: float, rate: float, do_record: bool) -> None:
    result = soak(minutes, rate)
    click.echo(result)
    if do_record:
        record(
            "soak_no_growth",
            1.0 if result["met"] else 0.0,
            "met (1) / not met (0)",
            target="no growth of memory, connections or Redis keys; every edit filled",
            met=bool(result["met"]),
            command=f"python -m bench.soak --minutes {minutes:g} --rate {rate:g}",
            details=result,
        )
    if not result["met"]:
        raise SystemExit("soak: growth or unfilled edits (see the verdicts above)")


if __name__ == "__main__":
    main()
