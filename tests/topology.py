"""Real services for the tests that run the whole topology (worker and browser tests): the
benchmarks' own helpers, with a missing server reported the tests' way (skip, or fail in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bench.services import RedisServer, free_port
from bench.services import scratch_postgres as _scratch_postgres
from tests.conftest import POSTGRES_ADMIN, unavailable

__all__ = ["RedisServer", "free_port", "scratch_postgres"]


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    try:
        psycopg.connect(POSTGRES_ADMIN, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    with _scratch_postgres(prefix) as url:
        yield url
