"""The query of the cell events stream."""

from __future__ import annotations

from pydantic import Field

from autofill.schemas.common import StrictModel

# Positions are 64-bit integers in the database: a larger one is no position this stream sent.
MAX_POSITION = 2**63 - 1


class EventsQuery(StrictModel):
    after: int | None = Field(
        default=None,
        ge=0,
        le=MAX_POSITION,
        description=(
            "Send events after this position (0: all retained); a Last-Event-ID header, "
            "sent when a client resumes, takes precedence. Default: only changes from now on"
        ),
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        description="Close the stream after this many seconds (default: stay open)",
    )
