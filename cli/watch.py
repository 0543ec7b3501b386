"""`autofill watch DATABASE`: print a database's cell changes live, from the events stream.

Reconnects by itself after a dropped connection, resuming after the last event it printed
(Last-Event-ID), so nothing is missed or shown twice.
"""

from __future__ import annotations

import time
from typing import Any

import click
import httpx2
from rich.console import Console
from rich.markup import escape

from autofill.kinds import CellStatus
from cli import http
from cli.http import server_options

_STYLE: dict[str, str] = {
    CellStatus.EMPTY: "dim",
    CellStatus.PENDING: "yellow",
    CellStatus.FILLED: "green",
    CellStatus.ERROR: "red",
    CellStatus.STALE: "magenta",
    CellStatus.OVERRIDDEN: "cyan",
}


@click.command()
@click.argument("database")
@server_options
@click.option(
    "--after", type=click.IntRange(min=0), default=None, help="Replay events after this id."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after N s."
)
def watch(database: str, url: str, token: str, after: int | None, timeout: float | None) -> None:
    """Print DATABASE's cell changes as they happen (Ctrl-C to stop)."""
    console = Console()
    ends = time.monotonic() + timeout if timeout is not None else None
    with http.client(url, token) as client:
        info = http.call(client, "GET", f"/v1/databases/{database}")
        names = {prop["id"]: prop["name"] for prop in info["properties"]}
        console.print(f"Watching [bold]{escape(info['name'])}[/] ({database})")
        last, failures = after, 0
        while ends is None or time.monotonic() < ends:
            params: dict[str, Any] = {}
            if ends is not None:
                params["timeout"] = max(ends - time.monotonic(), 0.1)
            stream_headers = {}
            if last is not None:
                stream_headers["Last-Event-ID"] = str(last)
            try:
                with client.stream(
                    "GET",
                    f"/v1/databases/{database}/events",
                    params=params,
                    headers=stream_headers,
                    timeout=httpx2.Timeout(30.0, read=None),
                ) as response:
                    http.check(response)
                    for event in httpx2.EventSource(response):
                        if event.event not in ("cell", "run") or not event.data:
                            continue
                        data = event.json()
                        assert isinstance(data, dict)
                        show = _run_line if event.event == "run" else _line
                        console.print(show(data, names))
                        last = int(data["id"])
                        failures = 0
            except (httpx2.TransportError, httpx2.SSEError) as exc:
                failures += 1
                console.print(f"[dim]connection lost ({exc}); reconnecting…[/]")
                time.sleep(min(0.5 * 2**failures, 10.0))


def _line(data: dict[str, Any], names: dict[str, str]) -> str:
    status = str(data.get("status"))
    value = data.get("value")
    shown = "" if value is None else str(value)
    if len(shown) > 100:
        shown = shown[:99] + "…"
    if status == "error" and data.get("error"):
        shown = str(data["error"])[:100]
    prop = names.get(str(data.get("property_id")), str(data.get("property_id")))
    return (
        f"[dim]#{data['id']}[/] {data.get('row_id')} [bold]{escape(prop)}[/] "
        f"[{_STYLE.get(status, 'white')}]{status}[/] {escape(shown)}"
    )


def _run_line(data: dict[str, Any], names: dict[str, str]) -> str:
    prop = names.get(str(data.get("property_id")), str(data.get("property_id")))
    line = (
        f"[dim]#{data['id']}[/] run {data.get('run_id')} [bold]{escape(prop)}[/] "
        f"{data.get('mode')} {data.get('state')}: {data.get('done')} filled, "
        f"{data.get('failed')} failed of {data.get('total')}"
    )
    batch = data.get("batch")
    if isinstance(batch, dict):
        line += (
            f" · at the provider: {batch.get('submitted')} submitted, "
            f"{batch.get('in_provider_queue')} in its queue"
        )
    return line
