"""Bulk fills of one AI column, as the API offers them: estimate, start, cancel."""

from __future__ import annotations

from sqlalchemy.orm import Session

from autofill.db import Database, FillRun, Property
from autofill.fills import Estimate, runs
from autofill.kinds import Scope

__all__ = ["Estimate", "cancel", "estimate", "start"]


def estimate(session: Session, database: Database, prop: Property, scope: Scope) -> Estimate:
    """What the run would send and cost, built by the fill's own code; nothing is written."""
    return runs.estimate(session, database, prop, scope)


def start(session: Session, database: Database, prop: Property, scope: Scope) -> FillRun:
    return runs.start(session, database, prop, scope)


def cancel(session: Session, run: FillRun) -> FillRun:
    return runs.cancel(session, run)
