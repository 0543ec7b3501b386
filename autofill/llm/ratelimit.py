"""Rate limits per provider endpoint and key, shared by every worker process through Redis.

Limits are configured per provider kind in ``AUTOFILL_RATE_LIMITS`` (JSON), e.g.
``{"openai": {"requests": "500/minute", "tokens": "200000/minute"}, "sim": {"requests":
"120/minute"}}`` and enforced with the ``limits`` library's moving window (exact: never more than
N in any window): on Redis when ``AUTOFILL_REDIS_URL`` is set, in PostgreSQL when the processes
share no Redis (RabbitMQ as the broker: autofill.db.limits, chosen by autofill.fills.limits),
and in memory otherwise (embedded mode, one process).

A share of each limit (``AUTOFILL_INTERACTIVE_RATE_SHARE``, 0.2) is kept for interactive calls
(a person's edit): a bulk call must also fit a window of ``1 − share`` of the limit, counted
apart, so however hard a backfill presses on the provider's limit, an edit finds room in the
same window.

Providers also say how much room is left (``x-ratelimit-*``, ``anthropic-ratelimit-*``) and
answer 429 with ``retry-after``; either pauses every process using that key until the reset,
so a limit set lower elsewhere (another app sharing the key) is respected too.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import StorageTypes, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from autofill import clock as clock_module
from autofill.llm.pauses import MemoryPauses, Pauses, RedisPauses
from autofill.llm.providers.headers import resets, wait_for


@dataclass(frozen=True)
class LimitSpec:
    requests: RateLimitItem | None = None
    tokens: RateLimitItem | None = None


def parse_limits(raw: str | None) -> dict[str, LimitSpec]:
    """``AUTOFILL_RATE_LIMITS`` → {provider kind: LimitSpec}; ValueError names a bad entry."""
    if not raw:
        return {}
    specs = {}
    for kind, entry in json.loads(raw).items():
        try:
            specs[kind] = LimitSpec(
                requests=parse(entry["requests"]) if entry.get("requests") else None,
                tokens=parse(entry["tokens"]) if entry.get("tokens") else None,
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"AUTOFILL_RATE_LIMITS[{kind!r}]: {exc}") from None
    return specs


# How stale a process's view of a provider's pause may be. Reading the shared store before every
# call was a Redis round trip per fill, 3.5 % of a bulk worker's CPU (python -m bench.backfill
# --profile, 2026-12-03); a pause another process learns reaches this one within this long,
# and the calls sent meanwhile meet the provider's 429 and wait as a pause says.
PAUSE_READ_EVERY_S = 0.25


class RateLimiter:
    def __init__(
        self,
        specs: dict[str, LimitSpec],
        redis_url: str | None = None,
        *,
        stores: tuple[StorageTypes, Pauses] | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        interactive_share: float = 0.0,
    ) -> None:
        """Shared through Redis (``redis_url``) or the ``stores`` handed in (a window storage
        and its pauses: PostgreSQL's, from autofill.fills.limits), else kept in this process's
        memory."""
        self.specs = specs
        self.interactive_share = interactive_share
        storage: StorageTypes
        self.pauses: Pauses
        if redis_url:
            storage, self.pauses = storage_from_string(redis_url), RedisPauses(redis_url)
        elif stores is not None:
            storage, self.pauses = stores
        else:
            storage, self.pauses = storage_from_string("memory://"), MemoryPauses()
        self.window = MovingWindowRateLimiter(storage)
        # Each key's pause as last read from the shared store (monotonic read time, until):
        # read at most every PAUSE_READ_EVERY_S per process, not once per call.
        self._pauses_seen: dict[str, tuple[float, float]] = {}
        # The service's clock unless told otherwise (autofill.clock), read at each use.
        self.clock = clock or (lambda: clock_module.current().time())
        self.sleep = sleep or (lambda seconds: clock_module.current().sleep(seconds))

    def counts_tokens(self, limit_key: str) -> bool:
        """Whether this key has a token budget (so callers need to count their prompt)."""
        spec = self.specs.get(limit_key.split(":", 1)[0])
        return spec is not None and spec.tokens is not None

    def acquire(
        self,
        limit_key: str,
        tokens: int = 0,
        deadline: float | None = None,
        lane: str = "interactive",
    ) -> float:
        """Wait until one request (and ``tokens`` tokens) fit; return the seconds waited.
        Raises TimeoutError if that would pass ``deadline`` (epoch seconds). A ``bulk`` call
        must also fit the bulk share of the limit."""
        spec = self.specs.get(limit_key.split(":", 1)[0], LimitSpec())
        if lane == "bulk" and self.interactive_share > 0:
            self._acquire(self._bulk_share(spec), f"{limit_key}:bulk", tokens, deadline, limit_key)
        return self._acquire(spec, limit_key, tokens, deadline, limit_key)

    def _bulk_share(self, spec: LimitSpec) -> LimitSpec:
        def scaled(item: RateLimitItem | None) -> RateLimitItem | None:
            if item is None:
                return None
            amount = max(int(item.amount * (1 - self.interactive_share)), 1)
            return type(item)(amount, item.multiples)

        return LimitSpec(requests=scaled(spec.requests), tokens=scaled(spec.tokens))

    def _acquire(
        self, spec: LimitSpec, limit_key: str, tokens: int, deadline: float | None, pause_key: str
    ) -> float:
        waited = 0.0
        while True:
            pause = self._pause_left(pause_key)
            if pause > 0:  # a provider said to wait: the service's clock keeps that time
                waited += self._wait(pause, pause_key, deadline, self.sleep)
                continue
            window = self._try_take(spec, limit_key, tokens)
            if window <= 0:
                return waited
            # The window is the limits library's, which keeps the system's time, so the wait
            # for it to move is in that time too.
            waited += self._wait(window, limit_key, deadline, time.sleep)

    def _wait(
        self, seconds: float, key: str, deadline: float | None, sleep: Callable[[float], None]
    ) -> float:
        seconds += random.uniform(0, 0.05)  # spread the wake-ups of many waiters
        if deadline is not None and self.clock() + seconds > deadline:
            raise TimeoutError(f"rate limit for {key} leaves no room before the deadline")
        sleep(seconds)
        return seconds

    def _try_take(self, spec: LimitSpec, key: str, tokens: int) -> float:
        # Tokens first: a request slot taken while the token budget is full would be wasted.
        if spec.tokens is not None and tokens > 0:
            cost = min(tokens, spec.tokens.amount)
            if not self.window.hit(spec.tokens, key, "tokens", cost=cost):
                return self._until_reset(spec.tokens, key, "tokens")
        if spec.requests is not None and not self.window.hit(spec.requests, key, "requests"):
            return self._until_reset(spec.requests, key, "requests")
        return 0.0

    def _until_reset(self, item: RateLimitItem, key: str, kind: str) -> float:
        stats = self.window.get_window_stats(item, key, kind)
        return max(stats.reset_time - time.time(), 0.01)  # the library's time, as above

    def observe(self, limit_key: str, headers: dict[str, str], status: int | None = None) -> None:
        """Learn from a provider's answer: pause everyone on this key when it says so."""
        pause = max(resets(headers, exhausted_only=True), default=0.0)
        if status == 429:
            pause = max(pause, wait_for(headers, status) or 1.0)
        if pause > 0:
            self._pause(limit_key, self.clock() + pause)

    def _pause(self, key: str, until: float) -> None:
        self.pauses.pause(key, until, until - self.clock())
        seen = self._pauses_seen.get(key, (time.monotonic(), 0.0))
        self._pauses_seen[key] = (seen[0], max(seen[1], until))  # this process knows at once

    def _pause_left(self, key: str) -> float:
        now = time.monotonic()
        seen = self._pauses_seen.get(key)
        if seen is None or now - seen[0] >= PAUSE_READ_EVERY_S:
            # A dict's item assignment is atomic: threads racing here each read and store.
            seen = (now, self.pauses.until(key))
            self._pauses_seen[key] = seen
        return seen[1] - self.clock()
