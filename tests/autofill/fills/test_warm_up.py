"""What a worker loads before its first fill (autofill.fills.fill.warm_up), in a fresh
interpreter: a plain worker loads the tokenizer, the detector and the language names; a parent
about to fork its workers (worker.supervisor) also the mappers, the prompts and the catalogue,
so that its workers share them instead of each building its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from autofill.fills import warm_up
warm_up(for_fork=sys.argv[1] == "fork")
from autofill.db.models import Row
from autofill.llm.catalogue import load_catalogue
from autofill.prompts.library import _load_cached
print(json.dumps({
    "mapped": Row.__mapper__.configured,
    "prompts": _load_cached.cache_info().currsize,
    "catalogue": load_catalogue.cache_info().currsize,
}))
"""


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("plain", {"mapped": False, "prompts": 0, "catalogue": 0}),
        ("fork", {"mapped": True, "prompts": 6, "catalogue": 1}),
    ],
)
def test_warm_up_loads_what_the_workers_will_share_only_before_a_fork(
    mode: str, expected: dict[str, object], tmp_path: Path
) -> None:
    found = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        cwd=Path(__file__).parents[3],
        env={"PATH": "/usr/bin:/bin", "AUTOFILL_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(found.stdout.strip().splitlines()[-1]) == expected
