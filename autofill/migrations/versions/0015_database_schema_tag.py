"""a database's schema tag, renewed whenever its properties change

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing databases all start from one tag: a tag is only ever compared with the same
    # database's, and its first property change gives it a tag of its own. The server default
    # stays: removing it would make SQLite copy the table, and dropping the old copy of
    # databases would cascade to every row, cell and outbox entry (foreign keys are on).
    with op.batch_alter_table("databases") as batch:
        batch.add_column(
            sa.Column("schema_tag", sa.String(length=40), nullable=False, server_default="sch_0")
        )


def downgrade() -> None:
    # Not batch mode: on SQLite it would copy the table, with the cascade described above.
    # Both databases drop a column in place (SQLite since 3.35).
    op.execute("ALTER TABLE databases DROP COLUMN schema_tag")
