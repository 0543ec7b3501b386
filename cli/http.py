"""What the commands that talk to a running server share: its address and token as options,
and its errors as a CLI message with a non-zero exit (never a traceback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
import httpx2

F = TypeVar("F", bound=Callable[..., Any])


def server_options(command: F) -> F:
    command = click.option(
        "--token", envvar="AUTOFILL_TOKEN", required=True, help="API token (AUTOFILL_TOKEN)"
    )(command)
    return click.option(
        "--url",
        envvar="AUTOFILL_URL",
        default="http://127.0.0.1:8000",
        show_default=True,
        help="The API's address (AUTOFILL_URL)",
    )(command)


def client(url: str, token: str) -> httpx2.Client:
    return httpx2.Client(
        base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=30.0
    )


def call(client: httpx2.Client, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = client.request(method, path, **kwargs)
    except httpx2.TransportError as exc:
        raise click.ClickException(f"cannot reach {client.base_url}: {exc}") from None
    check(response)
    return response.json()


def check(response: httpx2.Response) -> None:
    if response.status_code >= 400:
        response.read()
        try:
            error = response.json()["error"]
            message = error["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise click.ClickException(f"HTTP {response.status_code}: {message}")
