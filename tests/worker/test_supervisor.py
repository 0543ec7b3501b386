"""`autofill worker --processes N`'s parent: how it splits the work, names the workers, passes
a stop on, starts a dead worker again and gives up on a broken set-up (worker.supervisor), with
stand-in workers forked in a process of their own (tests/worker/supervised.py) — each behaviour
both by a parent that stays loaded and by one that hands over to the lean supervisor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

import pytest

from worker.supervisor import GIVE_UP_AFTER, indexed_celery_args, split_in_flight

pytestmark = pytest.mark.timeout(60)


def test_fills_in_flight_are_split_evenly() -> None:
    assert split_in_flight(100, 3) == [34, 33, 33]
    assert split_in_flight(4, 4) == [1, 1, 1, 1]
    assert sum(split_in_flight(1000, 7)) == 1000


@pytest.mark.parametrize(
    ("given", "index", "expected"),
    [
        ((), 1, ["-n", "worker1@%h"]),
        (("-n", "bulk@host"), 2, ["-n", "bulk-2@host"]),
        (("--hostname", "bulk"), 0, ["--hostname", "bulk-0"]),
        (("--hostname=bulk@h", "-E"), 1, ["--hostname=bulk-1@h", "-E"]),
        (("-nbulk@h",), 3, ["-nbulk-3@h"]),
    ],
)
def test_each_worker_gets_a_node_name_of_its_own(
    given: tuple[str, ...], index: int, expected: list[str]
) -> None:
    assert indexed_celery_args(given, index) == expected


def _pids(directory: Path, suffix: str) -> dict[int, list[int]]:
    """index → pids of the stand-ins that wrote ``<index>.<pid><suffix>``, in start order."""
    found: dict[int, list[tuple[float, int]]] = {}
    for path in directory.glob(f"*{suffix}"):
        index, pid = path.name.removesuffix(suffix).split(".")
        found.setdefault(int(index), []).append((path.stat().st_mtime, int(pid)))
    return {index: [pid for _, pid in sorted(pids)] for index, pids in found.items()}


def _wait(condition: Callable[[], object], timeout: float = 20.0, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {condition}")


HAND_OVER = pytest.mark.parametrize("lean", [False, True], ids=["loaded", "lean"])


@contextmanager
def supervised(
    tmp_path: Path, processes: int, mode: str, lean: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "tests.worker.supervised", str(tmp_path), str(processes)]
    parent = subprocess.Popen(
        [*command, mode, *(["lean"] if lean else [])], cwd=Path(__file__).parents[2]
    )
    try:
        yield parent
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        for pids in _pids(tmp_path, ".started").values():
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child of the supervisor is reaped by it; after the supervisor is gone, by init: a
    # zombie still answers kill(0), so read its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@HAND_OVER
def test_a_stop_reaches_every_worker_once_and_the_parent_exits_when_they_have(
    tmp_path: Path,
    lean: bool,
) -> None:
    with supervised(tmp_path, 3, "steady", lean) as parent:
        _wait(lambda: len(_pids(tmp_path, ".started")) == 3)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(20) == 0
        stopped = list(tmp_path.glob("*.stopped"))
        assert len(stopped) == 3
        assert {path.read_text() for path in stopped} == {"1"}  # one signal each: a warm stop


@HAND_OVER
def test_a_ctrl_c_at_the_parent_is_passed_on_once(tmp_path: Path, lean: bool) -> None:
    with supervised(tmp_path, 2, "steady", lean) as parent:
        _wait(lambda: len(_pids(tmp_path, ".started")) == 2)
        parent.send_signal(signal.SIGINT)
        parent.send_signal(signal.SIGINT)  # pressed twice: still one stop for each worker
        assert parent.wait(20) == 0
        assert {path.read_text() for path in tmp_path.glob("*.stopped")} == {"1"}


@HAND_OVER
def test_a_worker_that_dies_is_started_again_in_its_place(tmp_path: Path, lean: bool) -> None:
    with supervised(tmp_path, 2, "steady", lean) as parent:
        _wait(lambda: len(_pids(tmp_path, ".started")) == 2)
        first = _pids(tmp_path, ".started")[1][0]
        os.kill(first, signal.SIGKILL)
        _wait(lambda: len(_pids(tmp_path, ".started").get(1, [])) == 2)
        assert _pids(tmp_path, ".started")[0] == _pids(tmp_path, ".started")[0][:1]
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(20) == 0
        assert len(list(tmp_path.glob("*.stopped"))) == 2


@HAND_OVER
def test_workers_that_keep_dying_at_start_stop_the_command_with_an_error(
    tmp_path: Path,
    lean: bool,
) -> None:
    with supervised(tmp_path, 2, "broken", lean) as parent:
        assert parent.wait(30) == 1
        starts = _pids(tmp_path, ".started")
        assert max(len(pids) for pids in starts.values()) == GIVE_UP_AFTER


@HAND_OVER
def test_workers_stop_by_themselves_when_the_parent_is_killed(tmp_path: Path, lean: bool) -> None:
    with supervised(tmp_path, 2, "steady", lean) as parent:
        _wait(lambda: len(_pids(tmp_path, ".started")) == 2)
        workers = [pids[0] for pids in _pids(tmp_path, ".started").values()]
        parent.kill()
        parent.wait(10)
        _wait(lambda: len(list(tmp_path.glob("*.stopped"))) == 2)
        _wait(lambda: not any(_alive(pid) for pid in workers))


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def test_the_parent_hands_over_to_the_lean_supervisor_once_the_workers_run(
    tmp_path: Path,
) -> None:
    """Same pid, same children, none of what it loaded: it is now `python -m
    worker.supervisor`, which imports only the standard library."""
    with supervised(tmp_path, 2, "steady", lean=True) as parent:
        _wait(lambda: len(_pids(tmp_path, ".started")) == 2)
        _wait(lambda: "worker.supervisor" in _cmdline(parent.pid))
        for pids in _pids(tmp_path, ".started").values():
            stat = Path(f"/proc/{pids[0]}/stat").read_text().rsplit(")", 1)[1].split()
            assert int(stat[1]) == parent.pid  # still the lean process's children
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(20) == 0


def test_a_worker_started_again_stops_when_the_lean_parent_is_killed(tmp_path: Path) -> None:
    """A worker started again is a command, not a fork: the kernel tells it its parent died
    (the forked workers' watch thread does not survive an exec)."""
    with supervised(tmp_path, 2, "steady", lean=True) as parent:
        _wait(lambda: len(_pids(tmp_path, ".started")) == 2)
        os.kill(_pids(tmp_path, ".started")[0][0], signal.SIGKILL)
        _wait(lambda: len(_pids(tmp_path, ".started").get(0, [])) == 2)
        again = _pids(tmp_path, ".started")[0][1]
        assert "one" in _cmdline(again)
        parent.kill()
        parent.wait(10)
        _wait(lambda: Path(tmp_path, f"0.{again}.stopped").exists())
        _wait(lambda: not _alive(again))


@HAND_OVER
def test_a_stop_that_arrives_while_forking_reaches_every_worker(tmp_path: Path, lean: bool) -> None:
    """A stop that comes while the parent is still forking (or handing over) reaches every
    worker that started, however it falls: none is forked after it or missed by it, and the
    parent does not wait for ever on one that was. The stop is sent the moment the first
    worker shows, a few times over, as that is when the fork of the others is under way
    (it once came between a fork and the child's entry in the parent's table)."""
    for attempt in range(5):
        directory = tmp_path / str(attempt)
        directory.mkdir()
        with supervised(directory, 3, "steady", lean) as parent:
            _wait(partial(_pids, directory, ".started"), timeout=20, every=0.0005)
            parent.send_signal(signal.SIGTERM)
            assert parent.wait(20) == 0
            started = sum(len(pids) for pids in _pids(directory, ".started").values())
            stopped = list(directory.glob("*.stopped"))
            assert len(stopped) == started
            assert {path.read_text() for path in stopped} == {"1"}
