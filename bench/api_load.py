"""REST API throughput and tail latency under gunicorn on PostgreSQL, loaded with wrk.

    .venv/bin/python -m bench.api_load            # about 3 minutes; needs wrk (apt-get install wrk)

The API as `autofill serve` runs it (2 gunicorn workers × 16 threads, the defaults; bench.api_bare
adds one route) on a database of its own with 1,000 rows and an AI column (auto-update off, so
no fill competes for the CPU), Redis for the request limiter. wrk runs on the same 2 cores
(loopback), 4 threads and 32 connections, for 20 s per endpoint, 3 times each, the endpoints
taking turns; the median run is reported:
- ``GET /v1/rows/{id}`` over 1,000 different rows;
- ``PATCH /v1/rows/{id}`` changing a property no AI column reads (a real write: validation,
  version bump, outbox check, commit);
- ``GET /bench/bare/{id}``: the floor, an endpoint through the same decorator (token, limiter,
  transaction) answering the same row JSON without loading anything (bench.api_bare).
Each endpoint's rate ÷ the floor's, run by run (``api_get_row_vs_bare``,
``api_patch_row_vs_bare``; target >= 0.5), and the API processes' resident memory after the
load (``api_rss``: the largest gunicorn worker; target <= 200 MiB).
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import httpx2
from sqlalchemy import create_engine, text

from bench.api_steps import load_database
from bench.results import busy_share, record
from bench.services import free_port, wait_until_ready
from bench.topology import Topology, children_of, rss_mib, topology

# wrk runs the script in a Lua state of its own per thread. Each thread takes every
# ``THREADS``-th id from its own first one: with one order for all, the four threads walked the
# same ids side by side and their PATCHes waited on each other's row locks, which no team
# editing its rows does (PostgreSQL backends titled "waiting": 80 of 1,143 samples over a run,
# 0 since; the rates moved less than this machine's noise).
LUA = """
local started = 0
function setup(thread)
  thread:set("first", started)
  started = started + 1
end
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local n = 0
request = function()
  local id = ids[((first + n * %(threads)d) %% #ids) + 1]
  n = n + 1
  %(body)s
end
"""
THREADS = 4
GET = 'return wrk.format("GET", "/v1/rows/" .. id)'
BARE = 'return wrk.format("GET", "/bench/bare/" .. id)'
PATCH = (
    'return wrk.format("PATCH", "/v1/rows/" .. id, nil, '
    '\'{"properties": {"Stage": "s\' .. (n % 7) .. \'"}}\')'
)


def _wrk(url: str, token: str, script: Path, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk", f"-t{THREADS}", "-c32", f"-d{seconds}s", "--latency", "-s", str(script),
            "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/json", url,
        ],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if "error" in out.lower() and "script" in out.lower():
        raise SystemExit(f"wrk's script failed:\n{out}")
    return {
        "requests_per_s": rate,
        "p99_ms": round(float(p99.group(1)) * factor, 2),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


@click.command()
@click.option("--seconds", default=20, show_default=True)
@click.option("--runs", default=3, show_default=True)
def main(seconds: int, runs: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    # One token drives all the load: its request limit is set out of reach, so the limiter's
    # work (a Redis round trip per request) is measured but never refuses.
    env = {"AUTOFILL_API_RATE_LIMIT": "100000000/minute"}
    busy = busy_share()
    with tempfile.TemporaryDirectory() as scratch:
        row_json = Path(scratch) / "row.json"
        env["BENCH_BARE_JSON"] = str(row_json)
        with topology(sim_args=[], env=env) as topo:
            figures, rss = _load(topo, Path(scratch), row_json, seconds, runs)
    command = f"python -m bench.api_load --seconds {seconds} --runs {runs}"
    setup = {"connections": 32, "wrk_threads": THREADS, "gunicorn": "2 × 16", "runs": runs}
    for name, figure in figures.items():
        record(
            f"api_{name}",
            figure["requests_per_s"],
            "requests/s",
            target=None,
            met=None,
            command=command,
            details={**{k: v for k, v in figure.items() if k != "all"}, **setup},
            busy=busy,
        )
    bare = figures["bare_row"]["all"]
    for name in ("get_row", "patch_row"):
        # Paired by run: the endpoints took turns, so a busy moment weighs on both alike.
        ratios = [
            r["requests_per_s"] / b["requests_per_s"]
            for r, b in zip(figures[name]["all"], bare, strict=True)
        ]
        ratio = statistics.median(ratios)
        record(
            f"api_{name}_vs_bare",
            round(ratio, 3),
            "ratio",
            target=">= 0.5",
            met=ratio >= 0.5,
            command=command,
            details={
                "ratios": [round(r, 3) for r in ratios],
                "requests_per_s": figures[name]["runs"],
                "bare_requests_per_s": figures["bare_row"]["runs"],
                "p99_ms": figures[name]["p99_ms"],
                "bare_p99_ms": figures["bare_row"]["p99_ms"],
                **setup,
            },
            busy=busy,
        )
    record(
        "api_rss",
        round(max(rss), 1),
        "MiB",
        target="<= 200 MiB per API process",
        met=max(rss) <= 200,
        command=command,
        details={"gunicorn_workers_mib": [round(r, 1) for r in rss], **setup},
        busy=busy,
    )


def _vacuum(database_url: str) -> None:
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE rows, outbox, cells"))
    finally:
        engine.dispose()


def _load(
    topo: Topology, scratch: Path, row_json: Path, seconds: int, runs: int
) -> tuple[dict[str, Any], list[float]]:
    port = free_port()
    topo.spawn("serve", "-m", "bench.api_bare", "--port", str(port), command=[sys.executable])
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(url, [topo.processes["serve"]])
    api = httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {topo.token}"})
    ids = load_database(lambda path, body: api.post(path, json=body).json(), 1000)
    row_json.write_bytes(api.get(f"/v1/rows/{ids[500]}").content)
    id_file = scratch / "ids.txt"
    id_file.write_text("\n".join(ids) + "\n")
    scripts = {}
    for name, body in (("get_row", GET), ("patch_row", PATCH), ("bare_row", BARE)):
        scripts[name] = scratch / f"{name}.lua"
        scripts[name].write_text(LUA % {"ids": id_file, "body": body, "threads": THREADS})
    results: dict[str, list[dict[str, float]]] = {name: [] for name in scripts}
    for _ in range(runs):
        for name, script in scripts.items():
            # This server runs with autovacuum off: each run starts from the tables a running
            # autovacuum (or the dispatcher's sweeper, autofill.fills.upkeep) would leave, not
            # from the dead row versions the previous run's PATCHes left.
            _vacuum(topo.database_url)
            results[name].append(_wrk(url, topo.token, script, seconds))
    rss = [rss_mib(pid) for pid in children_of(topo.processes["serve"].pid)]
    figures: dict[str, Any] = {}
    for name, found in results.items():
        rates = [r["requests_per_s"] for r in found]
        median = found[rates.index(statistics.median_low(rates))]
        figures[name] = {**median, "runs": rates, "all": found}
        click.echo(f"{name}: {median}")
    return figures, rss


if __name__ == "__main__":
    main()
