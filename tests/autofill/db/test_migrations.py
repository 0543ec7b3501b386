"""The Alembic history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select, text

from autofill.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    shipped_head,
    stored_revision,
    upgrade,
)
from autofill.db.models import Base, Cell, Database, OutboxEntry, Property, Row
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


def _old_schema_records(connection: Connection, property_type: str) -> None:
    """A workspace, a database and one property, as every revision since 0001 stores them
    (today's models have columns later migrations add, such as databases.schema_tag)."""
    for statement in (
        "INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'W', :now)",
        "INSERT INTO databases (id, workspace_id, name, created_at, updated_at) "
        "VALUES ('db_1', 'ws_1', 'D', :now, :now)",
        "INSERT INTO properties (id, database_id, name, name_key, type, position, created_at, "
        "updated_at) VALUES ('prop_1', 'db_1', 'S', 's', :type, 0, :now, :now)",
    ):
        connection.execute(text(statement), {"now": NOW, "type": property_type})


def test_the_outbox_rename_keeps_the_entries_due(blank_url: str) -> None:
    """0006 renames fill_jobs to outbox: fills due when a deployment upgrades stay due."""
    store = Store(blank_url)
    upgrade(store, "0005")
    with store.engine.begin() as connection:
        _old_schema_records(connection, "title")
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
    with store.engine.begin() as connection:
        _old_schema_records(connection, "ai")
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


def test_0015_tags_the_databases_there_are(blank_url: str) -> None:
    """0015 gives every existing database a schema tag; its first property change renews it."""
    store = Store(blank_url)
    upgrade(store, "0014")
    with store.engine.begin() as connection:
        _old_schema_records(connection, "title")
    upgrade(store)
    with store.transaction() as session:
        assert session.get_one(Database, "db_1").schema_tag == "sch_0"
        session.get_one(Property, "prop_1").name = "Renamed"
    with store.transaction() as session:
        assert session.get_one(Database, "db_1").schema_tag.startswith("sch_01")
        session.add(Row(id="row_1", database_id="db_1", values={}, content="Page."))
    # Down and up again in place: a copy of the databases table would cascade to its rows.
    command.downgrade(alembic_config(store), "0014")
    upgrade(store)
    with store.transaction() as session:
        assert session.get_one(Row, "row_1").content == "Page."
        assert session.get_one(Database, "db_1").schema_tag == "sch_0"
    store.dispose()
