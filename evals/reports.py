"""Reading eval run records back (the JSONL files ``evals.record.write`` leaves), for the web
page's report view. A record that cannot be read is skipped, not fatal: a half-written file from
a run still going must not break the page."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def runs_dir(data_dir: Path) -> Path:
    """Where ``autofill evals run`` and ``gate`` write records unless told otherwise."""
    return data_dir / "evals" / "runs"


_STEM = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")


@dataclass(frozen=True)
class RunReport:
    name: str  # the file's stem: how the page links to it
    header: dict[str, Any]
    cases: list[dict[str, Any]]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [case for case in self.cases if not case.get("passed")]


def run_names(directory: Path) -> list[str]:
    """Stems of the run records in ``directory``, newest first (run ids are UTC timestamps)."""
    if not directory.is_dir():
        return []
    return sorted((path.stem for path in directory.glob("*.jsonl")), reverse=True)


def load_run(directory: Path, name: str) -> RunReport | None:
    """The record named ``name``, or None if there is none (or it is not a record)."""
    if not _STEM.match(name) or name.startswith("."):
        return None  # never a path outside the directory
    path = directory / f"{name}.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0])["run"]
        cases = [json.loads(line) for line in lines[1:] if line.strip()]
    except (OSError, IndexError, KeyError, TypeError, ValueError):
        return None
    if not isinstance(header, dict):
        return None
    return RunReport(name=name, header=header, cases=cases)


def latest_runs(directory: Path, limit: int = 20) -> list[RunReport]:
    """The newest readable records, newest first."""
    found = []
    for name in run_names(directory):
        report = load_run(directory, name)
        if report is not None:
            found.append(report)
        if len(found) >= limit:
            break
    return found
