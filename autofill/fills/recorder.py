"""A worker process's bulk answers, recorded together: one transaction for the answers of all
its groups that came back within ``bulk_record_linger_s`` of the first one waiting.

A record's transaction costs about the same for one answer as for twenty — the rows, entries
and workspaces locked and read, a flush, a commit — and a fill's own part is a fraction of it
(``python -m bench.fill_steps``, 2026-12-03: 9.8–10.4 ms of CPU per fill recorded alone,
3.4–4.3 in fives, 1.4–1.8 in twenties). Answers of one group come back over a second or so, a
few every tenth of a second, so a group recording its own answers as they came recorded one or
two at a time. One recorder per process takes every group's answers: under a backfill it
records tens at a time, and a cell appears at most the linger later than its answer came.

Each answer keeps a single fill's rules (``autofill.fills.fill._record``), and a failure keeps
a single fill's handling: the database lost hands the answers back, anything else records them
one by one, so only a bad one fails (``record_answers``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

from autofill.config import Settings
from autofill.db import Store
from autofill.fills.fill import _record
from autofill.fills.group import Answered, record_group
from autofill.fills.handed import (
    _count_the_crash,
    _hand_back_when_the_database_is_back,
    database_out,
)
from autofill.logs import get_logger

log = get_logger(__name__)
# An answer's outcome name, and when it was recorded (time.perf_counter).
Recorded = tuple[str, float]


@dataclass
class _Waiting:
    store: Store
    settings: Settings
    answered: Answered
    since: float = field(default_factory=time.monotonic)
    future: Future[Recorded] = field(default_factory=Future)


class Recorder:
    """One thread that records what the process's groups hand it, ``most`` at a time at most.
    It starts with the first answer and stops with ``close``, after recording what waits."""

    def __init__(self, linger_s: float, most: int) -> None:
        self.linger_s, self.most = linger_s, max(1, most)
        self._waiting: list[_Waiting] = []
        self._changed = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def record(
        self, store: Store, settings: Settings, answered: Sequence[Answered]
    ) -> list[Future[Recorded]]:
        """Each answer's outcome to come, in the order of ``answered``."""
        items = [_Waiting(store, settings, item) for item in answered]
        with self._changed:
            if not self._closed:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="autofill-record", daemon=True
                    )
                    self._thread.start()
                idle = not self._waiting
                self._waiting.extend(items)
                # Wake the thread only when it has something new to do: a first answer to
                # linger on, or a full batch. Every call thread hands its answers in itself
                # (handed_group), and a wake-up per answer is a thread switch per answer.
                if idle or len(self._waiting) >= self.most:
                    self._changed.notify_all()
                return [item.future for item in items]
        # Closed (the process's pool replaced, embedded mode closing): the caller records.
        _settle(items)
        return [item.future for item in items]

    def close(self, *, wait: bool = True) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread = self._thread
        if wait and thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._waiting) or self._closed)
                if not self._waiting:
                    return  # closed, and nothing left to record
                deadline = self._waiting[0].since + self.linger_s
                while len(self._waiting) < self.most and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._changed.wait(left)
                batch = self._take()
            _settle(batch)

    def _take(self) -> list[_Waiting]:
        """Up to ``most`` of the oldest answers that share the first one's store and settings
        (one transaction goes to one database; in a worker they are all the same)."""
        first = self._waiting[0]
        batch: list[_Waiting] = []
        rest: list[_Waiting] = []
        for item in self._waiting:
            same = item.store is first.store and item.settings is first.settings
            (batch if same and len(batch) < self.most else rest).append(item)
        self._waiting = rest
        return batch


def _settle(batch: list[_Waiting]) -> None:
    """Record ``batch`` and settle each answer's future; never raises (the recorder's thread
    must go on for the other groups)."""
    batch.sort(key=lambda item: item.answered[0])  # key order: the locks' order
    try:
        outcomes = record_answers(
            batch[0].store, batch[0].settings, [item.answered for item in batch]
        )
    except Exception as exc:  # a hand-back that failed too: each answer's task counts it
        for item in batch:
            item.future.set_exception(exc)
        return
    recorded_at = time.perf_counter()
    for item, outcome in zip(batch, outcomes, strict=True):
        item.future.set_result((outcome, recorded_at))


def record_answers(store: Store, settings: Settings, answered: list[Answered]) -> list[str]:
    """Record the answers in one transaction; each one's outcome name, in order."""
    if not answered:
        return []
    try:
        outcomes = store.run(lambda session: record_group(session, settings, answered))
        return [outcome.value for outcome in outcomes]
    except DBAPIError as exc:
        if database_out(exc):
            log.warning("group record lost the database; handing it back", error=str(exc))
            return [_hand_back_when_the_database_is_back(store, *ref) for ref, _, _ in answered]
        log.warning("group record failed; recording one by one", error=str(exc))
    except Exception as exc:
        log.warning("group record failed; recording one by one", error=str(exc))
    return [_record_one(store, settings, item) for item in answered]


def _record_one(store: Store, settings: Settings, item: Answered) -> str:
    ref, claimed, result = item
    try:
        return store.run(lambda session: _record(session, settings, *ref, claimed, result)).value
    except DBAPIError as exc:
        if database_out(exc):
            return _hand_back_when_the_database_is_back(store, *ref)
        return _count_the_crash(store, settings, *ref, exc)
    except Exception as exc:
        return _count_the_crash(store, settings, *ref, exc)
