"""`autofill demo`: a multilingual sample database whose AI cells fill themselves, live.

Runs the API, the dispatcher and a worker in this one process (embedded mode), on whatever
store and broker are configured: SQLite and Celery's in-memory transport by default. Answers
come from a provider when a key is set, else from the LLM simulator, and the demo says which.
"""

from __future__ import annotations

import time
from typing import Any

import click
from flask.testing import FlaskClient
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from autofill.config import Settings, get_settings, use_settings
from autofill.llm.simulator import SimConfig, Simulator
from autofill.logs import configure_logging
from autofill.services import create_workspace
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


def _provider(settings: Settings) -> tuple[str, str] | None:
    """A live model when a key is set: (model reference, what to tell the user)."""
    if settings.openai_api_key:
        return "openai:gpt-6-luna", "OpenAI (OPENAI_API_KEY is set)"
    if settings.anthropic_api_key:
        return "anthropic:claude-haiku-5-5", "Anthropic (ANTHROPIC_API_KEY is set)"
    return None


@click.command()
@click.option(
    "--timeout", default=120.0, show_default=True, help="Give up waiting for fills after (s)."
)
def demo(timeout: float) -> None:
    """Create a sample database with AI columns, watch its cells fill, edit rows, and watch
    only the affected cells refill."""
    from api import create_app
    from worker import embedded

    configure_logging("WARNING")  # the demo's own output is the show; request logs are noise
    console = Console()
    settings = get_settings().model_copy(update={"debounce_s": 0.3})
    simulator: Simulator | None = None
    provider = _provider(settings)
    if provider is None:
        simulator = Simulator(SimConfig(latency_ms=250, jitter=0.4)).start()
        settings = settings.model_copy(update={"sim_url": simulator.openai_base_url})
        model = "sim:sim-1"
        console.print(
            "[bold yellow]No provider key set[/] (OPENAI_API_KEY or ANTHROPIC_API_KEY): "
            "answers come from the built-in LLM [bold]simulator[/] and are marked "
            f"{escape(SIM_MARK)}. They are not a model's."
        )
    else:
        model, said = provider
        console.print(f"Answers come from {said}: model [bold]{model}[/].")

    use_settings(settings)  # the fills this process runs read the simulator's address here
    store = open_store(settings)
    with transaction(store) as session:
        workspace, token = create_workspace(session, "Demo")
        workspace.default_model = model
    client = create_app({"STORE": store, "SETTINGS": settings, "MIGRATE": False}).test_client()
    api = _Api(client, token)
    try:
        with embedded(store, settings, concurrency=8):
            _show(console, api, timeout)
    finally:
        if simulator is not None:
            simulator.stop()
    console.print(
        f"\nWorkspace {workspace.id}, API token (shown once):\n  {token}\n"
        "Browse it over REST: [bold]autofill serve[/], then\n"
        f"  curl -H 'Authorization: Bearer {token}' http://127.0.0.1:8000/v1/databases"
    )


