"""bench/results.json: figure name → value, unit, target, met, command, machine, when."""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")


def busy_share(seconds: float = 2.0) -> float:
    """The share of the machine's CPU in use over ``seconds`` before a run (0 quiet, 1 full):
    a figure measured on a busy machine says so."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    busy_before, total_before = sample()
    time.sleep(seconds)
    busy_after, total_after = sample()
    return round((busy_after - busy_before) / max(total_after - total_before, 1), 3)


BUSY = 0.1  # over a tenth of the CPU in use before a run: the machine was busy


def record(
    name: str,
    value: float,
    unit: str,
    *,
    target: str | None,
    met: bool | None,
    command: str,
    details: dict[str, Any] | None = None,
    busy: float | None = None,
) -> None:
    """``busy``: ``busy_share()`` before the run, when the benchmark took it."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[name] = {
        "value": value,
        "unit": unit,
        "target": target,
        "met": met,
        "command": command,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
        + (
            ""
            if busy is None
            else f", {'BUSY' if busy > BUSY else 'quiet'} before the run "
            f"({100 * busy:.0f} % CPU in use)"
        ),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        **({"details": details} if details else {}),
    }
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def steady_rate(settled: int, marks: dict[str, float]) -> float:
    """Cells per second from 10 % to 90 % of ``settled`` (``marks``: seconds at ``p10``,
    ``p90`` and ``end``). A small run can pass both marks between two polls — the recorder
    writes the answers that came back within half a second in one transaction — and then
    there is no steady window to measure: the whole run's rate stands for it."""
    window = marks["p90"] - marks["p10"]
    return 0.8 * settled / window if window > 0 else settled / marks["end"]
