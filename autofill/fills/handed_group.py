"""What a worker does with a group of bulk fills it was handed: claim them together, make their
model calls side by side on the process's call threads, record the answers as they come back.

- Calls run on ``Calls``' pool, one thread per fill in flight (the worker's concurrency): the
  task's own thread only claims and waits, so a worker needs a few task threads for
  its bulk groups, not one per fill.
- ``Calls.claims`` bounds what a process has claimed and not yet answered to its concurrency
  plus one group: a group waits for room before it claims, so a fill's lease never runs while
  it waits behind other groups for a call thread; each fill gives its room back as its answer
  comes in, so the next group is claimed while the call threads are still busy.
- Answers are recorded by the process's recorder (autofill.fills.recorder), with those of its
  other groups that came back within ``bulk_record_linger_s``, in one transaction; the task
  waits for its fills' outcomes before its message is acknowledged.
- Failures keep a single fill's rules (autofill.fills.handed): the database lost under a claim
  or a record hands the group's fills back; anything else the group's transaction raises
  (a bug, a statement the database refuses) runs its fills one by one, so only a bad fill
  fails, and a call that raises counts as that fill's crash.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from autofill.config import Settings
from autofill.db import Store
from autofill.fills.fill import Claim, _log, _ms, call_model, hand_back
from autofill.fills.group import Answered, FillRef, claim_group
from autofill.fills.handed import (
    _count_the_crash,
    _hand_back_when_the_database_is_back,
    database_out,
    run_handed_fill,
)
from autofill.fills.recorder import Recorded, Recorder
from autofill.llm import Completer
from autofill.logs import get_logger

log = get_logger(__name__)


class Room:
    """A count that a group takes all at once (``n`` at a time, never part of it: two groups
    each holding part of what both need would wait on each other forever) and gives back a
    fill at a time, as each is recorded."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._changed = threading.Condition()
        # What each waiting group needs. Fills give their room back one at a time, and a
        # group waits for twenty: waking every waiting group at each fill's answer (to see
        # that it still does not fit) was 3 % of a bulk worker's CPU (py-spy, issue 21).
        self._wanted: list[int] = []

    @property
    def free(self) -> int:
        return self._free

    def take(self, n: int) -> int:
        """Wait until ``n`` are free (all of it, for a group larger than the room), take them."""
        n = min(n, self.size)
        with self._changed:
            if self._free < n:
                self._wanted.append(n)
                try:
                    self._changed.wait_for(lambda: self._free >= n)
                finally:
                    self._wanted.remove(n)
            self._free -= n
        return n

    def give(self, n: int) -> None:
        if n <= 0:
            return
        with self._changed:
            self._free += n
            # Only when some waiting group fits now; a larger one fits only when it does too.
            if self._wanted and self._free >= min(self._wanted):
                self._changed.notify_all()

    @contextmanager
    def taken(self, n: int) -> Iterator[Held]:
        """``n`` taken; what the block did not give back is given back when it ends."""
        held = Held(self, self.take(n))
        try:
            yield held
        finally:
            held.give(held.count)


class Held:
    """What one group holds of a ``Room``."""

    def __init__(self, room: Room, count: int) -> None:
        self.room, self.count = room, count
        # The group's call threads give back as they answer: the clamp and the count change
        # together (under the GIL the race is out of reach in practice, not by any guarantee).
        self._lock = threading.Lock()

    def give(self, n: int) -> None:
        # Never more than is held (a group larger than the room holds all of the room).
        with self._lock:
            n = max(0, min(n, self.count))
            self.count -= n
        self.room.give(n)


class Calls:
    """One per worker process: the threads that make bulk groups' model calls, the room for
    claimed fills, and the recorder of their answers (autofill.fills.recorder)."""

    def __init__(
        self,
        in_flight: int,
        group_size: int,
        record_linger_s: float = Settings.model_fields["bulk_record_linger_s"].default,
    ) -> None:
        self.in_flight = in_flight
        self.pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="autofill-call")
        self.claims = Room(in_flight + group_size)
        # A transaction records at most what the process has in flight: its locks stay few.
        self.recorder = Recorder(record_linger_s, most=max(group_size, in_flight))

    def close(self, *, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait)
        self.recorder.close(wait=wait)


