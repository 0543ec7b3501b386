"""The sweeper's chores, run every ``sweep_interval_s`` by the dispatcher: what a dead worker
or a lost message left in the outbox goes back, blocked and (in a new month) parked entries
are looked at again, old events are pruned, the fill ledger is folded into its rows, and the
tables fills churn through are vacuumed when PostgreSQL's autovacuum does not.

Vacuuming:

Every fill inserts, updates and deletes an outbox row, updates a cell, and writes an event that
is updated once more when stamped: dead row versions pile up at the pace of the fills. Left
there, the dispatcher's scan for due entries wades through them and every fill gets slower as a
run goes on (measured: bench/backfill.py on a server with ``autovacuum = off``, as on this
project's machines). Autovacuum normally clears them; where it is off or behind, the sweeper
vacuums a table by autovacuum's own default rule: dead rows over a fifth of the live ones (and
at least ``MIN_DEAD``, so small tables are left alone).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from autofill.config import Settings
from autofill.db import Store, utcnow
from autofill.fills import events, ledger, outbox
from autofill.logs import get_logger

log = get_logger(__name__)

# Every edit of a row writes a new version of it too: a day of PATCHes bloats `rows` as fills
# bloat the others (bench.api_load saw PATCH/s fall by a third within a minute).
CHURNING = ("outbox", "cell_events", "cells", "fill_ledger", "rows")
MIN_DEAD = 2000

_DEAD = text(
    "SELECT relname FROM pg_stat_user_tables "
    "WHERE relname = ANY(:tables) AND n_dead_tup >= :min_dead AND n_dead_tup > 0.2 * n_live_tup"
)


@dataclass(frozen=True)
class Swept:
    lease_expired: int = 0  # started, then the worker vanished
    lost: int = 0  # dispatched, never started (the message was lost)
    unblocked: int = 0
    unparked: int = 0  # a new month's budget
    events_pruned: int = 0
    vacuumed: tuple[str, ...] = ()  # tables whose dead rows were cleared (autovacuum is off)


def _always(session: Session) -> bool:
    return True


def sweep(
    store: Store, settings: Settings, still_held: Callable[[Session], bool] = _always
) -> Swept:
    """Put back in the outbox what a dead worker or a lost message left behind. Each
    transaction first asks ``still_held`` (the chore lease, renewed in that transaction:
    autofill.fills.chores) and the sweep stops where the lease was lost."""
    now = utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with store.transaction() as session:
        if not still_held(session):
            return Swept()
        expired = outbox.retry_expired_leases(session, now)
        sent_before = now - timedelta(seconds=settings.redispatch_after_s)
        lost = outbox.retry_lost_messages(session, now, sent_before)
        unblocked = outbox.unblock_all(session)
        unparked = outbox.unpark_before(session, now, month_start)
    with store.transaction() as session:
        if not still_held(session):
            return Swept(expired, lost, unblocked, unparked)
        pruned = events.prune(session, timedelta(seconds=settings.event_retention_s))
    with store.transaction() as session:
        if not still_held(session):
            return Swept(expired, lost, unblocked, unparked, pruned)
        ledger.fold(session)
    vacuumed = vacuum_churned(store)
    swept = Swept(expired, lost, unblocked, unparked, pruned, tuple(vacuumed))
    if expired or lost or unparked:
        log.warning("sweep", **swept.__dict__)
    return swept


def vacuum_churned(store: Store, min_dead: int = MIN_DEAD) -> list[str]:
    """VACUUM the churning tables that need it; returns their names. PostgreSQL only."""
    if store.dialect != "postgresql":
        return []
    started = time.perf_counter()
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
        log.info("vacuumed", tables=names, ms=round(1000 * (time.perf_counter() - started), 1))
    return names
