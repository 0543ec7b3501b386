"""What a run cost the services, read from their own counters: PostgreSQL's statements
(pg_stat_statements), transactions and WAL bytes, Redis's commands and network bytes. A
snapshot before and one after; their difference divided by the fills gives the per-fill model
that SCALING.md is built on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass
class Snapshot:
    statements: dict[str, int] = field(default_factory=dict)  # query text → calls
    statement_ms: float = 0.0
    transactions: int = 0
    wal_lsn: str = "0/0"
    redis_commands: dict[str, int] = field(default_factory=dict)
    redis_bytes_in: int = 0
    redis_bytes_out: int = 0


def prepare(database_url: str, redis_url: str) -> None:
    """pg_stat_statements on (the server must preload it), and every counter back to zero."""
    with psycopg.connect(_libpq(database_url), autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        connection.execute("SELECT pg_stat_statements_reset()")
    redis.Redis.from_url(redis_url).config_resetstat()


def snapshot(database_url: str, redis_url: str) -> Snapshot:
    found = Snapshot()
    with psycopg.connect(_libpq(database_url), autocommit=True) as connection:
        for query, calls, ms in connection.execute(
            "SELECT query, calls, total_exec_time FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ):
            found.statements[query] = found.statements.get(query, 0) + int(calls)
            found.statement_ms += float(ms)
        row = connection.execute(
            "SELECT xact_commit + xact_rollback, pg_current_wal_lsn()::text "
            "FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        assert row is not None
        found.transactions, found.wal_lsn = int(row[0]), str(row[1])
    client = redis.Redis.from_url(redis_url)
    commands: dict[str, Any] = client.info("commandstats")
    found.redis_commands = {
        name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in commands.items()
    }
    stats: dict[str, Any] = client.info("stats")
    found.redis_bytes_in = int(stats["total_net_input_bytes"])
    found.redis_bytes_out = int(stats["total_net_output_bytes"])
    return found


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def per_fill(before: Snapshot, after: Snapshot, fills: int, top: int = 10) -> dict[str, Any]:
    """The difference of two snapshots per fill. The counters see every client (the
    benchmark's own reads of progress too, which are named in the top statements)."""
    calls = {q: n - before.statements.get(q, 0) for q, n in after.statements.items()}
    commands = {c: n - before.redis_commands.get(c, 0) for c, n in after.redis_commands.items()}
    busiest = sorted(calls.items(), key=lambda item: -item[1])[:top]
    return {
        "pg_statements": round(sum(calls.values()) / fills, 2),
        "pg_statement_ms": round((after.statement_ms - before.statement_ms) / fills, 3),
        "pg_transactions": round((after.transactions - before.transactions) / fills, 2),
        "pg_wal_bytes": round((_lsn(after.wal_lsn) - _lsn(before.wal_lsn)) / fills),
        "pg_top_statements": [
            {"calls_per_fill": round(n / fills, 3), "query": " ".join(q.split())[:160]}
            for q, n in busiest
        ],
        "redis_commands": round(sum(commands.values()) / fills, 2),
        "redis_commands_by_name": {
            c: round(n / fills, 3)
            for c, n in sorted(commands.items(), key=lambda item: -item[1])
            if n
        },
        "redis_bytes_in": round((after.redis_bytes_in - before.redis_bytes_in) / fills),
        "redis_bytes_out": round((after.redis_bytes_out - before.redis_bytes_out) / fills),
    }
