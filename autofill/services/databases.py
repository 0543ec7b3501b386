"""Creating, listing, changing and deleting databases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from autofill.db import Database
from autofill.errors import InvalidInput
from autofill.ids import new_id
from autofill.schemas import DatabaseCreate, DatabaseUpdate
from autofill.services.ai_columns import PropertyIndex, check_no_cycles, resolve_ai_config
from autofill.services.pagination import decode_cursor, encode_cursor
from autofill.services.properties import check_siblings, new_property


def create_database(
    session: Session, workspace_id: str, data: DatabaseCreate, *, default_model: str
) -> Database:
    database = Database(id=new_id("db"), workspace_id=workspace_id, name=data.name)
    props = [
        new_property(database, spec, position) for position, spec in enumerate(data.properties)
    ]
    for position, prop in enumerate(props):
        check_siblings(props[:position], prop, f"properties[{position}].")
    # AI columns may read any property of the new database, including ones listed after them.
    index = PropertyIndex(props)
    for position, (prop, spec) in enumerate(zip(props, data.properties, strict=True)):
        if spec.ai is not None:
            prop.ai = resolve_ai_config(
                spec.ai,
                prop.id,
                index,
                default_model=default_model,
                path=f"properties[{position}].ai",
            )
    check_no_cycles(props, "properties")
    database.properties = props
    session.add(database)
    session.flush()
    return database


def list_databases(
    session: Session, workspace_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Database], str | None]:
    query = (
        select(Database)
        .where(Database.workspace_id == workspace_id)
        .options(selectinload(Database.properties))
        .order_by(Database.id)
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(Database.id > decode_cursor(cursor))
    items = list(session.scalars(query))
    more = len(items) > limit
    items = items[:limit]
    return items, (encode_cursor(items[-1].id) if more else None)


def update_database(database: Database, data: DatabaseUpdate) -> Database:
    if data.name is not None:
        database.name = data.name
    if data.property_order is not None:
        current = {prop.id: prop for prop in database.properties}
        if sorted(data.property_order) != sorted(current):
            raise InvalidInput.field(
                "property_order", "must list every property id of the database exactly once"
            )
        for position, prop_id in enumerate(data.property_order):
            current[prop_id].position = position
        database.properties.sort(key=lambda prop: prop.position)
    return database


def delete_database(session: Session, database: Database) -> None:
    session.delete(database)
