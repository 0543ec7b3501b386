"""Many bulk fills in one transaction: one claim for the group, one record for the answers that
came back together.

A backfill's fills are alike and many; each paying its own two transactions (a commit, a fsync,
the row, entry, properties and cells read again) and its own queue message was a third of a
worker's CPU per fill. The dispatcher sends bulk fills in groups (autofill.fills.dispatch), and
a worker claims a group in one transaction and records its answers a few at a time.

Every rule of a single fill holds per fill: each one goes through the same ``_claim`` and
``_record`` (generation, lease, a person's edit, blocked chains, budgets, stale inputs). What
changes is the locking: the group's rows, then their outbox entries, are locked up front in
key order, before any counter, so two groups, or a group and a single writer (which locks its
row, its entry, then counters), never wait on each other in a cycle. If the group's
transaction fails for anything but a lost database, the caller runs its fills one by one, so
one bad fill costs only itself (autofill.fills.handed_group).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from autofill.config import Settings
from autofill.db import OutboxEntry, Row, Workspace
from autofill.fills.fill import (
    Claim,
    GroupReads,
    _claim,
    _record,
    database_properties,
    keep_page_languages,
)
from autofill.kinds import CONTENT_INPUT, Outcome
from autofill.language import page_language
from autofill.llm import Completion, FillFailed

# (row id, property id, generation): one fill, as the dispatcher sends it.
FillRef = tuple[str, str, int]
Answered = tuple[FillRef, Claim, Completion | FillFailed]


def claim_group(
    session: Session, settings: Settings, refs: Sequence[FillRef]
) -> list[Claim | Outcome]:
    """Each fill's claim (or why it does not go ahead), in the order of ``refs``."""
    reads = _lock(session, refs)
    detect_new_pages(session, refs, reads)
    claims = [_claim(session, settings, *ref, group=reads) for ref in refs]
    keep_page_languages(session, reads.languages)
    return claims


def detect_new_pages(session: Session, refs: Sequence[FillRef], reads: GroupReads) -> None:
    """The language of each page the group's fills read and no fill has detected yet, found one
    page after another before the claims, which then read it from the row as a later fill would.

    Why together: lingua's models are tens of megabytes of tables, and between two claims'
    other work (tokenizing, rendering, the ORM) they leave the CPU's caches. Measured by thread
    CPU time in a 100-in-flight backfill on an Intel Xeon (issue 21): 1.9–2.4 ms per page
    detected inside the claims, against 0.55 ms in a loop on an idle process; detected in a
    row, 1.9–2.3 ms for a group's first page and 1.0 ms for each one after it. The result is
    the same: the same function on the same text, kept on the row (``content_language``)
    exactly as a claim that detected it would keep it."""
    for row_id, property_id, generation in refs:
        # Locked and loaded by _lock: no statements.
        row = session.get(Row, row_id)
        entry = session.get(OutboxEntry, (row_id, property_id))
        if entry is None or entry.generation != generation:
            continue  # superseded: its claim goes no further
        if row is None or not row.content or row.content_language:
            continue
        properties = database_properties(session, row.database_id, reads)
        column = next((p for p in properties if p.id == property_id), None)
        if column is None or column.ai is None or CONTENT_INPUT not in column.ai.inputs:
            continue  # this fill does not read the page: its language is not needed here
        stored = page_language(row.content).stored()
        set_committed_value(row, "content_language", stored)
        reads.languages[row.id] = stored  # written with the group's (keep_page_languages)


def record_group(
    session: Session, settings: Settings, answered: Sequence[Answered]
) -> list[Outcome]:
    """Each answer recorded as a single fill's would be, in the order of ``answered``."""
    reads = _lock(session, [ref for ref, _, _ in answered])
    return [
        _record(session, settings, *ref, claim, result, reads) for ref, claim, result in answered
    ]


def _lock(session: Session, refs: Sequence[FillRef]) -> GroupReads:
    """Rows, then their entries, locked in key order and loaded into the session (the rows
    with their cells, and the entries' workspaces): each fill's ``_load`` and budget check
    then find them without a statement."""
    row_ids = sorted({row_id for row_id, _, _ in refs})
    rows = session.scalars(
        select(Row)
        .where(Row.id.in_(row_ids))
        .order_by(Row.id)
        .options(selectinload(Row.cells))
        .with_for_update(of=Row)
    ).all()
    entries = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.row_id.in_(row_ids))
        .order_by(OutboxEntry.row_id, OutboxEntry.property_id)
        .with_for_update()
    ).all()
    workspace_ids = {entry.workspace_id for entry in entries}
    workspaces = session.scalars(select(Workspace).where(Workspace.id.in_(workspace_ids))).all()
    return GroupReads(properties={}, held=[*rows, *entries, *workspaces])
