"""economy fills: provider batches, their items, and what the outbox and runs say of them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import autofill.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_batches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("provider_batch_id", sa.String(length=200), nullable=True),
        sa.Column("input_file_id", sa.String(length=200), nullable=True),
        sa.Column("provider_status", sa.String(length=40), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("processing", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("lease_until", autofill.db.types.UTCDateTime(), nullable=True),
        sa.Column("next_check_at", autofill.db.types.UTCDateTime(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("submit_started_at", autofill.db.types.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", autofill.db.types.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", autofill.db.types.UTCDateTime(), nullable=True),
        sa.Column("ended_at", autofill.db.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", autofill.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["fill_runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_provider_batches_workspace_id", "provider_batches", ["workspace_id"], unique=False
    )
    op.create_index("ix_provider_batches_run_id", "provider_batches", ["run_id"], unique=False)
    op.create_index(
        "ix_provider_batches_state_check",
        "provider_batches",
        ["state", "next_check_at"],
        unique=False,
    )
    op.create_table(
        "batch_items",
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("custom_id", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.String(length=40), nullable=False),
        sa.Column("property_id", sa.String(length=40), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("prompt_version", sa.String(length=80), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("lane", sa.String(length=12), nullable=False),
        sa.Column("structured", sa.String(length=16), nullable=True),
        sa.Column("line", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["provider_batches.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("batch_id", "custom_id"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("economy", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("batch_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("reask", autofill.db.types.JSONType, nullable=True))
        batch.create_foreign_key(
            "fk_outbox_batch_id", "provider_batches", ["batch_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("fill_runs") as batch:
        batch.add_column(
            sa.Column("mode", sa.String(length=12), nullable=False, server_default="now")
        )


def downgrade() -> None:
    with op.batch_alter_table("fill_runs") as batch:
        batch.drop_column("mode")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_batch_id", type_="foreignkey")
        batch.drop_column("reask")
        batch.drop_column("batch_id")
        batch.drop_column("economy")
    op.drop_table("batch_items")
    op.drop_index("ix_provider_batches_state_check", table_name="provider_batches")
    op.drop_index("ix_provider_batches_run_id", table_name="provider_batches")
    op.drop_index("ix_provider_batches_workspace_id", table_name="provider_batches")
    op.drop_table("provider_batches")
