"""Until when calls with a key wait, because a provider said so (429 with ``retry-after``, or
its rate-limit headers at zero): one pause holds every process that uses the key.

Kept in Redis when the processes share one, in this process's memory in embedded mode; the
PostgreSQL store for deployments without Redis is the storage layer's (autofill.db.limits) and
is handed in by autofill.fills.limits.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Pauses(Protocol):
    """Until when calls with a key wait, as a provider said; times on the caller's clock."""

    def pause(self, key: str, until: float, seconds: float) -> None: ...

    def until(self, key: str) -> float: ...


class MemoryPauses:
    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def pause(self, key: str, until: float, seconds: float) -> None:
        with self._lock:
            self._until[key] = max(self._until.get(key, 0.0), until)

    def until(self, key: str) -> float:
        with self._lock:
            return self._until.get(key, 0.0)


class RedisPauses:
    def __init__(self, redis_url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url)

    def pause(self, key: str, until: float, seconds: float) -> None:
        name = f"autofill:ratelimit:pause:{key}"
        current = self.client.get(name)
        if current is None or float(current) < until:
            self.client.set(name, until, px=max(int(seconds * 1000), 1))

    def until(self, key: str) -> float:
        value = self.client.get(f"autofill:ratelimit:pause:{key}")
        return float(value) if value is not None else 0.0
