"""REST API throughput and tail latency under gunicorn on PostgreSQL, loaded with wrk.

    .venv/bin/python -m bench.api_load            # about 2 minutes; needs wrk (apt-get install wrk)

`autofill serve` (2 gunicorn workers × 16 threads, the defaults) on a database of its own with
1,000 rows and an AI column (auto-update off, so no fill competes for the CPU), Redis for
readiness. wrk runs on the same 2 cores (loopback), 4 threads and 32 connections, for 20 s per
endpoint, 3 times; the median run is reported:
- ``GET /v1/rows/{id}`` over 1,000 different rows;
- ``PATCH /v1/rows/{id}`` changing a property no AI column reads (a real write: validation,
  version bump, outbox check, commit).
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click
import httpx2

from bench.results import record
from bench.services import free_port, wait_until_ready
from bench.topology import topology

LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  local id = ids[(n %% #ids) + 1]
  %(body)s
end
"""
GET = 'return wrk.format("GET", "/v1/rows/" .. id)'
PATCH = (
    'return wrk.format("PATCH", "/v1/rows/" .. id, nil, '
    '\'{"properties": {"Stage": "s\' .. (n % 7) .. \'"}}\')'
)


def _wrk(url: str, token: str, script: Path, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk", "-t4", "-c32", f"-d{seconds}s", "--latency", "-s", str(script),
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
    with topology(sim_args=[], env=env) as topo, tempfile.TemporaryDirectory() as scratch:
        port = free_port()
        topo.spawn("serve", "serve", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, [topo.processes["serve"]])
        api = httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {topo.token}"})
        summary = {"task": "summary", "model": "sim:sim-1", "auto_update": False}
        database = api.post(
            "/v1/databases",
            json={
                "name": "Load",
                "properties": [
                    {"name": "Name", "type": "title"},
                    {"name": "Stage", "type": "text"},
                    {"name": "Summary", "type": "ai", "ai": summary},
                ],
            },
        ).json()
        ids = [
            api.post(
                f"/v1/databases/{database['id']}/rows",
                json={"properties": {"Name": f"Row {n}"}, "content": f"Row {n}. " * 40},
            ).json()["id"]
            for n in range(1000)
        ]
        id_file = Path(scratch) / "ids.txt"
        id_file.write_text("\n".join(ids) + "\n")
        figures: dict[str, Any] = {}
        for name, body in (("get_row", GET), ("patch_row", PATCH)):
            script = Path(scratch) / f"{name}.lua"
            script.write_text(LUA % {"ids": id_file, "body": body})
            results = [_wrk(url, topo.token, script, seconds) for _ in range(runs)]
            rates = [r["requests_per_s"] for r in results]
            median = results[rates.index(statistics.median_low(rates))]
            figures[name] = {**median, "runs": rates}
            click.echo(f"{name}: {median}")
    for name, figure in figures.items():
        record(
            f"api_{name}",
            figure["requests_per_s"],
            "requests/s",
            target=None,
            met=None,
            command=f"python -m bench.api_load --seconds {seconds} --runs {runs}",
            details={**figure, "connections": 32, "wrk_threads": 4, "gunicorn": "2 × 16"},
        )


if __name__ == "__main__":
    main()
