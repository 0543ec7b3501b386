"""The clock seam: the fake clock moves only when told, and what waits on the process's clock
(retries) waits on the fake one in tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from autofill import clock
from autofill.clock import FakeClock, SystemClock
from autofill.db.types import utcnow
from autofill.llm.errors import ProviderError
from autofill.llm.retry import call_with_retries


def test_a_fake_clock_moves_when_told(fake_clock: FakeClock) -> None:
    start, mono = fake_clock.now(), fake_clock.monotonic()
    assert utcnow() == start  # the database's timestamps read the process's clock
    fake_clock.sleep(2.5)
    fake_clock.advance(0.5)
    assert fake_clock.now() - start == timedelta(seconds=3)
    assert fake_clock.monotonic() - mono == 3.0 and fake_clock.slept == [2.5]


def test_retries_wait_on_the_process_clock(fake_clock: FakeClock) -> None:
    calls = []

    def flaky(_timeout: float) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ProviderError("busy", status=503, retryable=True, retry_after=7.0)
        return "ok"

    assert call_with_retries(flaky) == ("ok", 3)
    assert fake_clock.slept == [7.0, 7.0]  # the provider's retry-after, on no real time


def test_retries_stop_at_the_time_bound(fake_clock: FakeClock) -> None:
    def busy(_timeout: float) -> str:
        raise ProviderError("busy", status=503, retryable=True, retry_after=30.0)

    with pytest.raises(ProviderError) as info:
        call_with_retries(busy, total_seconds=45.0, max_attempts=10)
    # A third attempt would start at 60 s: it is not waited for.
    assert info.value.calls == 2 and fake_clock.slept == [30.0]


@pytest.mark.real_time
def test_the_system_clock_is_the_default() -> None:
    assert isinstance(clock.current(), SystemClock)


def test_a_wait_too_long_for_a_fill_is_handed_up_not_slept(fake_clock: FakeClock) -> None:
    calls = []

    def busy(_timeout: float) -> str:
        calls.append(1)
        raise ProviderError("busy", status=429, retryable=True, retry_after=30.0)

    with pytest.raises(ProviderError) as info:
        call_with_retries(busy, max_wait_s=5.0)
    # Not slept through: the caller keeps the wait as a due time (autofill.fills.outbox.defer).
    assert info.value.defer_s == 30.0 and fake_clock.slept == [] and len(calls) == 1


def test_a_short_wait_is_slept_within_the_fill(fake_clock: FakeClock) -> None:
    calls = []

    def once_busy(_timeout: float) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ProviderError("busy", status=429, retryable=True, retry_after=2.0)
        return "ok"

    assert call_with_retries(once_busy, max_wait_s=5.0) == ("ok", 2)
    assert fake_clock.slept == [2.0]


def test_our_own_backoff_stays_in_the_fill(fake_clock: FakeClock) -> None:
    def down(_timeout: float) -> str:
        raise ProviderError("down", status=500, retryable=True)

    with pytest.raises(ProviderError) as info:
        call_with_retries(down, max_wait_s=1.0, max_attempts=4)
    # No retry-after: the backoff's waits (past 1 s by the third) are slept, then it fails.
    assert info.value.defer_s is None and len(fake_clock.slept) == 3
