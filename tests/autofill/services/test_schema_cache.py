"""A process keeps a database's properties for as long as the database keeps its schema tag."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from autofill.db import Database, Property, Store, Workspace
from autofill.services.schema_cache import SchemaCache


@pytest.fixture
def databases(store: Store) -> list[str]:
    with store.transaction() as session:
        session.add(Workspace(id="ws_sc", name="W"))
        session.flush()
        session.add_all(
            [Database(id=f"db_sc{n}", workspace_id="ws_sc", name=f"D{n}") for n in range(3)]
        )
        session.flush()
        for n in range(2):  # db_sc2 has no properties
            session.add_all(
                Property(
                    id=f"p{n}_{k}",
                    database_id=f"db_sc{n}",
                    name=f"P{k}",
                    name_key=f"p{k}",
                    type="text",
                    position=k,
                )
                for k in (1, 0)  # stored out of order: kept in the relationship's order
            )
    return [f"db_sc{n}" for n in range(3)]


@contextmanager
def counted(store: Store) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def _names(cache: SchemaCache, store: Store, database_id: str) -> list[str]:
    with store.transaction() as session:
        database = session.get_one(Database, database_id)
        cache.attach(session, database)
        return [prop.name for prop in database.properties]


def test_the_properties_are_read_once_per_tag(store: Store, databases: list[str]) -> None:
    cache = SchemaCache()
    assert _names(cache, store, databases[0]) == ["P0", "P1"]
    with store.transaction() as session, counted(store) as statements:
        database = session.get_one(Database, databases[0])
        cache.attach(session, database)
        assert [prop.name for prop in database.properties] == ["P0", "P1"]
    assert [s for s in statements if "properties" in s] == []
    assert _names(cache, store, databases[2]) == []  # none: the tag still comes back


def test_a_change_anywhere_is_seen_next_time(store: Store, databases: list[str]) -> None:
    cache = SchemaCache()
    assert _names(cache, store, databases[0]) == ["P0", "P1"]
    with store.transaction() as session:  # as another process would: not through the cache
        session.get_one(Property, "p0_1").name = "Renamed"
    assert _names(cache, store, databases[0]) == ["P0", "Renamed"]


def test_the_requests_own_uncommitted_change_is_seen(store: Store, databases: list[str]) -> None:
    cache = SchemaCache()
    assert _names(cache, store, databases[0]) == ["P0", "P1"]
    with store.sessions() as session, session.begin():
        session.get_one(Property, "p0_0").name = "Mine"
        session.flush()
        database = session.get_one(Database, databases[0])
        cache.attach(session, database)
        assert [prop.name for prop in database.properties] == ["Mine", "P1"]
        session.rollback()
    assert _names(cache, store, databases[0]) == ["P0", "P1"]


def test_kept_properties_stay_out_of_the_requests_session(
    store: Store, databases: list[str]
) -> None:
    cache = SchemaCache()
    kept = []
    for _ in range(2):
        with store.transaction() as session:
            database = session.get_one(Database, databases[0])
            cache.attach(session, database)
            kept.append(list(database.properties))
            assert all(prop not in session for prop in database.properties)
    assert [id(p) for p in kept[0]] == [id(p) for p in kept[1]]  # one copy per process


def test_the_least_recently_used_database_goes_first(store: Store, databases: list[str]) -> None:
    cache = SchemaCache(size=1)
    _names(cache, store, databases[0])
    _names(cache, store, databases[1])
    with counted(store) as statements:
        assert _names(cache, store, databases[0]) == ["P0", "P1"]
    assert any("properties" in s for s in statements)
