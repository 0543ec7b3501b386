"""/v1/databases/{id}/events: cell changes as Server-Sent Events, resumable with Last-Event-ID.

The stream reads the events feed (autofill.fills.events) in short transactions of its own, when
the process's event hub (autofill.fills.event_hub) says events were committed — within
milliseconds on PostgreSQL — and at a slow poll as the fallback (a few times a second on SQLite
or while the hub cannot listen). No connection is held between reads, and the feed's positions
follow commit order, so a client that reconnects with the last id it saw misses nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, request

from api.endpoint import Ctx, endpoint, event_hub, store
from autofill.db import Store
from autofill.errors import InvalidInput
from autofill.schemas import MAX_POSITION, EventsQuery
from autofill.services import EventHub, get_database
from autofill.services import events as event_feed

bp = Blueprint("events", __name__, url_prefix="/v1/databases")
TAG = "events"
POLL_S = 0.25  # without the hub's wake-ups
LISTENING_POLL_S = 2.0  # with them: only a missed notification waits this long
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
    hub = event_hub()
    hub.start()
    generator = _events(store(), hub, database.id, after, query.timeout)
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


def _events(
    source: Store, hub: EventHub, database_id: str, after: int, timeout: float | None
) -> Iterator[str]:
    ends = time.monotonic() + timeout if timeout is not None else None
    quiet_since = time.monotonic()
    yield f"retry: 1000\n: stream of cell changes after {after}\n\n"
    woken = False
    with hub.watching(database_id):
        while ends is None or time.monotonic() < ends:
            # Read before the feed, so a wake-up during the read is not lost.
            seen = hub.generation(database_id)
            # The hub positions the events before it wakes a stream; otherwise (no hub, a
            # wait that timed out) the reader does.
            stamp = not (woken and hub.listening)
            batch = list(event_feed.changes_after(source, database_id, after, stamp=stamp))
            for position, data in batch:
                after = position
                payload = json.dumps({"id": position, **data}, ensure_ascii=False)
                # ``cell``: an AI cell changed; ``run``: a bulk run moved (an economy run's
                # batches at the provider), with the same counts as GET /v1/runs/{id}.
                kind = "run" if data.get("event") == "run" else "cell"
                yield f"id: {position}\nevent: {kind}\ndata: {payload}\n\n"
            if batch:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since > KEEPALIVE_S:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"  # also how a closed client is noticed
            wait = LISTENING_POLL_S if hub.listening else POLL_S
            if ends is not None:
                wait = min(wait, max(ends - time.monotonic(), 0.0))
            woken = hub.wait(database_id, seen, wait) != seen
