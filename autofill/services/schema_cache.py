"""A database's properties, kept by each process between requests for as long as the database
keeps its schema tag.

A row's GET and PATCH need the row, its cells and its database's properties. Reading the
properties on every request cost a statement, or a join that repeats the row (its page
included) once per property: with the cells joined as well, once per property and cell.
Properties change seldom, and every change renews the database's schema tag in the same
transaction (models._renew_schema_tags), so the row's statement reads the tag with the
database and the properties come from here while the tag matches.

The kept properties are detached objects shared by every request of the process: read them,
never change them (a change goes through autofill.services.properties, on objects of its own
session). Their ``database`` relationship is not loaded and raises if touched.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from autofill.db import Database, Property

# The tag and the properties in one statement, so both come from the same snapshot: the
# properties kept under a tag are always that tag's, whatever commits in between.
_PROPERTIES_WITH_TAG = (
    select(Database.schema_tag, Property)
    .select_from(Database)
    .outerjoin(Property, Property.database_id == Database.id)
    .where(Database.id == bindparam("database_id"))
    .order_by(Property.position)
)


class SchemaCache:
    """Up to ``size`` databases' properties, the least recently used dropped first (a
    database of 20 properties keeps about 40 KB)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._kept: OrderedDict[str, tuple[str, tuple[Property, ...]]] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn's threads share the process's cache

    def attach(self, session: Session, database: Database) -> None:
        """Give ``database`` (loaded in ``session``) its properties, as its relationship
        would, without loading them when its tag is the one they were kept under."""
        properties = self._kept_for(database.id, database.schema_tag)
        if properties is None:
            properties = self._read(session, database.id)
        set_committed_value(database, "properties", list(properties))

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def _kept_for(self, database_id: str, tag: str) -> tuple[Property, ...] | None:
        with self._lock:
            kept = self._kept.get(database_id)
            if kept is None or kept[0] != tag:
                return None
            self._kept.move_to_end(database_id)
            return kept[1]

    def _read(self, session: Session, database_id: str) -> tuple[Property, ...]:
        # A session of its own on the request's connection: the same transaction (so the
        # request's own uncommitted changes are seen), but the properties never join the
        # request's session, which may change or delete objects of its own.
        with Session(bind=session.connection()) as reader:
            found = reader.execute(_PROPERTIES_WITH_TAG, {"database_id": database_id}).all()
        tag = found[0][0]
        properties = tuple(prop for _, prop in found if prop is not None)
        with self._lock:
            self._kept[database_id] = (tag, properties)
            self._kept.move_to_end(database_id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return properties


SCHEMAS = SchemaCache()
