"""Several worker processes forked from one warmed-up parent (``autofill worker --processes N``).

A worker's memory is mostly what every worker holds alike: the imports, the o200k tokenizer
(48 MiB), the language detector's models (49 MiB) and the model SDK. Started as N separate
commands, a host holds N copies. Here the parent loads them once, freezes its objects out of
the garbage collector's reach (``gc.freeze``: a collection would otherwise write to every
object's header and copy the page), then forks the workers: their pages stay shared until
written, and each worker adds only what its own fills use (BENCHMARKS.md, ``worker_rss``).

Once they are forked, the parent has no use for what it loaded, yet holds it: every page that
all workers wrote to (reference counts, mostly: ~40 MiB) is the parent's own copy. So it hands
over: it replaces itself (``exec``, same pid, its children still its own) with this module run
as a lean process, ``python -m worker.supervisor STATE``, which imports nothing but the
standard library. A worker that dies is then started again as a fresh command (``restart``),
which loads what it needs itself: a few seconds, and pages of its own rather than shared ones.

The parent does nothing else: it runs no fill, opens no connection (nothing forked may hold
a socket another process also uses) and starts no thread before forking. It stays to
- pass SIGTERM and SIGINT on to every worker once (each then stops warmly: fills running
  finish, the rest go back to the outbox) and exit when all have;
- start a worker again when one dies without being asked to; a worker that dies within
  ``QUICK_DEATH_S`` of its start ``GIVE_UP_AFTER`` times in a row is a broken set-up (a wrong
  broker URL, say), not bad luck: everything stops, exit 1.

Workers are in a process group of their own, so a terminal's Ctrl-C reaches only the parent,
which passes it on once (a second signal would make a Celery worker stop cold); a worker
whose parent is gone stops itself, as nothing would start it again.

This module imports only the standard library (its lean process is the point of it); the
structured log it writes through comes from autofill.logs only in the warmed-up parent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any, Protocol

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
    started: float  # time.monotonic(): one clock for the whole machine, across an exec
    quick_deaths: int = 0


class Log(Protocol):
    def info(self, event: str, **fields: Any) -> Any: ...
    def warning(self, event: str, **fields: Any) -> Any: ...
    def error(self, event: str, **fields: Any) -> Any: ...


def _structured_log() -> Log:
    from autofill.logs import get_logger

    logger: Log = get_logger(__name__)  # structlog's, made on first use
    return logger


SIGNALS = {signal.SIGTERM, signal.SIGINT}


@dataclass
class Supervisor:
    """Forks ``processes`` workers, each running ``run_worker(index)``, and keeps them going.

    With ``restart``, the parent hands over to a lean copy of itself once the workers are
    forked (the module's docstring), and a worker that dies is started again as the command
    ``restart(index)``; without it, the parent stays as it is and forks a new worker itself."""

    processes: int
    run_worker: Callable[[int], None]
    restart: Callable[[int], list[str]] | None = None
    log: Log = field(default_factory=_structured_log)
    children: dict[int, _Child] = field(default_factory=dict)
    stopping: bool = False
    failed: bool = False

    def run(self) -> int:
        """Fork the workers and supervise them; the exit code for the command."""
        if threading.active_count() > 1:
            # A fork copies only the forking thread: a lock another thread held would stay
            # held forever in every worker.
            raise RuntimeError("the worker supervisor must fork before any thread starts")
        # Logged before any handler is set: the first line loads structlog, and a signal
        # handler's own line must not load it again halfway (a partly imported module).
        self.log.info("starting worker processes", processes=self.processes)
        gc.collect()
        gc.freeze()
        self._handle_signals()
        for index in range(self.processes):
            self._fork(index, quick_deaths=0)
        if self.restart is not None:
            self._hand_over(self.restart)
        return self.supervise()

    def supervise(self) -> int:
        """Wait on the workers, starting again any that dies unasked, until all have stopped."""
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

    def _handle_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _hand_over(self, restart: Callable[[int], list[str]]) -> None:
        """Replace this process by ``python -m worker.supervisor STATE``: same pid, same
        children, none of the loaded interpreter. A stop that arrives meanwhile waits, blocked,
        until the lean process has its handlers (a signal mask outlives an exec)."""
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        if self.stopping:  # a stop came while forking: it is under way, nothing to hand over
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
            return
        state = {
            "processes": self.processes,
            "children": [
                {"pid": pid, "index": c.index, "started": c.started, "quick_deaths": c.quick_deaths}
                for pid, c in self.children.items()
            ],
            "restart": {str(index): restart(index) for index in range(self.processes)},
        }
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execv(sys.executable, [sys.executable, "-m", __name__, json.dumps(state)])
        except OSError as exc:  # nothing was replaced: supervise from here, as before
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
            self.log.warning("supervisor stays loaded", error=str(exc))

    def _fork(self, index: int, quick_deaths: int) -> None:
        if self.stopping:  # a stop came while forking the others: start no more
            return
        parent = os.getpid()
        # A stop that arrives between the fork and the child's entry in ``children`` would
        # miss that child, which would then run on unasked and keep this process waiting
        # for it: the stop waits, blocked, until the child is known, and then reaches it.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            pid = os.fork()
        except OSError:  # no child (out of processes or memory): stops must still arrive
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise
        if pid == 0:  # the worker
            code = 1
            try:
                os.setpgid(0, 0)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
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
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a stop that waited arrives here
        self.log.info("worker process started", index=index, pid=pid)

    def _ended(self, child: _Child, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        if self.stopping:
            self.log.info("worker process stopped", index=child.index, exit_code=code)
            return
        quick = time.monotonic() - child.started < QUICK_DEATH_S
        deaths = child.quick_deaths + 1 if quick else 0
        self.log.warning(
            "worker process ended unasked", index=child.index, exit_code=code, quick=quick
        )
        if deaths >= GIVE_UP_AFTER:
            self.log.error(
                "worker processes keep dying at start; stopping them all",
                index=child.index,
                deaths=deaths,
            )
            self.failed = True
            self._stop(signal.SIGTERM, None)
            return
        if quick:
            time.sleep(1.0)  # not a tight loop of forks against a broken set-up
        self._fork(child.index, quick_deaths=deaths)  # none if a stop came meanwhile

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            return  # once: a second signal would make a Celery worker stop cold
        self.stopping = True
        self.log.info("stopping worker processes", signal=signal.Signals(signum).name)
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


# The lean process: ``python -m worker.supervisor STATE``, exec'd by a warmed-up parent.

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _run_command(commands: dict[int, list[str]]) -> Callable[[int], None]:
    """Start worker ``index`` afresh: its command, in the forked child."""

    def run(index: int) -> None:
        parent = os.getppid()
        # The orphan watch is a thread, which an exec ends: the kernel sends the stop instead
        # when this process's parent dies (Linux; a flag an exec keeps).
        libc_name = ctypes.util.find_library("c")
        if libc_name is not None:
            with suppress(OSError, AttributeError):
                ctypes.CDLL(libc_name).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the flag was set
            raise SystemExit(0)
        command = commands[index]
        os.execv(command[0], command)

    return run


class LineLog:
    """The lean process's log: lines like autofill.logs' (JSON, or readable on a terminal),
    without structlog, which alone would add 20 MiB to a process that waits on its children."""

    def _write(self, level: str, event: str, fields: dict[str, Any]) -> None:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        if sys.stderr.isatty():
            pairs = " ".join(f"{key}={value}" for key, value in fields.items())
            line = f"{now} [{level:<9}] {event:<40} {pairs}"
        else:
            line = json.dumps({**fields, "event": event, "level": level, "timestamp": now})
        print(line, file=sys.stderr, flush=True)

    def info(self, event: str, **fields: Any) -> None:
        self._write("info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._write("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._write("error", event, fields)


def resume(state: dict[str, Any]) -> int:
    """Supervise the workers a warmed-up parent forked, as it would have."""
    commands = {int(index): command for index, command in state["restart"].items()}
    supervisor = Supervisor(state["processes"], _run_command(commands), log=LineLog())
    for child in state["children"]:
        supervisor.children[child["pid"]] = _Child(
            child["index"], child["started"], child["quick_deaths"]
        )
    supervisor._handle_signals()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)  # a stop that waited arrives now
    return supervisor.supervise()


if __name__ == "__main__":
    raise SystemExit(resume(json.loads(sys.argv[1])))
