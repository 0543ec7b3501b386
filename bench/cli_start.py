"""How soon the CLI answers: `autofill --help`, `autofill workspace list`, `autofill llm-sim`.

    .venv/bin/python -m bench.cli_start            # about half a minute

Each command runs as a newcomer runs it: the console script in a fresh process, with no
configuration (the embedded SQLite database in a scratch data directory, created and migrated
by one untimed run first, as a first command would). Python's bytecode cache is on, as it is
by default: the untimed first runs write the project's ``__pycache__`` (an editable install
compiles nothing at install time; the Docker image's ``pip install .`` does). A shell that sets
``PYTHONDONTWRITEBYTECODE`` (this workplace's does) would otherwise have every run compile
the project's modules again, 30-50 ms of each start. Wall time from start to exit, median of
10 runs taken round-robin; for `autofill llm-sim`, from start until ``GET /v1/models``
answers, median of 5.
The floor beside them: the bare interpreter, and the interpreter importing what a command over
the store cannot avoid (SQLAlchemy's ORM, pydantic-settings, click).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import httpx2

from bench.results import busy_share, record
from bench.services import free_port

AUTOFILL = str(Path(sys.executable).with_name("autofill"))
FLOOR = "import sqlalchemy.orm, pydantic_settings, click"


# The commands that open the store and so import the floor; `--help` imports none of it, so
# a time "over the floor" would be negative and mean nothing.
OVER_STORE = ("workspace_list",)


def _over_floor(walls: list[float], floors: list[float]) -> dict[str, float]:
    """What a command adds to the floor, round by round: steadier than either wall time when
    the machine's speed drifts."""
    return {
        "over_floor_s": round(
            statistics.median(w - f for w, f in zip(walls, floors, strict=True)), 3
        )
    }


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def _sim_ready(env: dict[str, str]) -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [AUTOFILL, "llm-sim", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < 60:
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code:
                    return time.perf_counter() - started
            except httpx2.HTTPError:
                time.sleep(0.01)
        raise RuntimeError("autofill llm-sim did not answer within 60 s")
    finally:
        process.terminate()
        process.wait(10)


@click.command()
@click.option("--runs", default=10, show_default=True)
def main(runs: int) -> None:
    busy = busy_share()
    with tempfile.TemporaryDirectory() as home:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AUTOFILL_", "OPENAI_", "ANTHROPIC_"))
            and key != "PYTHONDONTWRITEBYTECODE"
        }
        env["AUTOFILL_DATA_DIR"] = home
        subprocess.run([AUTOFILL, "workspace", "create", "Bench"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        for untimed in (["--help"], ["workspace", "list"]):
            subprocess.run([AUTOFILL, *untimed], env=env, check=True, capture_output=True)
        timed = {
            "help": [AUTOFILL, "--help"],
            "workspace_list": [AUTOFILL, "workspace", "list"],
            "python_bare": [sys.executable, "-c", "pass"],
            "python_floor": [sys.executable, "-c", FLOOR],
        }
        # Round-robin, not one command's runs after another's: the machine's speed drifts
        # over a run (the floor moved 0.43-0.47 s between two runs here), and interleaving
        # gives every command the same share of fast and slow moments.
        walls: dict[str, list[float]] = {name: [] for name in timed}
        for _ in range(runs):
            for name, cmd in timed.items():
                walls[name].append(_wall(cmd, env))
        sim = [_sim_ready(env) for _ in range(max(runs // 2, 1))]
    median = {name: round(statistics.median(w), 3) for name, w in walls.items()}
    sim_median = round(statistics.median(sim), 3)
    command = f"python -m bench.cli_start --runs {runs}"
    floor = {
        "python_bare_s": median["python_bare"],
        "python_orm_settings_click_s": median["python_floor"],
    }
    for name, label in (("help", "autofill --help"), ("workspace_list", "autofill workspace list")):
        record(
            f"cli_start_{name}",
            median[name],
            "s",
            target="<= 0.5 s",
            met=median[name] <= 0.5,
            command=command,
            details={
                "command": label,
                "runs_s": [round(w, 3) for w in walls[name]],
                **floor,
                **(_over_floor(walls[name], walls["python_floor"]) if name in OVER_STORE else {}),
            },
            busy=busy,
        )
    record(
        "cli_start_llm_sim_ready",
        sim_median,
        "s",
        target="<= 2 s",
        met=sim_median <= 2.0,
        command=command,
        details={"runs_s": [round(s, 3) for s in sim]},
        busy=busy,
    )
    click.echo(f"{median} llm-sim ready {sim_median} s (busy {busy:.0%})")


if __name__ == "__main__":
    main()
