"""The states of an outbox entry (a due fill)."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    WAITING = "waiting"  # due at ``due_at``; the dispatcher will send it
    BLOCKED = "blocked"  # an upstream AI cell of the same row is due first
    DISPATCHED = "dispatched"  # sent to the queue, not yet started
    RUNNING = "running"  # a worker holds it until ``lease_until``
    PARKED = "parked"  # the workspace's budget is spent; raising it resumes the fill


class Reason(StrEnum):
    EDIT = "edit"  # a row's inputs changed
    UPSTREAM = "upstream"  # an AI cell this one reads got a new value
    CONFIG = "config"  # the column's prompt or model changed, or it was added
    REQUEST = "request"  # someone asked for this cell
    RUN = "run"  # a bulk fill
