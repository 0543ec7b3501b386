"""Column types and statements that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine

from autofill import clock

M = TypeVar("M", bound=BaseModel)


class _PortableJSON(TypeDecorator[Any]):
    """JSON: JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.

    Chosen when a database is first used (SQLAlchemy's documented ``load_dialect_impl``
    pattern), not by ``JSON().with_variant(JSONB(), "postgresql")``, which needs the JSONB
    class, and so all of ``sqlalchemy.dialects.postgresql`` with its asyncpg dialect and
    asyncio, imported by every process, SQLite's too: 23-25 ms of each CLI command's start
    (``python -X importtime``, 2026-12-04).
    """

    impl = JSON
    cache_ok = True
    # As JSON's own: a None is written as JSON ``null`` (not left out of the INSERT), and
    # values are dicts and lists, which the ORM must not hash.
    should_evaluate_none = True
    hashable = False

    def __init__(self, sqlite_type: TypeEngine[Any] | None = None) -> None:
        super().__init__()
        self.sqlite_type = sqlite_type

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # The type itself, not dialect.type_descriptor(type): the DDL compiles it (TEXT, not
        # SQLite's JSON, for the exact column) and SQLAlchemy adapts it for binding anyway.
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return JSONB()
        if dialect.name == "sqlite" and self.sqlite_type is not None:
            return self.sqlite_type
        return JSON()


JSONType = _PortableJSON()


class _JSONDeclaredText(sqlite.JSON):
    """SQLite's JSON, declared TEXT. A column declared ``JSON`` has NUMERIC affinity in SQLite
    (its name holds none of INT, CHAR, CLOB, TEXT, BLOB, REAL, FLOA, DOUB: "Datatypes In
    SQLite", 3.1), so a bare number's JSON text is stored as a number: a 23-digit integer came
    back as 1.2345678901234568e+22, a 400-digit one as Inf. Declared TEXT, SQLite keeps the
    JSON text as written, and reading it back gives the exact value."""


@compiles(_JSONDeclaredText, "sqlite")
def _declare_text(_type: _JSONDeclaredText, _compiler: Any, **_kw: Any) -> str:
    return "TEXT"


# For a column that holds bare JSON scalars (a cell's value): exact on both databases.
ExactJSONType = _PortableJSON(sqlite_type=_JSONDeclaredText())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes everywhere.

    SQLite stores no offset and hands back naive values; this puts UTC back on them so the API
    never mixes naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class PydanticJSON(TypeDecorator[M], Generic[M]):
    """A frozen pydantic model stored as JSON: written as its JSON form, read back validated,
    so code reads attributes, never keys of a raw dict."""

    impl = JSONType
    cache_ok = True

    def __init__(self, model: type[M]) -> None:
        super().__init__()
        self.model = model

    def process_bind_param(self, value: M | None, dialect: Dialect) -> Any:
        return None if value is None else value.model_dump(mode="json")

    def process_result_value(self, value: Any, dialect: Dialect) -> M | None:
        return None if value is None else self.model.model_validate(value)


def upsert(session: Session, table: Any) -> Any:
    """``INSERT`` for ``table`` with ``ON CONFLICT`` (PostgreSQL's or SQLite's, by the
    session's database): the one place that chooses between the two dialects' statements."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert(table)
    return sqlite.insert(table)


def utcnow() -> datetime:
    """Now, from the service's clock (autofill.clock): debounce, leases and budgets' months
    all read it here, so a test can move time instead of waiting for it."""
    return clock.now()
