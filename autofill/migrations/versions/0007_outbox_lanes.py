"""outbox entries say their lane: interactive (a person waits) or bulk (a backfill, a run)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("lane", sa.String(length=12), nullable=False, server_default="interactive")
        )
    # Entries already waiting keep their meaning: a bulk run's are bulk.
    op.execute("UPDATE outbox SET lane = 'bulk' WHERE reason = 'run'")
    op.create_index("ix_outbox_state_lane_due", "outbox", ["state", "lane", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_state_lane_due", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lane")
