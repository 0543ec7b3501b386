"""bench.api_steps runs end to end on a few requests (in a process of its own: it points the
settings at its topology), so the diagnosis keeps working; its figures are read by command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(180)


def test_each_request_kind_reports_its_cpu_and_its_statements() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.api_steps", "--requests", "5", "--rows", "3"],
        check=True,
        capture_output=True,
        text=True,
        timeout=170,
    ).stdout
    reports = {r["request"]: r for r in (json.loads(x) for x in out.splitlines() if x[:1] == "{")}
    assert set(reports) == {"bare", "get_row", "patch_row"}
    for report in reports.values():
        assert report["cpu_ms"]["api"] > 0
    # The bare endpoint reads only the token and its workspace; GET reads the row and its
    # cells as well, and PATCH writes the row (its property changes on most requests).
    assert reports["bare"]["statements"] < reports["get_row"]["statements"]
    assert reports["patch_row"]["by_kind"].get("UPDATE rows", 0) > 0