def _show(console: Console, api: _Api, timeout: float) -> None:
    database = api.call("POST", "/v1/databases", DATABASE)
    rows = [api.call("POST", f"/v1/databases/{database['id']}/rows", row) for row in ROWS]
    console.print(
        f"Created [bold]{database['name']}[/] with {len(rows)} rows in {len(_languages())} "
        "languages and 4 AI columns (summary, key info, classify, translate). Filling:"
    )
    _watch(console, api, database, timeout)

    # Edits: one no AI column reads, a typo made and undone within the debounce window, a
    # rewrite, and a person's override. Only the rewrite costs model calls.
    first, second, fourth = rows[0]["id"], rows[1]["id"], rows[3]["id"]
    sentiment = next(p for p in database["properties"] if p["name"] == "Sentiment")
    api.call("PATCH", f"/v1/rows/{first}", {"properties": {"Status": "Done"}})
    api.call("PATCH", f"/v1/rows/{second}", {"content": ROWS[1]["content"] + " Mrci."})
    api.call("PATCH", f"/v1/rows/{second}", {"content": ROWS[1]["content"]})
    api.call(
        "PATCH",
        f"/v1/rows/{fourth}",
        {
            "content": "Update: Seit dem Zertifikatswechsel funktioniert SSO wieder. "
            "Danke für die schnelle Hilfe!"
        },
    )
    # The person picks another answer than the AI's, so the change shows.
    answered = api.call("GET", f"/v1/rows/{first}")["cells"]["Sentiment"]["value"]
    options = sentiment["ai"]["output"]["options"]
    chosen = next(o for o in options if o != answered)
    api.call("PUT", f"/v1/rows/{first}/cells/{sentiment['id']}", {"value": chosen})
    console.print(
        "\nEdited: a Status change (no AI column reads it), a typo made and undone, a page "
        "rewritten (German ticket), and Sentiment on the first row changed by a person from "
        f"{escape(str(answered))} to [bold]{escape(chosen)}[/] (the AI leaves it alone now):"
    )
    _watch(console, api, database, timeout)

    usage = api.call("GET", "/v1/workspace")["usage"]
    summary = Table(title="What it cost", show_header=False)
    for label, value in (
        ("fills", usage["fills"]),
        ("model calls", usage["model_calls"]),
        ("tokens in / out", f"{usage['tokens_in']:,} / {usage['tokens_out']:,}"),
        ("cost", f"${usage['cost_usd']:.4f}"),
        ("fills avoided (inputs unchanged)", usage["fills_avoided"]),
    ):
        summary.add_row(label, str(value))
    console.print(summary)


def _watch(console: Console, api: _Api, database: dict[str, Any], timeout: float) -> None:
    """Until no cell is pending (or the timeout passes): a one-line count while the cells
    fill, then the table once. A live table taller than the terminal cannot be redrawn in
    place — its title and top border were printed again with every frame."""

    def rows() -> list[dict[str, Any]]:
        return list(api.call("GET", f"/v1/databases/{database['id']}/rows")["items"])

    def progress(current: list[dict[str, Any]]) -> str:
        cells = [cell for row in current for cell in row["cells"].values()]
        done = sum(cell["status"] != "pending" for cell in cells)
        return f"[dim]{done} of {len(cells)} AI cells filled…[/]"

    deadline = time.monotonic() + timeout
    current = rows()
    with Live(progress(current), console=console, refresh_per_second=8, transient=True) as live:
        while time.monotonic() < deadline and _pending(current):
            time.sleep(0.25)
            current = rows()
            live.update(progress(current))
    console.print(_table(database, current))
    console.print()
    if _pending(current):
        raise click.ClickException(
            f"cells still pending after {timeout:.0f} s; is the model reachable?"
        )


def _pending(rows: list[dict[str, Any]]) -> bool:
    return any(cell["status"] == "pending" for row in rows for cell in row["cells"].values())


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
    table = Table(title=database["name"], show_lines=True)
    props = database["properties"]
    for prop in props:
        table.add_column(prop["name"] + (" ✨" if prop["type"] == "ai" else ""), overflow="fold")
    for row in rows:
        cells = []
        for prop in props:
            if prop["type"] == "ai":
                cell = row["cells"][prop["name"]]
                shown = _shown(cell["value"]) if cell["value"] is not None else cell["status"]
                shown = _marked(shown, cell)
                cells.append(f"[{_STATE_STYLE[cell['status']]}]{_escape(shown)}[/]")
            else:
                cells.append(_escape(str(row["properties"].get(prop["name"]) or "")))
        table.add_row(*cells)
    return table


def _shown(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 90 else text[:89] + "…"


SIM_MARK = "[sim]"


def _marked(shown: str, cell: dict[str, Any]) -> str:
    """A simulated answer says so whatever its type: a select's or a number's value cannot
    carry the simulator's own "[sim]" prefix (it must be one of the options), so the table
    adds it from the cell's provenance."""
    model = (cell.get("provenance") or {}).get("model") or ""
    if model.startswith("sim:") and not shown.startswith(SIM_MARK):
        return f"{SIM_MARK} {shown}"
    return shown


def _escape(text: str) -> str:
    return escape(text)  # values may hold "[sim]" and other brackets rich would eat
