"""The simulator's own rate limits (requests and tokens per minute) and the headers that report
them, as each provider names and formats them.

OpenAI (platform.openai.com/docs/guides/rate-limits, "Rate limits in headers"):
``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``, resets as durations ("1s", "6m0s",
"20ms"). A request's tokens count as its prompt plus its output limit (same page: "calculated
as the maximum of max_tokens and the estimated number of tokens"). Each answer carries
``x-request-id``.

Anthropic (platform.claude.com/docs/en/api/rate-limits, "Response headers"):
``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}``,
resets as RFC 3339 times; ``retry-after`` on a 429. Each answer carries ``request-id``.

With no limit configured the headers still go out, with limits far above any test's traffic.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta

UNLIMITED_RPM = 30_000
UNLIMITED_TPM = 150_000_000
WINDOW_S = 60.0


class Window:
    """Requests and tokens admitted in the last minute."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: deque[float] = deque()
        self.tokens: deque[tuple[float, int]] = deque()

    def _expire(self, now: float) -> None:
        while self.requests and self.requests[0] <= now - WINDOW_S:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= now - WINDOW_S:
            self.tokens.popleft()

    def admit(
        self, now: float, tokens: int, rpm: int | None, tpm: int | None
    ) -> tuple[str, int, float] | None:
        """None if the request fits, else (which limit, its value, seconds until it would)."""
        with self.lock:
            self._expire(now)
            if rpm is not None and len(self.requests) >= rpm:
                return "requests", rpm, max(self.requests[0] + WINDOW_S - now, 0.001)
            used = sum(n for _, n in self.tokens)
            if tpm is not None and used + tokens > tpm and self.tokens:
                return "tokens", tpm, max(self.tokens[0][0] + WINDOW_S - now, 0.001)
            self.requests.append(now)
            self.tokens.append((now, tokens))
            return None

    def state(self, now: float) -> tuple[int, float, int, float]:
        """(requests used, seconds to their reset, tokens used, seconds to their reset)."""
        with self.lock:
            self._expire(now)
            request_reset = self.requests[0] + WINDOW_S - now if self.requests else 0.0
            token_reset = self.tokens[0][0] + WINDOW_S - now if self.tokens else 0.0
            return len(self.requests), request_reset, sum(n for _, n in self.tokens), token_reset


def request_id() -> str:
    return "req_sim" + uuid.uuid4().hex[:20]


def headers(
    protocol: str,
    window: Window,
    now: float,
    rpm: int | None,
    tpm: int | None,
    exhausted: str | None = None,
) -> dict[str, str]:
    """The rate-limit headers of an answer (``exhausted``: the limit a 429 ran into)."""
    used_requests, request_reset, used_tokens, token_reset = window.state(now)
    limits = {
        "requests": (rpm or UNLIMITED_RPM, used_requests, request_reset),
        "tokens": (tpm or UNLIMITED_TPM, used_tokens, token_reset),
    }
    out: dict[str, str] = {}
    for kind, (limit, used, reset) in limits.items():
        remaining = 0 if exhausted == kind else max(limit - used, 0)
        if protocol == "openai":
            out[f"x-ratelimit-limit-{kind}"] = str(limit)
            out[f"x-ratelimit-remaining-{kind}"] = str(remaining)
            out[f"x-ratelimit-reset-{kind}"] = _duration(reset)
        else:
            stamp = _stamp(now, reset)
            names = [kind] if kind == "requests" else ["tokens", "input-tokens", "output-tokens"]
            for name in names:
                out[f"anthropic-ratelimit-{name}-limit"] = str(limit)
                out[f"anthropic-ratelimit-{name}-remaining"] = str(remaining)
                out[f"anthropic-ratelimit-{name}-reset"] = stamp
    out["x-request-id" if protocol == "openai" else "request-id"] = request_id()
    return out


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.3f}s" if minutes else f"{rest:.3f}s"


def _stamp(now: float, reset: float) -> str:
    moment = datetime.fromtimestamp(now, UTC) + timedelta(seconds=reset)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
