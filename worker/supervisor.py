"""Several worker processes forked from one warmed-up parent (``autofill worker --processes N``).

A worker's memory is mostly what every worker holds alike: the imports, the o200k tokenizer
(48 MiB), the language detector's models (49 MiB) and the model SDK. Started as N separate
commands, a host holds N copies. Here the parent loads them once, freezes its objects out of
the garbage collector's reach (``gc.freeze``: a collection would otherwise write to every
object's header and copy the page), then forks the workers: their pages stay shared until
written, and each worker adds only what its own fills use (BENCHMARKS.md, ``worker_rss``).

The parent does nothing else: it runs no fill, opens no connection (nothing forked may hold
a socket another process also uses) and starts no thread before forking. It stays to
- pass SIGTERM and SIGINT on to every worker once (each then stops warmly: fills running
  finish, the rest go back to the outbox) and exit when all have;
- start a worker again, forked from the same warmed-up state, when one dies without being
  asked to; a worker that dies within ``QUICK_DEATH_S`` of its start ``GIVE_UP_AFTER`` times in
  a row is a broken set-up (a wrong broker URL, say), not bad luck: everything stops, exit 1.

Workers are in a process group of their own, so a terminal's Ctrl-C reaches only the parent,
which passes it on once (a second signal would make a Celery worker stop cold); a worker
whose parent is gone stops itself, as nothing would start it again.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from types import FrameType

from autofill.logs import get_logger

log = get_logger(__name__)
QUICK_DEATH_S = 10.0
GIVE_UP_AFTER = 3
ORPHAN_CHECK_S = 1.0


def split_in_flight(total: int, parts: int) -> list[int]:
    """``total`` fills in flight over ``parts`` workers, as evenly as whole numbers go."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def indexed_celery_args(args: tuple[str, ...], index: int) -> list[str]:
    """Celery's own arguments for worker ``index``: its node name made unique (two workers of
    one name on a broker confuse Celery's control commands), the rest unchanged."""
    out: list[str] = []
    named = False
    items = iter(args)
    for arg in items:
        if arg in ("-n", "--hostname"):
            out += [arg, _indexed(next(items, "celery@%h"), index)]
            named = True
        elif arg.startswith("--hostname="):
            out.append("--hostname=" + _indexed(arg.split("=", 1)[1], index))
            named = True
        elif arg.startswith("-n") and len(arg) > 2:
            out.append("-n" + _indexed(arg[2:], index))
            named = True
        else:
            out.append(arg)
    return out if named else [*out, "-n", f"worker{index}@%h"]


def _indexed(name: str, index: int) -> str:
    node, at, host = name.partition("@")
    return f"{node}-{index}{at}{host}"


@dataclass
class _Child:
    index: int
    started: float
    quick_deaths: int = 0


@dataclass
class Supervisor:
    """Forks ``processes`` workers, each running ``run_worker(index)``, and keeps them going."""

    processes: int
    run_worker: Callable[[int], None]
    children: dict[int, _Child] = field(default_factory=dict)
    stopping: bool = False
    failed: bool = False

    def run(self) -> int:
        """Fork the workers and supervise them; the exit code for the command."""
        if threading.active_count() > 1:
            # A fork copies only the forking thread: a lock another thread held would stay
            # held forever in every worker.
            raise RuntimeError("the worker supervisor must fork before any thread starts")
        gc.collect()
        gc.freeze()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for index in range(self.processes):
            self._fork(index, quick_deaths=0)
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            child = self.children.pop(pid, None)
            if child is None:
                continue
            self._ended(child, status)
        return 1 if self.failed else 0

    def _fork(self, index: int, quick_deaths: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                os.setpgid(0, 0)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                _stop_when_orphaned(parent)
                self.run_worker(index)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)  # never back into the parent's code (its loop, its atexit)
        self.children[pid] = _Child(index, time.monotonic(), quick_deaths)
        log.info("worker process started", index=index, pid=pid)

    def _ended(self, child: _Child, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        if self.stopping:
            log.info("worker process stopped", index=child.index, exit_code=code)
            return
        quick = time.monotonic() - child.started < QUICK_DEATH_S
        deaths = child.quick_deaths + 1 if quick else 0
        log.warning("worker process ended unasked", index=child.index, exit_code=code, quick=quick)
        if deaths >= GIVE_UP_AFTER:
            log.error(
                "worker processes keep dying at start; stopping them all",
                index=child.index,
                deaths=deaths,
            )
            self.failed = True
            self._stop(signal.SIGTERM, None)
            return
        if quick:
            time.sleep(1.0)  # not a tight loop of forks against a broken set-up
        if not self.stopping:
            self._fork(child.index, quick_deaths=deaths)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            return  # once: a second signal would make a Celery worker stop cold
        self.stopping = True
        log.info("stopping worker processes", signal=signal.Signals(signum).name)
        for pid in list(self.children):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _stop_when_orphaned(parent: int) -> None:
    """A worker whose supervisor is gone (SIGKILLed, say) stops warmly by itself."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="autofill-orphan-watch", daemon=True).start()
