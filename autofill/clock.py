"""The time the service runs on: one seam for debounce, leases, budgets' months and retries.

Everything that asks what time it is, or waits, asks the current clock (``now``, ``time``,
``monotonic``, ``sleep``). A process runs on the system's; tests install a ``FakeClock``, whose
``sleep`` moves its time forward at once, so a test of a 20-second backoff or a debounce takes
no real time and says exactly what was waited.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, UTC, timezone-aware."""
        ...

    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back: for durations and deadlines."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """A clock that stands still until told, and whose ``sleep`` returns at once having moved
    time forward. ``slept`` lists every wait asked of it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._monotonic = 1_000.0
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def time(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._monotonic += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(seconds, 0.0))


_current: Clock = SystemClock()


def current() -> Clock:
    return _current


def use(clock: Clock) -> Clock:
    """Make ``clock`` the process's clock; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


def now() -> datetime:
    return _current.now()
