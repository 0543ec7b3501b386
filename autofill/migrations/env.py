"""Alembic environment: runs against the engine handed in by autofill.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from autofill.db import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through `autofill db upgrade`, which supplies the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
