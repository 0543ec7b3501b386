"""A supervisor over stand-in workers, run as its own process by test_supervisor:

    python -m tests.worker.supervised DIR PROCESSES MODE

Each stand-in writes ``DIR/<index>.<pid>.started``; on SIGTERM it writes ``.stopped`` (and
counts the signals it got) and exits 0. MODE ``steady``: they run until stopped; ``broken``:
they exit 3 at once, every time. The supervisor's exit code is this process's.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType

from worker.supervisor import Supervisor


def main() -> None:
    directory, processes, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

    def run(index: int) -> None:
        import os

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

    raise SystemExit(Supervisor(processes, run).run())


if __name__ == "__main__":
    main()
