from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

AUTOFILL = str(Path(sys.executable).with_name("autofill"))

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Run `autofill ARGS` in an empty directory with no configuration (embedded SQLite)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AUTOFILL_") and k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
    }
    env["COLUMNS"] = "160"

    def _run(
        *args: str, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AUTOFILL, *args],
            cwd=tmp_path,
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return _run
