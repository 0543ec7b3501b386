"""Change-driven fills: the outbox of due cells, the dispatcher that hands them to a queue, the
fill itself, bulk runs, budgets and the feed of cell changes. No Flask, no Celery: the worker
task and the services call into this package with ids.

What other packages use comes from here: the functions below, and the modules the services
compose (cell_state, changes, economy, events, outbox, runs, usage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autofill.faces import lazy_face

if TYPE_CHECKING:
    from autofill.fills import cell_state, changes, economy, events, outbox, runs, usage
    from autofill.fills.dispatch import Dispatcher
    from autofill.fills.event_hub import EventHub
    from autofill.fills.events import record_cell_events
    from autofill.fills.fill import fill_cell, warm_up
    from autofill.fills.handed import run_handed_fill
    from autofill.fills.handed_group import Calls, run_handed_group
    from autofill.fills.limits import shared_limiter
    from autofill.fills.runs import Estimate

__all__ = [
    "Calls",
    "Dispatcher",
    "Estimate",
    "EventHub",
    "cell_state",
    "changes",
    "economy",
    "events",
    "fill_cell",
    "outbox",
    "record_cell_events",
    "run_handed_fill",
    "run_handed_group",
    "runs",
    "shared_limiter",
    "usage",
    "warm_up",
]

__getattr__ = lazy_face(__name__, __file__)
