"""Where a row request's cost goes, one request at a time, without gunicorn, wrk or contention:
the same three requests bench.api_load measures (the bare endpoint, GET and PATCH of a row),
sent through Flask's test client to the app in this process, on PostgreSQL and Redis.

    .venv/bin/python -m bench.api_steps                  # 2,000 requests of each
    .venv/bin/python -m bench.api_steps --requests 5000
    .venv/bin/python -m bench.api_steps --wide           # 20 properties, pages of ~100 KB

For each request: this process's CPU (time.process_time), the PostgreSQL backend's CPU (its
/proc entry: one thread sends one request at a time, so the pool holds one connection), the
database round trips and the statements by kind. Under load, CPU is what a request costs the
machine, so these figures are what bench.api_load's ratios come from, without its noise.
Printed, not kept in bench/results.json: a diagnosis (the targets are bench.api_load's).
"""

from __future__ import annotations

import cProfile
import itertools
import json
import os
import pstats
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy import event, text

from bench.topology import topology

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _callgrind(switch: str, dump_as: str | None = None) -> None:
    """Under ``valgrind --tool=callgrind --instr-atstart=no`` (BENCH_CALLGRIND=1), count
    instructions only while requests are sent, one dump per kind: a count that does not move
    with the machine's load, for comparing two versions of the code on a busy machine."""
    if not os.environ.get("BENCH_CALLGRIND"):
        return
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", switch, pid], check=True, capture_output=True)
    if dump_as is not None:
        subprocess.run(["callgrind_control", "-d", dump_as, pid], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)


def _kind(statement: str) -> str:
    words = statement.split()
    return " ".join(words[:2]) if words else "?"


def load_database(
    post: Callable[[str, dict[str, Any]], dict[str, Any]], rows: int, *, wide: bool = False
) -> list[str]:
    """The row endpoints' database, shared with bench.api_load: a title, a text property no AI
    column reads, one AI column (auto-update off, so nothing is filled) and ``rows`` rows of 40
    short sentences, created through ``post(path, body) -> answer``; the rows' ids.

    ``wide``: a larger team's database instead, 20 properties of which 5 are AI columns, and
    pages of about 100 KB (a long meeting transcript), for what grows with either."""
    summary = {"task": "summary", "model": "sim:sim-1", "auto_update": False}
    properties: list[dict[str, Any]] = [
        {"name": "Name", "type": "title"},
        {"name": "Stage", "type": "text"},
        {"name": "Summary", "type": "ai", "ai": summary},
    ]
    page = 40
    if wide:
        properties += [{"name": f"Note {k}", "type": "text"} for k in range(13)]
        properties += [{"name": f"AI {k}", "type": "ai", "ai": summary} for k in range(4)]
        page = 12_000  # "Row 123. " is 9 bytes: ~108 KB
    database = post("/v1/databases", {"name": "Load", "properties": properties})
    return [
        post(
            f"/v1/databases/{database['id']}/rows",
            {"properties": {"Name": f"Row {n}"}, "content": f"Row {n}. " * page},
        )["id"]
        for n in range(rows)
    ]


@click.command()
@click.option("--requests", "count", default=2000, show_default=True)
@click.option("--rows", default=200, show_default=True)
@click.option(
    "--profile",
    type=click.Choice(["bare", "get_row", "patch_row"]),
    help="also run this request under cProfile (CPU time): the 30 costliest functions, then ours",
)
@click.option(
    "--wide",
    is_flag=True,
    help="20 properties (5 of them AI columns) and pages of ~100 KB instead of 3 and 0.3 KB",
)
def main(count: int, rows: int, profile: str | None, wide: bool) -> None:
    with topology(sim_args=[], env={"AUTOFILL_API_RATE_LIMIT": "100000000/minute"}) as topo:
        os.environ.update(topo.env)
        from api import create_app
        from api.endpoint import store
        from autofill.config import use_settings
        from bench.api_bare import bp

        use_settings(None)
        app = create_app({"MIGRATE": False})
        app.register_blueprint(bp)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {topo.token}"}
        ids = load_database(
            lambda path, body: client.post(path, headers=headers, json=body).get_json(),
            rows,
            wide=wide,
        )
        row_json = client.get(f"/v1/rows/{ids[0]}", headers=headers).data
        bare_json = Path(topo.logs) / "row.json"
        bare_json.write_bytes(row_json)
        os.environ["BENCH_BARE_JSON"] = str(bare_json)

        with app.app_context():
            engine = store().engine
        with engine.connect() as connection:
            backend = int(connection.execute(text("select pg_backend_pid()")).scalar_one())
        statements: Counter[str] = Counter()

        def counted(*args: Any) -> None:
            statements[_kind(args[2])] += 1

        edits = itertools.count()  # every PATCH a new value: an edit writes, as wrk's do

        sends: dict[str, Callable[[int], Any]] = {
            "bare": lambda n: client.get(f"/bench/bare/{ids[n % rows]}", headers=headers),
            "get_row": lambda n: client.get(f"/v1/rows/{ids[n % rows]}", headers=headers),
            "patch_row": lambda n: client.patch(
                f"/v1/rows/{ids[n % rows]}",
                headers=headers,
                json={"properties": {"Stage": f"s{next(edits)}"}},
            ),
        }
        for name, send in sends.items():
            for n in range(min(200, count)):  # warm up: caches, the pool, the first plans
                assert send(n).status_code == 200
            statements.clear()
            event.listen(engine, "before_cursor_execute", counted)
            _callgrind("on")
            ours, database = time.process_time(), _cpu_s(backend)
            for n in range(count):
                # A failed request costs less than a served one: none may pass for a figure.
                assert send(n).status_code == 200, name
            ours, database = time.process_time() - ours, _cpu_s(backend) - database
            _callgrind("off", name)
            event.remove(engine, "before_cursor_execute", counted)
            click.echo(
                json.dumps(
                    {
                        "request": name,
                        "cpu_ms": {
                            "api": round(1000 * ours / count, 3),
                            "postgres": round(1000 * database / count, 3),
                        },
                        "statements": round(sum(statements.values()) / count, 2),
                        "by_kind": {k: round(v / count, 2) for k, v in statements.most_common()},
                    }
                )
            )
        if profile is not None:
            profiler = cProfile.Profile(time.process_time)  # CPU, not waits on the database
            send = sends[profile]
            profiler.runcall(lambda: [send(n) for n in range(count)])
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(r"/(api|autofill)/", 40)
            if os.environ.get("BENCH_CALLEES"):
                stats.print_callees(os.environ["BENCH_CALLEES"])


if __name__ == "__main__":
    main()
