"""Scale-out: fills/s with 1, 2 and 4 worker hosts, each a network namespace of its own
(bench.netns) running one `autofill worker`, beside a dispatcher host, against PostgreSQL,
Redis and the simulator on the network's bridge. Each worker host keeps the same number of
calls in flight, so adding a host adds capacity as a real one would.

    .venv/bin/python -m bench.scale_out                          # 1, 2, 4 hosts, 3000 rows
    .venv/bin/python -m bench.scale_out --hosts 1,2 --rows 1000 --runs 3

On one machine every host shares its cores: past the first host, fills/s is bounded by the
machine's CPU, not by the design. So each run reports fills/s and fills per CPU-second (of our
processes, and of the whole machine), and both as a ratio to the one-host run: a design that
scales out keeps its fills per CPU-second as hosts are added (no per-host or cross-host
overhead), and its fills/s grows until the machine is full.

Each run also reads the services' own counters (bench.service_counters): PostgreSQL statements,
transactions and WAL bytes per fill, Redis commands and bytes per fill, and the CPU per fill of
each process kind (workers, dispatcher, PostgreSQL, Redis, simulator). SCALING.md's model is
built from the one-host run's figures.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import click

from bench import netns, service_counters
from bench.backfill import add_columns, load_rows, statuses, wait_ready
from bench.results import busy_share, record, steady_rate
from bench.topology import cpu_seconds, machine_cpu_seconds, topology, tree_cpu_seconds


def one_run(
    worker_hosts: int, rows: int, per_host: int, latency_ms: float, jitter: float
) -> dict[str, Any]:
    sim_args = ["--latency-ms", str(latency_ms), "--jitter", str(jitter)]
    with netns.network() as network, topology(sim_args=sim_args, network=network) as topo:
        dispatcher_host = network.add_host("disp")
        hosts = [network.add_host(f"w{n + 1}") for n in range(worker_hosts)]
        database_id = load_rows(topo, rows)
        names = [host.name for host in hosts]
        for host in hosts:
            node = f"{host.name}@{host.name}"
            topo.spawn(host.name, "worker", "--concurrency", str(per_host), "-n", node, host=host)
        topo.spawn("dispatcher", "dispatcher", host=dispatcher_host)
        wait_ready(topo, names)
        service_counters.prepare(topo.database_url, topo.redis_url)
        assert topo.postgres_pid is not None and topo.redis_pid is not None
        services = {
            "postgres": topo.postgres_pid,
            "redis": topo.redis_pid,
            "simulator": topo.processes["sim"].pid,
        }
        before = service_counters.snapshot(topo.database_url, topo.redis_url)
        cpu_before, machine_before = topo.cpu(), machine_cpu_seconds()
        services_before = {n: tree_cpu_seconds(p) for n, p in services.items()}
        started = time.monotonic()
        property_ids = add_columns(topo, database_id, 1)
        marks: dict[str, float] = {}
        while True:
            counts = statuses(topo, property_ids)
            settled = counts["filled"] + counts["error"]
            now = time.monotonic() - started
            if settled >= 0.1 * rows:
                marks.setdefault("p10", now)
            if settled >= 0.9 * rows:
                marks.setdefault("p90", now)
            if settled >= rows:
                marks["end"] = now
                break
            if now > 1800:
                raise RuntimeError(f"not done after 30 min: {dict(counts)}")
            time.sleep(0.25)
        cpu_after, machine_after = topo.cpu(), machine_cpu_seconds()
        services_after = {n: tree_cpu_seconds(p) for n, p in services.items()}
        after = service_counters.snapshot(topo.database_url, topo.redis_url)
        sim = topo.sim_stats()
        ours = {n: cpu_after[n] - cpu_before.get(n, 0.0) for n in cpu_after}
        ours_total = sum(ours.values())
        machine = machine_after - machine_before
        steady = steady_rate(rows, marks)
        in_flight = per_host * worker_hosts
        by_kind = {
            "workers": sum(v for n, v in ours.items() if n in names),
            "dispatcher": ours.get("dispatcher", 0.0),
            **{n: services_after[n] - services_before[n] for n in services},
        }
        logs = {n: (topo.logs / f"{n}.log").read_text(errors="replace") for n in names}
        return {
            "worker_hosts": worker_hosts,
            # Each worker's "fill" log lines that say it filled a cell.
            "fills_by_host": {n: text.count('"outcome": "filled"') for n, text in logs.items()},
            "in_flight": in_flight,
            "fills": rows,
            "errors": counts["error"],
            "seconds": round(marks["end"], 1),
            "steady_fills_per_s": round(steady, 1),
            "overall_fills_per_s": round(rows / marks["end"], 1),
            "limit_fills_per_s": round(in_flight / sim["mean_latency_s"], 1),
            "fills_per_cpu_s_ours": round(rows / ours_total, 1),
            "fills_per_cpu_s_machine": round(rows / machine, 1),
            "cpu_ms_per_fill": {k: round(1000 * v / rows, 2) for k, v in by_kind.items()},
            "cpu_ms_per_fill_machine": round(1000 * machine / rows, 2),
            "simulator_cpu_share": round(by_kind["simulator"] / machine, 3),
            "per_fill": service_counters.per_fill(before, after, rows),
            "link_delay_ms": hosts[0].delay_ms,
            "sim_cpu_s": round(cpu_seconds(services["simulator"]), 1),
        }


@click.command()
@click.option("--hosts", "host_counts", default="1,2,4", show_default=True)
@click.option("--rows", default=3000, show_default=True)
@click.option("--per-host", default=40, show_default=True, help="calls in flight per worker host")
@click.option("--latency-ms", default=500.0, show_default=True)
@click.option("--jitter", default=0.3, show_default=True, help="log-normal sigma")
@click.option("--runs", default=1, show_default=True, help="median of this many runs each")
def main(
    host_counts: str, rows: int, per_host: int, latency_ms: float, jitter: float, runs: int
) -> None:
    reason = netns.available()
    if reason is not None:
        raise click.ClickException(f"this machine cannot make test hosts: {reason}")
    counts = [int(n) for n in host_counts.split(",")]
    busy = busy_share()
    medians: dict[int, dict[str, Any]] = {}
    for count in counts:
        results = []
        for _ in range(runs):
            result = one_run(count, rows, per_host, latency_ms, jitter)
            click.echo(json.dumps(result))
            results.append(result)
        rates = [r["steady_fills_per_s"] for r in results]
        medians[count] = results[rates.index(statistics.median_low(rates))]
    base = medians[counts[0]]
    table = [
        {
            "worker_hosts": n,
            "steady_fills_per_s": m["steady_fills_per_s"],
            "limit_fills_per_s": m["limit_fills_per_s"],
            "fills_per_cpu_s_ours": m["fills_per_cpu_s_ours"],
            "fills_per_cpu_s_machine": m["fills_per_cpu_s_machine"],
            "fills_per_s_vs_first": round(m["steady_fills_per_s"] / base["steady_fills_per_s"], 2),
            "fills_per_cpu_s_vs_first": round(
                m["fills_per_cpu_s_ours"] / base["fills_per_cpu_s_ours"], 2
            ),
            "cpu_ms_per_fill": m["cpu_ms_per_fill"],
            "simulator_cpu_share": m["simulator_cpu_share"],
        }
        for n, m in medians.items()
    ]
    click.echo(json.dumps(table, indent=2))
    command = (
        f"python -m bench.scale_out --hosts {host_counts} --rows {rows} --per-host {per_host} "
        f"--latency-ms {latency_ms:g} --runs {runs}"
    )
    last = table[-1]
    record(
        "scale_out",
        last["fills_per_cpu_s_vs_first"],
        f"fills per CPU-second with {last['worker_hosts']} worker hosts ÷ with {counts[0]}",
        target=">= 0.9 (adding hosts adds no overhead per fill)",
        met=last["fills_per_cpu_s_vs_first"] >= 0.9,
        command=command,
        details={"table": table},
        busy=busy,
    )
    record(
        "scaling_model_per_fill",
        base["per_fill"]["pg_statements"],
        "PostgreSQL statements per fill",
        target=None,
        met=None,
        command=command,
        details={
            "worker_hosts": counts[0],
            "cpu_ms_per_fill": base["cpu_ms_per_fill"],
            **base["per_fill"],
        },
        busy=busy,
    )


if __name__ == "__main__":
    main()
