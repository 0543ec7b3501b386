"""Vacuuming the tables a fill churns through, when PostgreSQL's autovacuum does not.

Every fill inserts, updates and deletes an outbox row, updates a cell, and writes an event that
is updated once more when stamped: dead row versions pile up at the pace of the fills. Left
there, the dispatcher's scan for due entries wades through them and every fill gets slower as a
run goes on (measured: bench/backfill.py on a server with ``autovacuum = off``, as on this
project's machines). Autovacuum normally clears them; where it is off or behind, the sweeper
vacuums a table by autovacuum's own default rule: dead rows over a fifth of the live ones (and
at least ``MIN_DEAD``, so small tables are left alone).
"""

from __future__ import annotations

import structlog
from sqlalchemy import text

from autofill.db.session import Store

log = structlog.get_logger(__name__)

CHURNING = ("fill_jobs", "cell_events", "cells", "fill_ledger")
MIN_DEAD = 2000

_DEAD = text(
    "SELECT relname FROM pg_stat_user_tables "
    "WHERE relname = ANY(:tables) AND n_dead_tup >= :min_dead AND n_dead_tup > 0.2 * n_live_tup"
)


def vacuum_churned(store: Store, min_dead: int = MIN_DEAD) -> list[str]:
    """VACUUM the churning tables that need it; returns their names. PostgreSQL only."""
    if store.dialect != "postgresql":
        return []
    # VACUUM cannot run inside a transaction block: a connection of its own, autocommit.
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        names = [
            str(name)
            for name in connection.execute(
                _DEAD, {"tables": list(CHURNING), "min_dead": min_dead}
            ).scalars()
        ]
        for name in names:
            # Names come from the fixed list above, never from input.
            connection.execute(text(f'VACUUM (ANALYZE) "{name}"'))
    if names:
        log.info("vacuumed", tables=names)
    return names
