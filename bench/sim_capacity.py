"""How many requests per second the LLM simulator serves here, so later benchmarks know it is
not their bottleneck.

    .venv/bin/python -m bench.sim_capacity            # ~1 minute

Starts `autofill llm-sim` as its own process and loads it from this one with aiohttp (another
process, so client and server do not share a GIL): (1) zero latency, 64 connections: raw
capacity; (2) 1 s median latency, 200 in flight: the throughput a slow provider allows, whose
ideal is in-flight ÷ latency = 200 req/s. Each scenario runs 3 times; the median is reported.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench.results import record

AUTOFILL = str(Path(sys.executable).with_name("autofill"))
BODY = {
    "model": "sim-1",
    "messages": [
        {"role": "system", "content": "Summarise the document in its own language."},
        {
            "role": "user",
            "content": "<document>Le client attend un remboursement. Il a écrit deux fois. "
            "La facture date de mars.</document>",
        },
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load(url: str, in_flight: int, seconds: float) -> tuple[int, int]:
    done = failed = 0
    stop = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done, failed
            while time.monotonic() < stop:
                async with session.post(url, json=BODY) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        failed += 1

        await asyncio.gather(*(worker() for _ in range(in_flight)))
    return done, failed


def scenario(latency_ms: int, in_flight: int, seconds: float) -> float:
    port = free_port()
    server = subprocess.Popen(
        [AUTOFILL, "llm-sim", "--port", str(port), "--latency-ms", str(latency_ms)],
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        asyncio.run(load(url, 8, 1.0))  # warm-up
        started = time.monotonic()
        done, failed = asyncio.run(load(url, in_flight, seconds))
        elapsed = time.monotonic() - started
        assert failed == 0, f"{failed} requests failed"
        return done / elapsed
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    command = "python -m bench.sim_capacity"
    raw = statistics.median(scenario(0, 64, 8.0) for _ in range(3))
    print(f"zero latency, 64 connections: {raw:.0f} req/s")
    record(
        "simulator_capacity_zero_latency",
        round(raw),
        "req/s",
        target=None,
        met=None,
        command=command,
        details={"in_flight": 64, "latency_ms": 0},
    )
    slow = statistics.median(scenario(1000, 200, 10.0) for _ in range(3))
    ideal = 200 / 1.0
    print(
        f"1 s latency, 200 in flight: {slow:.0f} req/s "
        f"({slow / ideal:.0%} of the ideal {ideal:.0f})"
    )
    record(
        "simulator_capacity_1s_latency_200_in_flight",
        round(slow, 1),
        "req/s",
        target=">= 95% of 200 req/s",
        met=slow >= 0.95 * ideal,
        command=command,
        details={"in_flight": 200, "latency_ms": 1000, "share_of_ideal": round(slow / ideal, 3)},
    )
    print(json.dumps({"zero_latency": raw, "slow": slow}))


if __name__ == "__main__":
    main()
