"""A supervisor over stand-in workers, run as its own process by test_supervisor:

    python -m tests.worker.supervised DIR PROCESSES MODE [lean]

Each stand-in writes ``DIR/<index>.<pid>.started``; on SIGTERM it writes ``.stopped`` (and
counts the signals it got) and exits 0. MODE ``steady``: they run until stopped; ``broken``:
they exit 3 at once, every time. With ``lean``, the parent hands over to the lean supervisor
once the stand-ins are forked, and a stand-in that dies is started again as the command

    python -m tests.worker.supervised one DIR INDEX MODE

as `autofill worker --processes N` starts a worker again with `python -m cli worker ...`.
The supervisor's exit code is this process's.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from worker.supervisor import Supervisor


def stand_in(directory: Path, mode: str) -> Callable[[int], None]:
    def run(index: int) -> None:
        me = f"{index}.{os.getpid()}"
        got: list[int] = []

        def stop(signum: int, _frame: FrameType | None) -> None:
            got.append(signum)

        signal.signal(signal.SIGTERM, stop)
        (directory / f"{me}.started").write_text(str(time.time()))
        if mode == "broken":
            raise SystemExit(3)
        while not got:
            time.sleep(0.02)
        time.sleep(0.3)  # a warm stop takes a moment: a second signal would arrive meanwhile
        (directory / f"{me}.stopped").write_text(str(len(got)))

    return run


def main() -> None:
    if sys.argv[1] == "one":  # one stand-in, started again by the lean supervisor
        directory, index, mode = Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        stand_in(directory, mode)(index)
        return
    directory, processes, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    lean = sys.argv[4:] == ["lean"]

    def restart(index: int) -> list[str]:
        here = [sys.executable, "-m", "tests.worker.supervised"]
        return [*here, "one", str(directory), str(index), mode]

    supervisor = Supervisor(processes, stand_in(directory, mode), restart if lean else None)
    raise SystemExit(supervisor.run())


if __name__ == "__main__":
    main()
