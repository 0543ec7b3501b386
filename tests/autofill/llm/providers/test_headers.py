"""How long to wait, from every header the providers send for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from autofill.llm.providers.headers import duration, resets, retry_after, wait_for


def _stamp(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def test_retry_after_in_every_form() -> None:
    assert retry_after({"retry-after-ms": "1500"}) == 1.5
    assert retry_after({"retry-after": "7"}) == 7.0
    date = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after({"retry-after": date}) or 0) <= 30
    assert retry_after({}) is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5)]
)
def test_openai_durations(text: str, seconds: float) -> None:
    assert duration(text) == pytest.approx(seconds)


def test_a_429_without_retry_after_waits_for_the_exhausted_limit() -> None:
    """The defect: retried after ~1 s where the headers said 20 s."""
    headers = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "20s",
        "x-ratelimit-remaining-tokens": "90000",
        "x-ratelimit-reset-tokens": "200ms",
    }
    assert wait_for(headers, 429) == 20.0
    assert wait_for(headers, 200) is None  # not an error: the limiter paces, nobody waits


def test_anthropic_resets_of_every_kind() -> None:
    headers = {
        "anthropic-ratelimit-requests-remaining": "10",
        "anthropic-ratelimit-requests-reset": _stamp(2),
        "anthropic-ratelimit-output-tokens-remaining": "0",
        "anthropic-ratelimit-output-tokens-reset": _stamp(40),
    }
    assert 35 < (wait_for(headers, 429) or 0) <= 40
    assert len(resets(headers, exhausted_only=True)) == 1
    # None at zero, yet a 429: the latest reset named.
    headers["anthropic-ratelimit-output-tokens-remaining"] = "5"
    assert 35 < (wait_for(headers, 429) or 0) <= 40


def test_retry_after_wins_over_resets() -> None:
    headers = {
        "retry-after": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "50s",
    }
    assert wait_for(headers, 429) == 3.0
