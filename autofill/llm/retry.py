"""Retrying a provider call: backoff with jitter, the provider's ``retry-after`` when it gives
one, never for a failure that cannot improve (400/401/403/404), and a bounded total time."""

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


def call_with_retries(
    call: Callable[[float], T],
    *,
    max_attempts: int = 6,
    total_seconds: float = 120.0,
    per_call_timeout: float = 60.0,
    sleep: Callable[[float], None] | None = None,
    monotonic: Callable[[], float] | None = None,
) -> tuple[T, int]:
    """Run ``call(timeout)`` until it succeeds, fails for good, or time or attempts run out.
    Returns its result and the number of calls made. Time is the service's clock's (waits
    with its ``sleep``, the bound on its ``monotonic``), so a test waits no real time."""
    out_of_time = _OutOfTime(total_seconds, monotonic or (lambda: clock.current().monotonic()))
    retrying = Retrying(
        retry=retry_if_exception(_retryable),
        wait=_wait,
        stop=stop_any(stop_after_attempt(max_attempts), out_of_time),
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
        raise
