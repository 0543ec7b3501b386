"""Rate-limit windows and provider pauses in PostgreSQL, shared by processes that have no Redis
(RabbitMQ as the broker): exact under concurrency, expiring on the database's clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from autofill.config import Settings, use_settings
from autofill.db.limits import DatabasePauses, DatabaseWindowStorage
from autofill.db.migrate import upgrade
from autofill.fills.limits import shared_limiter
from autofill.llm.pauses import MemoryPauses, RedisPauses
from autofill.llm.ratelimit import LimitSpec, RateLimiter
from autofill.services.store import open_store
from tests.conftest import fresh_postgres

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    with fresh_postgres("autofill_limits") as url:
        store = open_store(url)
        upgrade(store)
        store.dispose()
        yield url


def _stores(url: str) -> tuple[DatabaseWindowStorage, DatabasePauses]:
    return DatabaseWindowStorage(url), DatabasePauses(url)


def _limiter(url: str) -> MovingWindowRateLimiter:
    """One process's limiter; two of them are two processes."""
    return MovingWindowRateLimiter(DatabaseWindowStorage(url))


def test_two_processes_share_one_moving_window(pg: str) -> None:
    item = parse("5/minute")
    one, two = _limiter(pg), _limiter(pg)
    assert [one.hit(item, "shared") for _ in range(3)] == [True] * 3
    assert [two.hit(item, "shared") for _ in range(3)] == [True, True, False]
    assert one.hit(item, "shared") is False
    stats = two.get_window_stats(item, "shared")
    assert stats.remaining == 0
    # The window reopens a minute after its oldest entry.
    assert 55 < stats.reset_time - time.time() <= 61
    assert one.hit(item, "another key") is True


def test_a_token_budget_counts_by_cost(pg: str) -> None:
    item = parse("1000/minute")
    limiter = _limiter(pg)
    assert limiter.hit(item, "tokens", cost=600)
    assert not limiter.hit(item, "tokens", cost=500)  # 1,100 would not fit
    assert limiter.hit(item, "tokens", cost=400)
    assert limiter.get_window_stats(item, "tokens").remaining == 0


def test_concurrent_hits_never_pass_the_limit(pg: str) -> None:
    item = parse("20/minute")
    limiters = [_limiter(pg) for _ in range(4)]
    granted: list[bool] = []
    lock = threading.Lock()

    def hammer(limiter: MovingWindowRateLimiter) -> None:
        for _ in range(15):
            result = limiter.hit(item, "contended")
            with lock:
                granted.append(result)

    threads = [threading.Thread(target=hammer, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 60 and granted.count(True) == 20


def test_entries_expire_with_their_window(pg: str) -> None:
    item = parse("2/second")
    limiter = _limiter(pg)
    assert limiter.hit(item, "brief") and limiter.hit(item, "brief")
    assert not limiter.hit(item, "brief")
    time.sleep(1.1)
    assert limiter.hit(item, "brief")


def test_pauses_keep_the_latest_end(pg: str) -> None:
    one, two = DatabasePauses(pg), DatabasePauses(pg)
    assert one.until("openai:key") == 0.0
    one.pause("openai:key", 1000.0, 10.0)
    two.pause("openai:key", 900.0, 5.0)  # an earlier end does not shorten it
    assert two.until("openai:key") == 1000.0
    two.pause("openai:key", 1200.0, 5.0)
    assert one.until("openai:key") == 1200.0


def test_a_providers_429_pauses_every_process(pg: str) -> None:
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    specs = {"openai": LimitSpec(requests=parse("100/minute"))}
    one = RateLimiter(specs, stores=_stores(pg), clock=lambda: now[0], sleep=sleep)
    two = RateLimiter(specs, stores=_stores(pg), clock=lambda: now[0], sleep=sleep)
    one.observe("openai:k429", {"retry-after": "7"}, status=429)
    waited = two.acquire("openai:k429")
    assert 7 <= waited < 7.1 and slept and 7 <= slept[0] < 7.1


def test_which_store_the_settings_choose(pg: str) -> None:
    # Redis set: Redis. A broker other than Redis, no Redis: the database. Embedded: memory.
    assert (
        Settings(database_url=pg, redis_url="redis://127.0.0.1:6379/0").limits_database_url()
        is None
    )
    assert (
        Settings(database_url=pg, broker_url=RABBITMQ, redis_url=None).limits_database_url() == pg
    )
    assert Settings(database_url=pg, redis_url=None, broker_url=None).limits_database_url() is None


@pytest.mark.parametrize(
    ("broker_url", "redis_url", "pauses"),
    [
        (RABBITMQ, None, DatabasePauses),
        (RABBITMQ, "redis://127.0.0.1:6379/0", RedisPauses),
        (None, None, MemoryPauses),
    ],
)
def test_the_process_limiter_sits_on_the_store_the_settings_choose(
    pg: str, broker_url: str | None, redis_url: str | None, pauses: type
) -> None:
    previous = use_settings(Settings(database_url=pg, broker_url=broker_url, redis_url=redis_url))
    shared_limiter.cache_clear()
    try:
        assert isinstance(shared_limiter().pauses, pauses)
    finally:
        shared_limiter.cache_clear()
        use_settings(previous)
