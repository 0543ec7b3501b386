"""The sweeper vacuums the tables fills churn through when autovacuum does not (PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import delete, insert, text

from autofill.db.models import FillLedger
from autofill.db.session import Store
from autofill.fills import upkeep


def _dead_rows(store: Store, table: str) -> int:
    with store.engine.connect() as connection:
        found = connection.execute(
            text("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
        ).scalar()
    return int(found or 0)


def _churn(store: Store, rows: int) -> None:
    entries = [{"workspace_id": "ws_churn", "period": "2026-11"} for _ in range(rows)]
    with store.transaction() as session:
        session.execute(insert(FillLedger), entries)
    with store.transaction() as session:
        session.execute(delete(FillLedger).where(FillLedger.workspace_id == "ws_churn"))
        # Statistics reach pg_stat_user_tables at most once a second unless asked now.
        session.execute(text("SELECT pg_stat_force_next_flush()"))


@pytest.mark.real_time  # PostgreSQL's statistics arrive on its own clock
def test_a_churned_table_is_vacuumed_and_a_quiet_one_left_alone(store: Store) -> None:
    if store.dialect != "postgresql":
        assert upkeep.vacuum_churned(store) == []  # SQLite: nothing to do
        return
    _churn(store, 3000)
    deadline = time.monotonic() + 10
    while _dead_rows(store, "fill_ledger") < 3000 and time.monotonic() < deadline:
        time.sleep(0.2)
    dead_before = _dead_rows(store, "fill_ledger")
    vacuumed = upkeep.vacuum_churned(store)
    if dead_before >= 3000:
        assert "fill_ledger" in vacuumed
    # else autovacuum (on, on this server) got there first: either way the rows are gone.
    assert "rows" not in vacuumed and "workspaces" not in vacuumed  # not ours to churn
    deadline = time.monotonic() + 10
    while _dead_rows(store, "fill_ledger") >= 3000 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _dead_rows(store, "fill_ledger") < upkeep.MIN_DEAD
    assert "fill_ledger" not in upkeep.vacuum_churned(store)  # nothing left to clear
