"""Writing and reading rows (pages), keeping their AI cells' states in step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from autofill.db import Cell, Database, Property, Row
from autofill.errors import InvalidInput, PayloadTooLarge
from autofill.fills import cell_state, changes, outbox
from autofill.ids import new_id
from autofill.kinds import CellStatus, PropertyType, Reason
from autofill.schemas import MAX_CONTENT_BYTES, RowCreate, RowListQuery, RowUpdate
from autofill.services.ai_columns import PropertyIndex
from autofill.services.pagination import decode_cursor, encode_cursor
from autofill.values import validate_value


def ai_properties(database: Database) -> list[Property]:
    return [p for p in database.properties if p.type == PropertyType.AI.value]


def create_row(
    session: Session, database: Database, data: RowCreate, *, debounce_s: float = 0.0
) -> Row:
    row = Row(
        id=new_id("row"),
        database_id=database.id,
        values=validated_values(database, data.properties),
        content=checked_content(data.content),
        version=1,
    )
    row.cells = [
        cell_state.new_cell(row.id, prop.id, prop.ai.auto_update)
        for prop in ai_properties(database)
        if prop.ai is not None
    ]
    session.add(row)
    session.flush()
    due = [cell for cell in row.cells if cell.status == CellStatus.PENDING.value]
    outbox.schedule_cells(
        session, database.workspace_id, due, delay_s=debounce_s, reason=Reason.EDIT
    )
    return row


def update_row(
    session: Session, database: Database, row: Row, data: RowUpdate, *, debounce_s: float = 0.0
) -> Row:
    before_values, before_content = dict(row.values), row.content
    if data.properties:
        row.values = {**row.values, **validated_values(database, data.properties)}
        row.values = {key: value for key, value in row.values.items() if value is not None}
    if data.content is not None:
        row.content = checked_content(data.content)
    if row.values != before_values or row.content != before_content:
        row.version += 1
        due = changes.mark_inputs_changed(
            row, ai_properties(database), before_values, before_content
        )
        # Each save restarts the cells' debounce: a burst of saves costs one fill.
        outbox.schedule_cells(
            session, database.workspace_id, due, delay_s=debounce_s, reason=Reason.EDIT
        )
    session.flush()
    return row


def list_rows(
    session: Session, database: Database, query: RowListQuery
) -> tuple[list[Row], str | None]:
    statement = (
        select(Row)
        .where(Row.database_id == database.id)
        .options(selectinload(Row.cells))
        .order_by(Row.id)
        .limit(query.limit + 1)
    )
    if query.cursor:
        statement = statement.where(Row.id > decode_cursor(query.cursor))
    if query.property_id is not None and query.status is None:
        raise InvalidInput.field("property_id", "property_id filters by status; give status too")
    if query.status is not None:
        condition = (Cell.row_id == Row.id) & (Cell.status == query.status.value)
        if query.property_id is not None:
            if query.property_id not in {p.id for p in ai_properties(database)}:
                raise InvalidInput.field("property_id", "not an AI property of this database")
            condition &= Cell.property_id == query.property_id
        statement = statement.where(exists().where(condition))
    items = list(session.scalars(statement))
    more = len(items) > query.limit
    items = items[: query.limit]
    return items, (encode_cursor(items[-1].id) if more else None)


def validated_values(database: Database, raw: dict[str, Any]) -> dict[str, Any]:
    """Map names (or ids) to property ids and validate each value; report every bad field."""
    index = PropertyIndex(list(database.properties))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        field = f"properties.{key}"
        prop = index.find(key)
        if prop is None:
            errors[field] = f"no property named {key!r} in this database"
        elif prop.type == PropertyType.AI.value:
            errors[field] = (
                f"{prop.name!r} is an AI column; a person writes it with "
                f"PUT /v1/rows/{{row_id}}/cells/{prop.id}"
            )
        elif prop.id in values:
            errors[field] = f"{prop.name!r} is given twice"
        else:
            try:
                values[prop.id] = validate_value(prop.type, value, prop.options)
            except ValueError as exc:
                errors[field] = f"{prop.name}: {exc}"
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput(first if len(errors) == 1 else f"{len(errors)} invalid values", errors)
    return values


def checked_content(content: str) -> str:
    size = len(content.encode("utf-8"))
    if size > MAX_CONTENT_BYTES:
        raise PayloadTooLarge.field(
            "content", f"the page body is {size} bytes; the limit is {MAX_CONTENT_BYTES} bytes"
        )
    return content
