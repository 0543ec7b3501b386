"""the outbox entry has one name: table fill_jobs → outbox (entries are kept)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "state_due": ["state", "due_at"],
    "workspace_state": ["workspace_id", "state"],
    "run": ["run_id"],
}


def _rename(old: str, new: str) -> None:
    # SQLite cannot rename an index: drop the old names, rename, create the new ones.
    for suffix in _INDEXES:
        op.drop_index(f"ix_{old}_{suffix}", table_name=old)
    op.rename_table(old, new)
    for suffix, columns in _INDEXES.items():
        op.create_index(f"ix_{new}_{suffix}", new, columns, unique=False)


def upgrade() -> None:
    _rename("fill_jobs", "outbox")


def downgrade() -> None:
    _rename("outbox", "fill_jobs")
