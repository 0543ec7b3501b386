"""Alembic, driven from code: the migrations ship inside the package (autofill/migrations).

Every process and command opens the store through ``upgrade``, and nearly always the schema is
already at head. That case is answered with one query and no Alembic: importing Alembic and
reading its scripts costs most of a short command's time (issue 21). The revisions are named
by their files' numeric prefixes in one line (0001 → 0002 → …), so the head is the highest
prefix; a test holds that to Alembic's own head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from autofill.db.session import Store

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(store: Store) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py uses this engine instead of building one from a URL string (keeps the pragmas).
    config.attributes["engine"] = store.engine
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    if revision == "head" and stored_revision(store) == shipped_head():
        return
    from alembic import command

    command.upgrade(alembic_config(store), revision)


def shipped_head() -> str:
    """The newest revision this code ships, from the migration files' names."""
    return max(path.name.split("_")[0] for path in (MIGRATIONS_DIR / "versions").glob("0*.py"))


def stored_revision(store: Store) -> str | None:
    """The revision the database is at, read without Alembic (None: no schema yet)."""
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no alembic_version table: a new database
        return None
    return rows[0][0] if len(rows) == 1 else None


def current_revision(store: Store) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(store: Store) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(store)).get_current_head()
