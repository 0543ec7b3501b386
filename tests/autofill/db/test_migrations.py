"""The Alembic history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from autofill.db.migrate import current_revision, head_revision, upgrade
from autofill.db.models import Base
from autofill.db.session import Store


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
    upgrade(fresh)
    assert current_revision(fresh) == head_revision(fresh)
