"""/v1/databases/{id}/events: cell changes as Server-Sent Events, resumable with Last-Event-ID.

The stream polls the events feed (autofill.fills.events) a few times a second in short
transactions of its own: no connection is held between polls, and the feed's positions follow
commit order, so a client that reconnects with the last id it saw misses nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, request

from api.endpoint import Ctx, endpoint, store
from autofill.db import Store
from autofill.errors import InvalidInput
from autofill.schemas import MAX_POSITION, EventsQuery
from autofill.services import events as event_feed
from autofill.services import get_database

bp = Blueprint("events", __name__, url_prefix="/v1/databases")
TAG = "events"
POLL_S = 0.25
KEEPALIVE_S = 15.0


@bp.get("/<database_id>/events")
@endpoint(
    summary="Stream the database's cell changes (Server-Sent Events; resume with Last-Event-ID)",
    tag=TAG,
    query=EventsQuery,
    stream="text/event-stream",
    errors=(404, 422),
)
def stream(ctx: Ctx, database_id: str, query: EventsQuery) -> Response:
    database = get_database(ctx.session, ctx.workspace_id, database_id)
    # A reconnecting EventSource repeats its URL (with `after`) and adds Last-Event-ID: the
    # header is the later, better-informed position, so it wins.
    resumed = _last_event_id()
    after = resumed if resumed is not None else query.after
    if after is None:
        after = event_feed.last_position(ctx.session, database.id)
    generator = _events(store(), database.id, after, query.timeout)
    return Response(
        generator,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID")
    if raw is None or raw.strip() == "":
        return None
    if not raw.strip().isdigit() or int(raw) > MAX_POSITION:
        raise InvalidInput.field("Last-Event-ID", "must be an event id this stream sent")
    return int(raw)


def _events(source: Store, database_id: str, after: int, timeout: float | None) -> Iterator[str]:
    ends = time.monotonic() + timeout if timeout is not None else None
    quiet_since = time.monotonic()
    yield f"retry: 1000\n: stream of cell changes after {after}\n\n"
    while ends is None or time.monotonic() < ends:
        batch = list(event_feed.changes_after(source, database_id, after))
        for position, data in batch:
            after = position
            payload = json.dumps({"id": position, **data}, ensure_ascii=False)
            yield f"id: {position}\nevent: cell\ndata: {payload}\n\n"
        if batch:
            quiet_since = time.monotonic()
            continue
        if time.monotonic() - quiet_since > KEEPALIVE_S:
            quiet_since = time.monotonic()
            yield ": keep-alive\n\n"  # also how a closed client is noticed
        time.sleep(POLL_S)