def run_handed_group(
    store: Store,
    completer: Completer,
    settings: Settings,
    calls: Calls,
    refs: Sequence[FillRef],
    *,
    stopping: bool,
) -> list[str]:
    """Run the group's fills, or hand them back; each one's outcome name, in key order."""
    ordered = sorted(set(refs))
    if stopping:
        return [hand_back(store, *ref).value for ref in ordered]
    with calls.claims.taken(len(ordered)) as held:
        started = time.perf_counter()
        try:
            claims = store.run(lambda session: claim_group(session, settings, ordered))
        except DBAPIError as exc:
            if database_out(exc):
                log.warning("group claim lost the database; handing it back", error=str(exc))
                return [_hand_back_when_the_database_is_back(store, *ref) for ref in ordered]
            return _one_by_one(store, completer, settings, calls, ordered, exc)
        except Exception as exc:
            return _one_by_one(store, completer, settings, calls, ordered, exc)
        claim_ms = _ms(started, time.perf_counter())
        outcomes: dict[FillRef, str] = {}
        live: list[tuple[FillRef, Claim]] = []
        for ref, claimed in zip(ordered, claims, strict=True):
            if isinstance(claimed, Claim):
                live.append((ref, claimed))
            else:
                _log(claimed, *ref, claim_ms=claim_ms, group=len(ordered))
                outcomes[ref] = claimed.value
        held.give(held.count - len(live))  # room for another group's claims at once
        outcomes.update(_call_and_record(store, completer, settings, calls, live, claim_ms, held))
    return [outcomes[ref] for ref in ordered]


@dataclass(frozen=True)
class _Handed:
    """A call thread's part of one fill: when its answer came, and its record to come, or the
    exception the call raised instead."""

    answered_at: float
    record: Future[Recorded] | Exception


def _call_then_hand(
    store: Store,
    completer: Completer,
    settings: Settings,
    calls: Calls,
    held: Held,
    ref: FillRef,
    claimed: Claim,
) -> _Handed:
    """On a call thread: the model call, then its answer straight to the recorder. The task's
    thread only waits for each fill's record in turn; it used to wait for whichever calls had
    answered (``wait(FIRST_COMPLETED)`` in a loop), which installed a waiter on every pending
    call each time, twenty per answer in a group of twenty (3 % of a worker's CPU, issue 21)."""
    try:
        result = call_model(completer, claimed, ref[0], ref[1])
    except Exception as exc:  # the call raised: a bug or a library failing
        held.give(1)
        return _Handed(time.perf_counter(), exc)
    answered_at = time.perf_counter()
    held.give(1)  # answered: room for the next group's claims while this one records
    answered: Answered = (ref, claimed, result)
    return _Handed(answered_at, calls.recorder.record(store, settings, [answered])[0])


def _call_and_record(
    store: Store,
    completer: Completer,
    settings: Settings,
    calls: Calls,
    live: list[tuple[FillRef, Claim]],
    claim_ms: float,
    held: Held,
) -> dict[FillRef, str]:
    called_at = time.perf_counter()
    handing = [
        calls.pool.submit(_call_then_hand, store, completer, settings, calls, held, ref, claimed)
        for ref, claimed in live
    ]
    outcomes: dict[FillRef, str] = {}
    for (ref, claimed), future in zip(live, handing, strict=True):
        handed = future.result()
        if isinstance(handed.record, Exception):
            outcomes[ref] = _count_the_crash(store, settings, *ref, handed.record)
            continue
        try:
            outcome, recorded_at = handed.record.result()
        except Exception as exc:  # recording failed, and so did handing it back
            outcome, recorded_at = _count_the_crash(store, settings, *ref, exc), time.perf_counter()
        outcomes[ref] = outcome
        _log(
            outcome,
            *ref,
            lane=claimed.lane,
            claim_ms=claim_ms,
            call_ms=_ms(called_at, handed.answered_at),
            record_ms=_ms(handed.answered_at, recorded_at),
            group=len(live),
        )
    return outcomes


def _one_by_one(
    store: Store,
    completer: Completer,
    settings: Settings,
    calls: Calls,
    refs: list[FillRef],
    error: Exception,
) -> list[str]:
    """The group's claim failed as a whole: each fill alone, as a single fill runs, so the one
    that fails is counted and the others go ahead."""
    log.warning("group claim failed; running its fills one by one", error=str(error))
    futures = [
        calls.pool.submit(run_handed_fill, store, completer, settings, *ref, stopping=False)
        for ref in refs
    ]
    return [future.result() for future in futures]
