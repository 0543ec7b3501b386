"""rate-limit windows and provider pauses in the database, for deployments without Redis

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
    )
    op.create_index("ix_rate_limit_entries_key_at", "rate_limit_entries", ["key", "at"])
    op.create_table(
        "rate_limit_pauses",
        sa.Column("key", sa.String(length=512), primary_key=True),
        sa.Column("until", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_pauses")
    op.drop_index("ix_rate_limit_entries_key_at", table_name="rate_limit_entries")
    op.drop_table("rate_limit_entries")
