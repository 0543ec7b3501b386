"""Writing and reading rows (pages), keeping their AI cells' states in step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, bindparam, exists, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from autofill.db import Cell, Database, Property, Row, utcnow
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


# A row's write as one Core statement, built once. Through the session's unit of work the
# same UPDATE cost a tenth of a PATCH's instructions (bench.api_steps under callgrind: 10.04
# -> 9.11 M), for organising, sorting and diffing the session's objects. The row is locked by
# the caller's select, and its object is then told the new state as committed, so nothing is
# flushed for it again (as outbox.dispatch_many).
_WRITE_VALUES: dict[Any, BindParameter[Any]] = {
    Row.values: bindparam("new_values"),
    Row.version: bindparam("new_version"),
    Row.updated_at: bindparam("now"),
}
_WRITE_ROW = update(Row).where(Row.id == bindparam("row_id")).values(_WRITE_VALUES)
# The page only when it changed: sent again, PostgreSQL stores a large page anew (TOAST) for
# each save of a property, and the driver encodes it (bench.api_steps --wide).
_WRITE_ROW_AND_PAGE = (
    update(Row)
    .where(Row.id == bindparam("row_id"))
    .values(
        {
            **_WRITE_VALUES,
            Row.content: bindparam("new_content"),
            Row.content_language: bindparam("language"),
        }
    )
)


def update_row(
    session: Session, database: Database, row: Row, data: RowUpdate, *, debounce_s: float = 0.0
) -> Row:
    """Apply a PATCH to ``row`` (locked by the caller): a write that changes nothing leaves the
    row, its version and its cells as they were."""
    before_values, before_content = row.values, row.content
    values, content = before_values, before_content
    if data.properties:
        merged = {**before_values, **validated_values(database, data.properties)}
        values = {key: value for key, value in merged.items() if value is not None}
    if data.content is not None:
        content = checked_content(data.content)
    if values == before_values and content == before_content:
        return row
    _write_row(session, row, values, content)
    due = changes.mark_inputs_changed(row, ai_properties(database), before_values, before_content)
    # Each save restarts the cells' debounce: a burst of saves costs one fill.
    outbox.schedule_cells(
        session, database.workspace_id, due, delay_s=debounce_s, reason=Reason.EDIT
    )
    session.flush()  # the cells the change moved
    return row


def _write_row(session: Session, row: Row, values: dict[str, Any], content: str) -> None:
    # New content clears the stored language, as models.Row's "set" listener does for a write
    # through the object (which set_committed_value does not fire).
    state = {
        "values": values,
        "content": content,
        "version": row.version + 1,
        "updated_at": utcnow(),
        "content_language": row.content_language if content == row.content else None,
    }
    parameters = {
        "row_id": row.id,
        "new_values": state["values"],
        "new_version": state["version"],
        "now": state["updated_at"],
    }
    if content == row.content:
        session.connection().execute(_WRITE_ROW, parameters)
    else:
        parameters |= {"new_content": content, "language": state["content_language"]}
        session.connection().execute(_WRITE_ROW_AND_PAGE, parameters)
    for key, value in state.items():
        set_committed_value(row, key, value)


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
