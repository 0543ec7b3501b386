"""What the commands share: settings, the store, and turning domain errors into exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.orm import Session

from autofill.config import Settings, get_settings
from autofill.db import Store, upgrade
from autofill.errors import AutofillError
from autofill.services import store as stores


def open_store(
    settings: Settings | None = None, *, migrate: bool = True, **engine_kwargs: Any
) -> Store:
    settings = settings or get_settings()
    store = stores.open_store(settings.resolved_database_url(), **engine_kwargs)
    if migrate:
        upgrade(store)
    return store


@contextmanager
def transaction(store: Store) -> Iterator[Session]:
    """A transaction whose domain errors become a CLI message and exit code 1, not a traceback."""
    try:
        with store.transaction() as session:
            yield session
    except AutofillError as exc:
        raise click.ClickException(exc.message) from None
