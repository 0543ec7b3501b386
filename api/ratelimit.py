"""Per-token request limits on the API: one runaway script cannot starve the others.

Each API token gets ``AUTOFILL_API_RATE_LIMIT`` requests (``limits`` syntax, e.g.
``1200/minute``; empty turns it off) in any moving window, counted in Redis when
``AUTOFILL_REDIS_URL`` is set, so every API process shares the count, and in memory otherwise
(embedded mode). Over the limit: 429 ``rate_limited`` with ``Retry-After``. Every
authenticated answer says where the caller stands (``RateLimit-Limit``, ``-Remaining``,
``-Reset``).

If the counter's store is unreachable the request goes through, logged: a Redis outage must
not take the API down with it (the limit protects the service; failing closed would make the
outage worse).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import redis
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import StorageTypes, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.exc import SQLAlchemyError

from autofill.db import DatabaseWindowStorage
from autofill.logs import get_logger

log = get_logger(__name__)

# A slow Redis must not hold requests: the check gives up quickly and lets them through.
_REDIS_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class Quota:
    allowed: bool
    limit: int
    remaining: int
    reset_in_s: int  # until the window has room again

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_in_s),
        }


def parse_limit(spec: str | None) -> RateLimitItem | None:
    """``"1200/minute"`` → the limit; empty → None (off). ValueError on a bad spec."""
    if not spec or not spec.strip():
        return None
    return parse(spec)


class ApiRateLimiter:
    def __init__(
        self, spec: str | None, redis_url: str | None, database_url: str | None = None
    ) -> None:
        """Counted in Redis (``redis_url``), the database (``database_url``: a broker other
        than Redis and no Redis, autofill.db.limits), or this process's memory."""
        self.item = parse_limit(spec)
        storage: StorageTypes
        if redis_url:
            storage = storage_from_string(
                redis_url,
                socket_timeout=_REDIS_TIMEOUT_S,
                socket_connect_timeout=_REDIS_TIMEOUT_S,
            )
        elif database_url and self.item is not None:
            storage = DatabaseWindowStorage(database_url)
        else:
            storage = storage_from_string("memory://")
        self.window = MovingWindowRateLimiter(storage)

    def check(self, key: str) -> Quota | None:
        """Count one request for ``key``; None when limits are off or cannot be counted."""
        if self.item is None:
            return None
        try:
            allowed = self.window.hit(self.item, "api", key)
            stats = self.window.get_window_stats(self.item, "api", key)
        except (redis.RedisError, StorageError, SQLAlchemyError, OSError) as exc:
            log.warning("api_rate_limit_unavailable", error=str(exc))
            return None
        reset_in = max(1, math.ceil(stats.reset_time - time.time()))
        return Quota(allowed, self.item.amount, max(0, stats.remaining), reset_in)
