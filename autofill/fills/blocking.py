"""Chains of AI columns: a cell waits while an AI cell it reads (directly or through others)
has a fill due on the same row, so it runs once, on the new value, not on the old one first."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from autofill.db import OutboxEntry, Property


def upstream_ai(prop: Property, properties: Iterable[Property]) -> set[str]:
    """Ids of the AI columns ``prop`` reads, directly or through other AI columns."""
    ai = {p.id: p for p in properties if p.ai is not None}
    seen: set[str] = set()
    stack = [prop.id]
    while stack:
        current = ai.get(stack.pop())
        if current is None or current.ai is None:
            continue
        for input_id in current.ai.inputs:
            if input_id in ai and input_id not in seen and input_id != prop.id:
                seen.add(input_id)
                stack.append(input_id)
    return seen


def any_chain(properties: Iterable[Property]) -> bool:
    """Whether some AI column reads another AI column: only then can a cell wait (be blocked)."""
    ai = [p for p in properties if p.ai is not None]
    ai_ids = {p.id for p in ai}
    return any(ai_ids.intersection(p.ai.inputs) for p in ai if p.ai is not None)


def is_blocked(session: Session, row_id: str, upstream: set[str]) -> bool:
    if not upstream:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(OutboxEntry.row_id == row_id, OutboxEntry.property_id.in_(upstream))
            )
        )
    )
