"""Retrying a provider call: backoff with jitter, the provider's ``retry-after`` when it gives
one, never for a failure that cannot improve (400/401/403/404), and a bounded total time.

A provider's ``retry-after`` longer than ``max_wait_s`` is not slept here: the error goes up
with ``defer_s`` set, and the fill keeps the wait as its outbox entry's due time
(autofill.fills.outbox.defer), so no worker thread sleeps through "come back in a minute"."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from autofill import clock
from autofill.llm.errors import ProviderError

T = TypeVar("T")
_backoff = wait_exponential_jitter(multiplier=0.5, max=20.0, jitter=0.5)


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, ProviderError) and error.retry_after is not None:
        return min(error.retry_after, 60.0)
    return float(_backoff(state))


def _retryable(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and error.retryable


class _OutOfTime(stop_base):
    """Stop when the wait before the next attempt would end past ``seconds`` on the given
    clock: sleeping through a 60-second retry-after with 10 seconds left only to give up
    helps no one. (tenacity's ``stop_before_delay`` reads the system's clock, which a test's
    fake clock does not move.)"""

    def __init__(self, seconds: float, monotonic: Callable[[], float]) -> None:
        self.seconds, self.monotonic = seconds, monotonic
        self.started = monotonic()

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0.0
        return self.monotonic() - self.started + upcoming >= self.seconds


class _TooLongAWait(stop_base):
    """Stop when the provider asks for a wait longer than a fill should hold its worker;
    remember it. (Our own backoff stays in the fill: it is short, capped, and a failure that
    outlasts it is reported with the provider's message.)"""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.asked: float | None = None

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if not isinstance(error, ProviderError) or error.retry_after is None:
            return False
        upcoming = retry_state.upcoming_sleep or 0.0
        if self.seconds is not None and upcoming > self.seconds:
            self.asked = upcoming
            return True
        return False


def call_with_retries(
    call: Callable[[float], T],
    *,
    max_attempts: int = 6,
    total_seconds: float = 120.0,
    per_call_timeout: float = 60.0,
    max_wait_s: float | None = None,
    sleep: Callable[[float], None] | None = None,
    monotonic: Callable[[], float] | None = None,
) -> tuple[T, int]:
    """Run ``call(timeout)`` until it succeeds, fails for good, or time or attempts run out.
    Returns its result and the number of calls made. Time is the service's clock's (waits
    with its ``sleep``, the bound on its ``monotonic``), so a test waits no real time.
    A retryable failure whose next wait exceeds ``max_wait_s`` is raised at once with
    ``defer_s``: the caller waits elsewhere."""
    out_of_time = _OutOfTime(total_seconds, monotonic or (lambda: clock.current().monotonic()))
    too_long = _TooLongAWait(max_wait_s)
    retrying = Retrying(
        retry=retry_if_exception(_retryable),
        wait=_wait,
        # The long wait is looked at first: deferring beats giving up for lack of time.
        stop=stop_any(too_long, stop_after_attempt(max_attempts), out_of_time),
        reraise=True,
        sleep=sleep or (lambda seconds: clock.current().sleep(seconds)),
    )
    calls = 0

    def once() -> T:
        nonlocal calls
        calls += 1
        return call(per_call_timeout)

    try:
        return retrying(once), calls
    except ProviderError as exc:
        exc.calls = calls  # the usage records count every call that was made
        exc.defer_s = too_long.asked
        raise
