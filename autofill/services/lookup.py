"""Fetching a resource by id within one workspace. Another workspace's ids look absent (404)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from autofill.db import Cell, Database, Property, Row
from autofill.errors import NotFound
from autofill.services.schema_cache import SCHEMAS


def get_database(
    session: Session, workspace_id: str, database_id: str, *, for_update: bool = False
) -> Database:
    query = (
        select(Database)
        .where(Database.id == database_id, Database.workspace_id == workspace_id)
        .options(selectinload(Database.properties))
    )
    if for_update:
        # Schema changes (properties, their order) take the database's row lock, so two of them
        # never interleave their sibling checks and position updates.
        query = query.with_for_update(of=Database)
    database = session.scalar(query)
    if database is None:
        raise NotFound(f"no database {database_id!r}")
    return database


def get_property(session: Session, workspace_id: str, property_id: str) -> Property:
    prop = session.scalar(
        select(Property)
        .join(Database, Property.database_id == Database.id)
        .where(Property.id == property_id, Database.workspace_id == workspace_id)
    )
    if prop is None:
        raise NotFound(f"no property {property_id!r}")
    return prop


def get_row(session: Session, workspace_id: str, row_id: str, *, for_update: bool = False) -> Row:
    query = (
        select(Row)
        .join(Database, Row.database_id == Database.id)
        .where(Row.id == row_id, Database.workspace_id == workspace_id)
        .options(selectinload(Row.cells))
    )
    if for_update:
        # Serialises concurrent PATCHes of one row on PostgreSQL so no edit is lost.
        query = query.with_for_update(of=Row)
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"no row {row_id!r}")
    return row


# A row's GET and PATCH run this on every request: built once, with its ids as parameters,
# so a request neither builds the statement nor computes its cache key again (the
# statement's key is kept on it): a tenth of a row's GET or PATCH, in instructions counted
# by bench.api_steps under callgrind. The cells are joined (one result row per AI cell); the
# properties come from the process's schema cache, so nothing multiplies the row by them.
_ROW_AND_DATABASE = (
    select(Row, Database)
    .join(Database, Row.database_id == Database.id)
    .where(Row.id == bindparam("row_id"), Database.workspace_id == bindparam("workspace_id"))
    .options(joinedload(Row.cells))
)
# As get_row: concurrent PATCHes of one row serialise on PostgreSQL, so no edit is lost.
_ROW_AND_DATABASE_FOR_UPDATE = _ROW_AND_DATABASE.with_for_update(of=Row)


def get_row_and_database(
    session: Session, workspace_id: str, row_id: str, *, for_update: bool = False
) -> tuple[Row, Database]:
    """A row with its cells and its database with its properties, in one statement while the
    process keeps the database's properties (autofill.services.schema_cache): the row joined
    to its database (the join that checks the workspace anyway) and to its cells. The
    properties are read-only there. ``get_row`` then ``get_database`` took four statements,
    and a row's GET and PATCH are mostly these round trips (bench.api_load)."""
    query = _ROW_AND_DATABASE_FOR_UPDATE if for_update else _ROW_AND_DATABASE
    found = (
        session.execute(query, {"row_id": row_id, "workspace_id": workspace_id}).unique().first()
    )
    if found is None:
        raise NotFound(f"no row {row_id!r}")
    row, database = found[0], found[1]
    SCHEMAS.attach(session, database)
    return row, database


def get_cell(session: Session, row: Row, property_id: str) -> Cell:
    for cell in row.cells:
        if cell.property_id == property_id:
            return cell
    raise NotFound(f"no AI cell for property {property_id!r} on row {row.id!r}")
