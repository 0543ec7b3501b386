"""the page's language, stored with the row once a fill has detected it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rows") as batch:
        batch.add_column(sa.Column("content_language", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rows") as batch:
        batch.drop_column("content_language")
