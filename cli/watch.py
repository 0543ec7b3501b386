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
@click.option(
    "--url",
    envvar="AUTOFILL_URL",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The API's address (AUTOFILL_URL)",
)
@click.option("--token", envvar="AUTOFILL_TOKEN", required=True, help="API token (AUTOFILL_TOKEN)")
@click.option(
    "--after", type=click.IntRange(min=0), default=None, help="Replay events after this id."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after N s."
)
def watch(database: str, url: str, token: str, after: int | None, timeout: float | None) -> None:
    """Print DATABASE's cell changes as they happen (Ctrl-C to stop)."""
    console = Console()
    headers = {"Authorization": f"Bearer {token}"}
    ends = time.monotonic() + timeout if timeout is not None else None
    with httpx2.Client(base_url=url.rstrip("/"), headers=headers, timeout=30.0) as client:
        info = _get(client, f"/v1/databases/{database}")
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
                    _check(response)
                    for event in httpx2.EventSource(response):
                        if event.event != "cell" or not event.data:
                            continue
                        data = event.json()
                        assert isinstance(data, dict)
                        console.print(_line(data, names))
                        last = int(data["id"])
                        failures = 0
            except (httpx2.TransportError, httpx2.SSEError) as exc:
                failures += 1
                console.print(f"[dim]connection lost ({exc}); reconnecting…[/]")
                time.sleep(min(0.5 * 2**failures, 10.0))


def _get(client: httpx2.Client, path: str) -> Any:
    try:
        response = client.get(path)
    except httpx2.TransportError as exc:
        raise click.ClickException(f"cannot reach {client.base_url}: {exc}") from None
    _check(response)
    return response.json()


def _check(response: httpx2.Response) -> None:
    if response.status_code >= 400:
        response.read()
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise click.ClickException(f"HTTP {response.status_code}: {message}")


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
