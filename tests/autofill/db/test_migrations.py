"""The Alembic history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from autofill.db.migrate import (
    current_revision,
    head_revision,
    shipped_head,
    stored_revision,
    upgrade,
)
from autofill.db.models import Base, Cell, Database, OutboxEntry, Property, Workspace
from autofill.db.session import Store
from tests.conftest import fresh_postgres

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_migrated_schema_matches_models(store: Store) -> None:
    assert current_revision(store) == head_revision(store)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent(store: Store) -> None:
    upgrade(store)
    assert current_revision(store) == head_revision(store)


def test_fresh_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh = Store(f"sqlite:///{tmp_path / 'new.db'}")
    assert current_revision(fresh) is None
    assert stored_revision(fresh) is None
    upgrade(fresh)
    assert current_revision(fresh) == head_revision(fresh)


def test_the_head_read_without_alembic_is_alembics(store: Store) -> None:
    # upgrade() skips Alembic when the stored revision is the shipped head: both readings must
    # agree with Alembic's own, or a new migration would never run.
    assert shipped_head() == head_revision(store)
    assert stored_revision(store) == current_revision(store)


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    with fresh_postgres("autofill_blank") as url:
        yield url


def test_the_outbox_rename_keeps_the_entries_due(blank_url: str) -> None:
    """0006 renames fill_jobs to outbox: fills due when a deployment upgrades stay due."""
    store = Store(blank_url)
    upgrade(store, "0005")
    with store.transaction() as session:  # tables 0006 leaves as they are
        for record in (
            Workspace(id="ws_1", name="W"),
            Database(id="db_1", workspace_id="ws_1", name="D"),
            Property(
                id="prop_1", database_id="db_1", name="S", name_key="s", type="title", position=0
            ),
        ):
            session.add(record)
            session.flush()  # in order: the models name no relationships between these
    with store.engine.begin() as connection:
        # The row as 0005 has it (today's model has columns later migrations add).
        connection.execute(
            text(
                'INSERT INTO rows (id, database_id, "values", content, version, created_at, '
                "updated_at) VALUES ('row_1', 'db_1', '{}', 'Page.', 1, :now, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO fill_jobs (row_id, property_id, workspace_id, generation, state, "
                "due_at, force, reason, attempts, reserved_tokens, reserved_usd, created_at, "
                "updated_at) VALUES ('row_1', 'prop_1', 'ws_1', 3, 'waiting', :now, false, "
                "'edit', 0, 0, 0.0, :now, :now)"
            ),
            {"now": NOW},
        )
    upgrade(store)
    with store.transaction() as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert (entry.row_id, entry.generation, entry.state) == ("row_1", 3, "waiting")
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    store.dispose()


def test_0013_keeps_the_cell_values_sqlite_had_stored(blank_url: str) -> None:
    """0013 declares cells.value TEXT on SQLite, copying the table: values stored before it
    (numbers SQLite had kept as numbers, JSON strings, objects, NULL) read back the same."""
    store = Store(blank_url)
    upgrade(store, "0012")
    stored = [42, "a note", {"a": [1, 2]}, 1.5, None]
    with store.transaction() as session:
        for record in (
            Workspace(id="ws_1", name="W"),
            Database(id="db_1", workspace_id="ws_1", name="D"),
            Property(
                id="prop_1", database_id="db_1", name="S", name_key="s", type="ai", position=0
            ),
        ):
            session.add(record)
            session.flush()
    with store.engine.begin() as connection:
        for number, value in enumerate(stored):
            connection.execute(
                text(
                    'INSERT INTO rows (id, database_id, "values", content, version, created_at, '
                    "updated_at) VALUES (:id, 'db_1', '{}', '', 1, :now, :now)"
                ),
                {"id": f"row_{number}", "now": NOW},
            )
            connection.execute(
                text(
                    "INSERT INTO cells (row_id, property_id, value, status, updated_at) "
                    "VALUES (:id, 'prop_1', :value, 'filled', :now)"
                ),
                {
                    "id": f"row_{number}",
                    "value": None if value is None else json.dumps(value),
                    "now": NOW,
                },
            )
    upgrade(store)
    with store.transaction() as session:
        found: dict[str, Any] = {
            row_id: value for row_id, value in session.execute(select(Cell.row_id, Cell.value))
        }
    assert [found[f"row_{n}"] for n in range(len(stored))] == stored
    store.dispose()
