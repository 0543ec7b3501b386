"""bench/results.json: figure name → value, unit, target, met, command, machine, when."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")


def record(
    name: str,
    value: float,
    unit: str,
    *,
    target: str | None,
    met: bool | None,
    command: str,
    details: dict[str, Any] | None = None,
) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[name] = {
        "value": value,
        "unit": unit,
        "target": target,
        "met": met,
        "command": command,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        **({"details": details} if details else {}),
    }
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
