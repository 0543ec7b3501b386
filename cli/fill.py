"""`autofill fill PROPERTY`: fill an AI column in bulk through a running server — now, or in
economy through the provider's batch API at its batch price — or only estimate both
(``--dry-run``); ``--wait`` follows the run to its end."""

from __future__ import annotations

import time
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from cli import http
from cli.http import server_options


@click.command()
@click.argument("property_id", metavar="PROPERTY")
@click.option(
    "--scope",
    type=click.Choice(["empty", "stale", "error", "all"]),
    default="empty",
    show_default=True,
    help="Which cells: empty, out of date, in error, or all the AI owns (refilled).",
)
@click.option(
    "--mode",
    type=click.Choice(["now", "economy"]),
    default="now",
    show_default=True,
    help="now: live calls; economy: the provider's batch API, at its batch price, done within "
    "its window (24 h at most).",
)
@click.option(
    "--dry-run", is_flag=True, help="Estimate tokens and cost, now and economy; fill nothing."
)
@click.option("--wait", is_flag=True, help="Follow the run until it ends.")
@server_options
def fill(
    property_id: str, scope: str, mode: str, dry_run: bool, wait: bool, url: str, token: str
) -> None:
    """Fill the AI column PROPERTY's cells in bulk (or estimate what that would cost)."""
    console = Console()
    path = f"/v1/properties/{property_id}/fill"
    with http.client(url, token) as client:
        if dry_run:
            estimate = http.call(client, "POST", path, json={"scope": scope, "dry_run": True})
            console.print(_estimate_table(estimate))
            return
        run = http.call(client, "POST", path, json={"scope": scope, "mode": mode})
        console.print(f"Run {run['id']} started ({run['mode']}): {run['total']} cells")
        if not wait:
            return
        shown = ""
        while run["state"] == "running":
            time.sleep(1.0 if run["mode"] == "now" else 3.0)
            run = http.call(client, "GET", f"/v1/runs/{run['id']}")
            line = _progress(run)
            if line != shown:
                console.print(line)
                shown = line
        console.print(f"{run['state'].capitalize()}: {_progress(run)}")


def _money(usd: float) -> str:
    return f"${usd:.4f}" if usd < 0.01 else f"${usd:,.2f}"


def _estimate_table(e: dict[str, Any]) -> Table:
    table = Table(title=f"{e['rows']:,} cells ({e['scope']})", show_header=True)
    table.add_column("mode")
    table.add_column("expected cost", justify="right")
    table.add_column("at most", justify="right")
    table.add_column("done")
    table.add_row("now", _money(e["cost_usd"]), _money(e["max_cost_usd"]), "in minutes")
    economy = e.get("economy")
    if economy:
        table.add_row(
            f"economy ({round(economy['discount'] * 100)} % off, "
            f"{round(economy['cached_share'] * 100)} % of input cached)",
            _money(economy["cost_usd"]),
            _money(economy["max_cost_usd"]),
            f"usually within {_hours(economy['typical_hours'])}, "
            f"at most {_hours(economy['window_hours'])}",
        )
    else:
        table.add_row("economy", "—", "—", str(e.get("economy_unavailable") or "unavailable"))
    table.caption = (
        f"{e['input_tokens']:,} input tokens ({e['input_tokens_source']}), "
        f"about {e['output_tokens']:,} output; {e['overridden']} written by a person left out"
    )
    return table


def _hours(hours: float) -> str:
    return f"{max(round(hours * 60), 1)} min" if hours < 1 else f"{hours:g} h"


def _progress(run: dict[str, Any]) -> str:
    line = (
        f"{run['done']:,} filled, {run['failed']:,} failed, {run['skipped']:,} up to date "
        f"of {run['total']:,} · {run['model_calls']:,} calls · {_money(run['cost_usd'])}"
    )
    batch = run.get("batch")
    if batch:
        line += (
            f" · at the provider: {batch['submitted']:,} submitted, "
            f"{batch['in_provider_queue']:,} in its queue"
        )
    return line
