"""Bulk fills of one AI column, as the API offers them: estimate, start, cancel."""

from __future__ import annotations

from sqlalchemy.orm import Session

from autofill.db import Database, FillRun, Property
from autofill.fills import Estimate, economy, runs
from autofill.kinds import FillMode, Scope

__all__ = ["Estimate", "cancel", "estimate", "start"]


def estimate(session: Session, database: Database, prop: Property, scope: Scope) -> Estimate:
    """What the run would send and cost, built by the fill's own code; nothing is written."""
    return runs.estimate(session, database, prop, scope)


def start(
    session: Session,
    database: Database,
    prop: Property,
    scope: Scope,
    mode: FillMode = FillMode.NOW,
) -> FillRun:
    return runs.start(session, database, prop, scope, mode)


def cancel(session: Session, run: FillRun) -> FillRun:
    """Cells not started are dropped; an economy run's batches not yet sent are dropped and
    the provider is asked to cancel the others (by the batcher, right after)."""
    cancelled = runs.cancel(session, run)
    economy.cancel_run_batches(session, run.id)
    return cancelled
