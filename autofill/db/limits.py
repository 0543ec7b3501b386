"""Rate-limit windows and providers' pauses in PostgreSQL, for processes that share no Redis.

The limiters (autofill.llm.ratelimit for provider calls, api.ratelimit for API requests) keep
their counts in one of three stores, so every process counts the same:

- **Redis** when ``AUTOFILL_REDIS_URL`` is set: the limits library's own Redis storage (one
  script call per hit) and a key per pause.
- **PostgreSQL**, here, when the processes share work through a broker that is not Redis
  (RabbitMQ) and no Redis is configured (issue 23): the database every process already has. A
  hit is one short transaction that takes an advisory lock on its key, drops the key's expired
  entries, sums the live ones and adds its own if they fit: exact, like the Redis window, at
  the cost of a round trip and a few rows per call (``rate_limit_entries``,
  ``rate_limit_pauses``; migration 0011). Times are the database's clock, so hosts with skewed
  clocks count alike.
- **Memory** in embedded mode (one process, nothing to share).

Redis stays the faster store: with RabbitMQ as the broker, setting ``AUTOFILL_REDIS_URL`` too
moves the limits there and takes these statements off the database. The choice is made in one
place, autofill.fills.limits.
"""

from __future__ import annotations

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError

from autofill.db.models import RateLimitEntry, RateLimitPause
from autofill.db.session import make_engine

_NOW = text("extract(epoch from clock_timestamp())")


def _engine(url: str) -> Engine:
    # A small pool of its own: a limiter's hit must not wait behind a fill's transaction.
    return make_engine(url, pool_size=2, max_overflow=4)


class DatabaseWindowStorage(Storage, MovingWindowSupport):
    """A moving-window storage for the ``limits`` library, in PostgreSQL."""

    STORAGE_SCHEME = ["autofill+postgresql"]  # noqa: RUF012 - the base class declares it so

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.engine = _engine(database_url)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self.engine.begin() as connection:
            # One writer per key at a time: the sum and the insert must see the same window.
            connection.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
            now = float(connection.execute(select(_NOW)).scalar_one())
            connection.execute(
                delete(RateLimitEntry).where(
                    RateLimitEntry.key == key, RateLimitEntry.at <= now - expiry
                )
            )
            used = connection.execute(
                select(func.coalesce(func.sum(RateLimitEntry.amount), 0)).where(
                    RateLimitEntry.key == key
                )
            ).scalar_one()
            if int(used) + amount > limit:
                return False
            connection.execute(insert(RateLimitEntry).values(key=key, at=now, amount=amount))
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(when the window's oldest entry was taken, how much the window holds)."""
        with self.engine.connect() as connection:
            now = float(connection.execute(select(_NOW)).scalar_one())
            oldest, used = connection.execute(
                select(
                    func.min(RateLimitEntry.at), func.coalesce(func.sum(RateLimitEntry.amount), 0)
                ).where(RateLimitEntry.key == key, RateLimitEntry.at > now - expiry)
            ).one()
        return (float(oldest) if oldest is not None else now), int(used)

    # The fixed-window part of the storage interface, which the moving window does not use;
    # kept true to its contract on the same rows.
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self.engine.begin() as connection:
            connection.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
            now = float(connection.execute(select(_NOW)).scalar_one())
            connection.execute(insert(RateLimitEntry).values(key=key, at=now, amount=amount))
            total = connection.execute(
                select(func.sum(RateLimitEntry.amount)).where(
                    RateLimitEntry.key == key, RateLimitEntry.at > now - expiry
                )
            ).scalar_one()
        return int(total)

    def get(self, key: str) -> int:
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.coalesce(func.sum(RateLimitEntry.amount), 0)).where(
                    RateLimitEntry.key == key
                )
            ).scalar_one()
        return int(total)

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as connection:
            latest = connection.execute(
                select(func.max(RateLimitEntry.at)).where(RateLimitEntry.key == key)
            ).scalar_one()
            now = float(connection.execute(select(_NOW)).scalar_one())
        return float(latest) if latest is not None else now

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(RateLimitEntry)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(RateLimitEntry).where(RateLimitEntry.key == key))


class DatabasePauses:
    """Providers' pauses (autofill.llm.pauses.Pauses) in PostgreSQL, one row per key."""

    def __init__(self, database_url: str) -> None:
        self.engine = _engine(database_url)

    def pause(self, key: str, until: float, seconds: float) -> None:
        statement = pg_insert(RateLimitPause).values(key=key, until=until)
        statement = statement.on_conflict_do_update(
            index_elements=[RateLimitPause.key],
            set_={"until": func.greatest(RateLimitPause.until, statement.excluded.until)},
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def until(self, key: str) -> float:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(RateLimitPause.until).where(RateLimitPause.key == key)
            ).scalar_one_or_none()
        return float(value) if value is not None else 0.0
