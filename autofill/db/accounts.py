"""The base every table maps on, and the accounts tables: workspaces and their API tokens.

Apart from the rest of the schema (autofill.db.models) because what the `autofill workspace` and
`token` commands and every request's authentication touch is these two tables only: mapping
all eighteen tables costs 40-50 ms of declarative scanning and mapper configuration, which a
command that lists workspaces should not pay (bench.cli_start). Neither table has relationships,
so they map and configure on their own; autofill.db.models imports this module, so a process
that uses any other table has the whole schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Float, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from autofill.db.types import JSONType, UTCDateTime, utcnow


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Model for new AI columns that name none; the server's AUTOFILL_DEFAULT_MODEL when unset.
    default_model: Mapped[str | None] = mapped_column(String(200), default=None)
    # Monthly caps (UTC calendar month) on what fills may spend; None means no cap.
    budget_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    budget_usd: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored: tokens carry 256 random bits, so a fast hash
    is enough (no password stretching needed) and lookups stay a single indexed query."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
