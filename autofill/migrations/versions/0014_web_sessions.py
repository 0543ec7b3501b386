"""web sessions: the web page's cookie holds an opaque session id; the session lives here,
with the token that opened it, its last use and its end (issue 24)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import autofill.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), primary_key=True),
        sa.Column(
            "token_id",
            sa.String(length=40),
            sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "workspace_id",
            sa.String(length=40),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", autofill.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", autofill.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", autofill.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", autofill.db.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_web_sessions_token", "web_sessions", ["token_id"])
    op.create_index("ix_web_sessions_workspace_id", "web_sessions", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_workspace_id", table_name="web_sessions")
    op.drop_index("ix_web_sessions_token", table_name="web_sessions")
    op.drop_table("web_sessions")
