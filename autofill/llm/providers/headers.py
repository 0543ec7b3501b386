"""How long a provider tells us to wait, from every header it sends for that.

- ``retry-after-ms`` (OpenAI) and ``retry-after`` (both; seconds, or an HTTP date: RFC 9110
  §10.2.3), the SDKs' own first choice (openai/_base_client.py ``_parse_retry_after_header``).
- OpenAI's ``x-ratelimit-remaining-{requests,tokens}`` and ``x-ratelimit-reset-{requests,tokens}``,
  the reset as a duration such as ``1s``, ``6m0s`` or ``20ms``
  (https://platform.openai.com/docs/guides/rate-limits, "Rate limits in headers").
- Anthropic's ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{remaining,
  reset}``, the reset an RFC 3339 time (https://platform.claude.com/docs/en/api/rate-limits,
  "Response headers").

A 429 that carries no ``retry-after`` still names when its limit resets: that is when to try
again, not after a generic backoff.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from autofill import clock

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
OPENAI_KINDS = ("requests", "tokens")
ANTHROPIC_KINDS = ("requests", "tokens", "input-tokens", "output-tokens")


def retry_after(headers: dict[str, str]) -> float | None:
    """Seconds the provider asks us to wait before the next call, if it says."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(float(value) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is not None:
        try:
            return max(float(value), 0.0)
        except ValueError:
            try:
                return max(parsedate_to_datetime(value).timestamp() - clock.current().time(), 0.0)
            except (TypeError, ValueError):
                pass
    return None


def resets(headers: dict[str, str], *, exhausted_only: bool) -> list[float]:
    """Seconds until each limit named in the headers resets (only those at zero, if asked)."""
    found: list[float] = []
    for kind in OPENAI_KINDS:
        reset = headers.get(f"x-ratelimit-reset-{kind}")
        if reset is not None and (
            not exhausted_only or headers.get(f"x-ratelimit-remaining-{kind}") == "0"
        ):
            found.append(duration(reset))
    for kind in ANTHROPIC_KINDS:
        reset = headers.get(f"anthropic-ratelimit-{kind}-reset")
        if reset is not None and (
            not exhausted_only or headers.get(f"anthropic-ratelimit-{kind}-remaining") == "0"
        ):
            found.append(until(reset))
    return found


def wait_for(headers: dict[str, str], status: int | None) -> float | None:
    """How long to wait after this answer: ``retry-after`` when given; else, on a 429, the
    reset of the limits at zero (or of every limit named, when none says which ran out)."""
    explicit = retry_after(headers)
    if explicit is not None:
        return explicit
    if status == 429:
        exhausted = resets(headers, exhausted_only=True) or resets(headers, exhausted_only=False)
        return max(exhausted) if exhausted else None
    return None


def duration(text: str) -> float:
    """OpenAI's reset format: "1s", "6m0s", "120ms", "1h2m3.5s"."""
    return sum(float(number) * _UNITS[unit] for number, unit in _DURATION.findall(text))


def until(stamp: str) -> float:
    """Seconds from now until an RFC 3339 time (0 if it is past or unreadable)."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return max(moment.timestamp() - clock.current().time(), 0.0)
