"""Adding, changing and removing a database's properties (AI columns included)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from autofill.columns import AIConfig
from autofill.db import Cell, Database, Property, Row
from autofill.errors import Conflict, InvalidInput
from autofill.fills import cell_state, changes, events, outbox
from autofill.ids import new_id
from autofill.kinds import PropertyType, Reason
from autofill.references import rename_reference
from autofill.schemas import AIConfigIn, PropertyCreate, PropertyUpdate
from autofill.services.ai_columns import (
    PropertyIndex,
    check_no_cycles,
    config_input,
    dependents_of,
    resolve_ai_config,
)
from autofill.services.errors import from_validation_error
from autofill.text import fold

# Changing only these leaves existing AI values valid; anything else makes them stale.
_NON_PROMPT_KEYS = {"auto_update"}


def new_property(database: Database, data: PropertyCreate, position: int) -> Property:
    """A property object (not yet checked against its siblings)."""
    return Property(
        id=new_id("prop"),
        database_id=database.id,
        name=data.name,
        name_key=fold(data.name),
        type=data.type.value,
        position=position,
        options=data.options,
    )


def check_siblings(properties: list[Property], prop: Property, prefix: str = "") -> None:
    """Names unique after folding; at most one title per database. ``prefix`` leads field paths."""
    for other in properties:
        if other is prop:
            continue
        if other.name_key == prop.name_key:
            raise Conflict(
                f"a property named {other.name!r} already exists",
                {f"{prefix}name": f"a property named {other.name!r} already exists"},
            )
        if prop.type == PropertyType.TITLE.value and other.type == PropertyType.TITLE.value:
            raise InvalidInput.field(
                f"{prefix}type", f"a database has one title property, and {other.name!r} is it"
            )


def add_property(
    session: Session, database: Database, data: PropertyCreate, *, default_model: str
) -> Property:
    siblings = list(database.properties)
    position = len(siblings) if data.position is None else min(data.position, len(siblings))
    prop = new_property(database, data, position)
    check_siblings(siblings, prop)
    if data.ai is not None:
        everything = [*siblings, prop]
        prop.ai = resolve_ai_config(
            data.ai, prop.id, PropertyIndex(everything), default_model=default_model, path="ai"
        )
        check_no_cycles(everything, "ai.inputs")
    for other in siblings:
        if other.position >= position:
            other.position += 1
    database.properties.insert(position, prop)
    session.flush()
    if prop.ai is not None:
        cell_state.add_column_cells(session, prop, prop.ai.auto_update)
        if prop.ai.auto_update:
            outbox.schedule_new_column(session, database.workspace_id, prop)
        events.record_new_column(session, prop)
    return prop


def update_property(
    session: Session,
    database: Database,
    prop: Property,
    data: PropertyUpdate,
    *,
    default_model: str,
) -> Property:
    given = data.explicit_fields()
    if "type" in given and data.type is not None and data.type.value != prop.type:
        raise InvalidInput.field(
            "type", "a property's type cannot be changed; add a new property and delete this one"
        )
    if data.name is not None and data.name != prop.name:
        _rename(database, prop, data.name)
    if "options" in given:
        _change_options(session, prop, data.options)
    if "ai" in given:
        _change_ai(session, database, prop, data, default_model=default_model)
    return prop


def delete_property(session: Session, database: Database, prop: Property) -> None:
    readers = dependents_of(prop.id, list(database.properties))
    if readers:
        names = ", ".join(repr(p.name) for p in readers)
        raise Conflict(
            f"{prop.name!r} is read by AI column(s) {names}; change or delete them first"
        )
    if prop.type != PropertyType.AI.value:
        # Values are stored by property id; drop them so nothing dangles.
        for row in session.scalars(select(Row).where(Row.database_id == database.id)):
            if prop.id in row.values:
                row.values = {k: v for k, v in row.values.items() if k != prop.id}
    database.properties.remove(prop)
    session.delete(prop)
    for position, other in enumerate(database.properties):
        other.position = position


def _rename(database: Database, prop: Property, name: str) -> None:
    old_key, prop.name, prop.name_key = prop.name_key, name, fold(name)
    check_siblings(list(database.properties), prop)
    # Instructions refer to properties by name: keep them pointing at the same property.
    for other in database.properties:
        if other.ai is not None and other.ai.instruction:
            rewritten = rename_reference(other.ai.instruction, old_key, name)
            if rewritten != other.ai.instruction:
                other.ai = other.ai.model_copy(update={"instruction": rewritten})


def _change_options(session: Session, prop: Property, options: list[str] | None) -> None:
    if prop.type not in (PropertyType.SELECT.value, PropertyType.MULTI_SELECT.value):
        raise InvalidInput.field("options", f"a {prop.type} property takes no options")
    if options is None:
        raise InvalidInput.field("options", "options must not be empty")
    removed = set(prop.options or []) - set(options)
    if removed:
        in_use = _rows_using(session, prop, removed)
        if in_use:
            listed = ", ".join(repr(o) for o in sorted(in_use))
            raise Conflict(
                f"option(s) {listed} are still used by rows; change those rows first",
                {"options": f"still in use: {listed}"},
            )
    prop.options = options


def _rows_using(session: Session, prop: Property, options: set[str]) -> set[str]:
    used: set[str] = set()
    for values in session.scalars(select(Row.values).where(Row.database_id == prop.database_id)):
        value = values.get(prop.id)
        chosen = value if isinstance(value, list) else [value]
        used.update(option for option in chosen if option in options)
    return used


def _change_ai(
    session: Session,
    database: Database,
    prop: Property,
    data: PropertyUpdate,
    *,
    default_model: str,
) -> None:
    if prop.type != PropertyType.AI.value or prop.ai is None:
        raise InvalidInput.field("ai", f"a {prop.type} property takes no `ai` configuration")
    if data.ai is None:
        raise InvalidInput.field("ai", "an ai property needs an `ai` configuration")
    old: AIConfig = prop.ai
    merged = _merge(config_input(old), data.ai.model_dump(exclude_unset=True))
    try:
        config = AIConfigIn.model_validate(merged)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix="ai") from None
    everything = list(database.properties)
    new = resolve_ai_config(
        config, prop.id, PropertyIndex(everything), default_model=default_model, path="ai"
    )
    prop.ai = new
    check_no_cycles(everything, "ai.inputs")
    changed = {key for key in AIConfig.model_fields if getattr(new, key) != getattr(old, key)}
    due: list[Cell] = []
    if changed - _NON_PROMPT_KEYS:
        session.flush()
        due = changes.mark_config_changed(session, prop, new)
    if "auto_update" in changed:
        toggled, dropped = changes.auto_update_toggled(session, prop, new)
        due += toggled
        outbox.cancel(session, [(cell.row_id, cell.property_id) for cell in dropped])
    outbox.schedule_cells(session, database.workspace_id, due, delay_s=0.0, reason=Reason.CONFIG)


def _merge(current: AIConfigIn, patch: dict[str, Any]) -> dict[str, Any]:
    merged = current.model_dump(mode="json")
    if "task" in patch and patch["task"] != current.task and "target_language" not in patch:
        merged["target_language"] = None  # only translate has one; don't trip over the old value
    merged.update(patch)
    return merged
