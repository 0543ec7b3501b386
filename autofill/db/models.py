"""The tables. Property values are stored by property id, so renaming a property is one update."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


class Database(Base):
    __tablename__ = "databases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    properties: Mapped[list[Property]] = relationship(
        back_populates="database",
        order_by="Property.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Property(Base):
    __tablename__ = "properties"
    __table_args__ = (UniqueConstraint("database_id", "name_key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    database_id: Mapped[str] = mapped_column(
        ForeignKey("databases.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # Case- and width-folded name: "Status" and "ｓｔａｔｕｓ" cannot both exist in one database.
    name_key: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    options: Mapped[list[str] | None] = mapped_column(JSONType, default=None)
    # AI configuration, stored as validated by autofill.schemas.AIConfig (inputs by property id).
    ai: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    database: Mapped[Database] = relationship(back_populates="properties")


class Row(Base):
    __tablename__ = "rows"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    database_id: Mapped[str] = mapped_column(
        ForeignKey("databases.id", ondelete="CASCADE"), index=True
    )
    # {property_id: value} for non-AI properties; AI values live in `cells`.
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every write; lets clients and fills tell one revision from the next.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    cells: Mapped[list[Cell]] = relationship(
        back_populates="row", cascade="all, delete-orphan", passive_deletes=True
    )


class Cell(Base):
    """One AI property's value on one row, with its state and provenance."""

    __tablename__ = "cells"
    __table_args__ = (Index("ix_cells_property_status", "property_id", "status"),)

    row_id: Mapped[str] = mapped_column(ForeignKey("rows.id", ondelete="CASCADE"), primary_key=True)
    property_id: Mapped[str] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[Any] = mapped_column(JSONType, nullable=True, default=None)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    prompt_version: Mapped[str | None] = mapped_column(String(80), default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    # Hash of the inputs the current value was computed from (or is due for, when pending).
    input_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    tokens_in: Mapped[int | None] = mapped_column(Integer, default=None)
    tokens_out: Mapped[int | None] = mapped_column(Integer, default=None)
    cost_usd: Mapped[float | None] = mapped_column(Float, default=None)
    truncated: Mapped[bool | None] = mapped_column(Boolean, default=None)
    filled_at: Mapped[datetime | None] = mapped_column(default=None)
    overridden_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    row: Mapped[Row] = relationship(back_populates="cells")
