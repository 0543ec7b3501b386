"""exact cell values on SQLite: cells.value declared TEXT, so SQLite stops turning a bare
number's JSON into a REAL (autofill.db.types.ExactJSONType); PostgreSQL's JSONB is unchanged

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # SQLite cannot change a column's type in place: batch mode copies the table. Values
    # already stored as numbers become their text, which reads back as the same JSON number
    # (what SQLite rounded before cannot be recovered).
    with op.batch_alter_table("cells") as batch:
        batch.alter_column("value", type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("cells") as batch:
        batch.alter_column("value", type_=sa.JSON(), existing_nullable=True)
