"""Every flush that changes a database's properties renews its schema tag (models.Database),
whichever way the change is made; other changes leave it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from autofill.db import Database, Property, Store, Workspace


def _property(pid: str, position: int, **fields: object) -> Property:
    return Property(
        id=pid, name=pid.upper(), name_key=pid, type="text", position=position, **fields
    )


@pytest.fixture
def database_id(store: Store) -> str:
    with store.transaction() as session:
        session.add(Workspace(id="ws_tag", name="W"))
        session.flush()
        session.add(Database(id="db_tag", workspace_id="ws_tag", name="D"))
        session.flush()
        session.add_all(
            [_property("p1", 0, database_id="db_tag"), _property("p2", 1, database_id="db_tag")]
        )
    return "db_tag"


def _tag(store: Store, database_id: str) -> str:
    with store.transaction() as session:
        return session.get_one(Database, database_id).schema_tag


def _rename(session: Session) -> None:
    session.get_one(Property, "p1").name = "Renamed"


def _add_with_id(session: Session) -> None:
    session.add(_property("p3", 2, database_id="db_tag"))


def _append(session: Session) -> None:
    database = session.get_one(Database, "db_tag")  # held: the session keeps objects weakly
    database.properties.append(_property("p3", 2))
    session.flush()


def _delete(session: Session) -> None:
    session.delete(session.get_one(Property, "p2"))


def _remove_orphan(session: Session) -> None:
    database = session.get_one(Database, "db_tag")
    database.properties.remove(next(p for p in database.properties if p.id == "p2"))
    session.flush()


def _change_without_the_database_loaded(session: Session) -> None:
    prop = session.get_one(Property, "p1")
    prop.options = ["a", "b"]
    assert all(not isinstance(obj, Database) for obj in session.identity_map.values())


@pytest.mark.parametrize(
    "change",
    [_rename, _add_with_id, _append, _delete, _remove_orphan, _change_without_the_database_loaded],
)
def test_a_property_change_renews_the_tag(
    store: Store, database_id: str, change: Callable[[Session], None]
) -> None:
    before = _tag(store, database_id)
    with store.transaction() as session:
        change(session)
    after = _tag(store, database_id)
    assert after != before and after.startswith("sch_")


def test_other_changes_keep_the_tag(store: Store, database_id: str) -> None:
    before = _tag(store, database_id)
    with store.transaction() as session:
        session.get_one(Database, database_id).name = "Another name"
    assert _tag(store, database_id) == before


def test_a_change_rolled_back_leaves_no_tag_a_later_change_could_reuse(
    store: Store, database_id: str
) -> None:
    before = _tag(store, database_id)
    tags = []
    for _ in range(2):
        with store.sessions() as session, session.begin():
            _rename(session)
            session.flush()
            tags.append(session.get_one(Database, database_id).schema_tag)
            session.rollback()
    assert _tag(store, database_id) == before
    assert len({before, *tags}) == 3
