"""`autofill db ...`: schema migrations."""

from __future__ import annotations

import click

from autofill.config import get_settings
from autofill.db import current_revision, head_revision, upgrade
from cli.common import open_store


@click.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the latest)."""
    store = open_store(migrate=False)
    upgrade(store, revision)
    click.echo(f"{_safe_url(get_settings().resolved_database_url())} at {current_revision(store)}")


@db.command("current")
def db_current() -> None:
    """Show the schema revision and whether it is the latest."""
    store = open_store(migrate=False)
    current, head = current_revision(store), head_revision(store)
    click.echo(f"current: {current or 'none'}  latest: {head}")
    if current != head:
        raise SystemExit(1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
