"""`autofill demo`: a multilingual sample database with AI columns, through the real REST API."""

from __future__ import annotations

from typing import Any

import click
from flask.testing import FlaskClient
from rich.console import Console
from rich.table import Table

from autofill.logging import configure_logging
from autofill.services.workspaces import create_workspace
from cli.common import open_store, transaction
from cli.demo_data import DATABASE, ROWS

_STATE_STYLE = {
    "empty": "dim",
    "pending": "yellow",
    "filled": "green",
    "error": "red",
    "stale": "magenta",
    "overridden": "cyan",
}


@click.command()
def demo() -> None:
    """Create a sample database with AI columns and rows, and show their cells."""
    from api import create_app

    configure_logging("WARNING")  # the demo's own output is the show; request logs are noise
    console = Console()
    store = open_store()
    with transaction(store) as session:
        workspace, token = create_workspace(session, "Demo")
    client = create_app({"STORE": store, "MIGRATE": False}).test_client()
    api = _Api(client, token)

    database = api.call("POST", "/v1/databases", DATABASE)
    rows = [api.call("POST", f"/v1/databases/{database['id']}/rows", row) for row in ROWS]
    console.print(
        f"Created [bold]{database['name']}[/] with {len(rows)} rows in {len(_languages())} "
        "languages and 4 AI columns (summary, key info, classify, translate)."
    )

    # An edit no AI column reads (Status) leaves every cell as it was; a content edit does not.
    first = rows[0]["id"]
    api.call("PATCH", f"/v1/rows/{first}", {"properties": {"Status": "Done"}})
    api.call("PATCH", f"/v1/rows/{rows[1]['id']}", {"content": ROWS[1]["content"] + " Merci."})
    sentiment = next(p for p in database["properties"] if p["name"] == "Sentiment")
    api.call("PUT", f"/v1/rows/{first}/cells/{sentiment['id']}", {"value": "Positive"})

    listing = api.call("GET", f"/v1/databases/{database['id']}/rows")
    console.print(_table(database, listing["items"]))
    console.print(
        "Cells are [yellow]pending[/]: this build stores rows and AI columns but has no fill "
        "worker yet, so nothing is sent to a model. The Sentiment cell on the first row was "
        "written by a person ([cyan]overridden[/]) and the AI will leave it alone."
    )
    console.print(
        f"\nWorkspace {workspace.id}, API token (shown once):\n  {token}\n"
        "Browse it over REST: [bold]autofill serve[/], then\n"
        f"  curl -H 'Authorization: Bearer {token}' http://127.0.0.1:8000/v1/databases"
    )


class _Api:
    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.open(path, method=method, json=body, headers=self.headers)
        if response.status_code >= 400:
            raise click.ClickException(f"{method} {path} → {response.status_code}: {response.json}")
        return response.json


def _languages() -> set[str]:
    return {"en", "fr", "ja", "de", "es", "ko"}


def _table(database: dict[str, Any], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=database["name"], show_lines=False)
    props = database["properties"]
    for prop in props:
        table.add_column(prop["name"] + (" ✨" if prop["type"] == "ai" else ""), overflow="fold")
    for row in rows:
        cells = []
        for prop in props:
            if prop["type"] == "ai":
                cell = row["cells"][prop["name"]]
                shown = cell["value"] if cell["value"] is not None else cell["status"]
                cells.append(f"[{_STATE_STYLE[cell['status']]}]{shown}[/]")
            else:
                cells.append(str(row["properties"].get(prop["name"]) or ""))
        table.add_row(*cells)
    return table
