"""fill ledger: fills append what they spent instead of updating shared counter rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import autofill.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fill_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("fills", sa.Integer(), nullable=False),
        sa.Column("fills_avoided", sa.Integer(), nullable=False),
        sa.Column("model_calls", sa.Integer(), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("created_at", autofill.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_fill_ledger_workspace_period", "fill_ledger", ["workspace_id", "period"], unique=False
    )
    op.create_index("ix_fill_ledger_run", "fill_ledger", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fill_ledger_run", table_name="fill_ledger")
    op.drop_index("ix_fill_ledger_workspace_period", table_name="fill_ledger")
    op.drop_table("fill_ledger")
