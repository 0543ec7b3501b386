"""`autofill models`: the model catalogue — capabilities, prices, status — as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from autofill.llm import ModelInfo, RetiredModel, catalogue

_TYPED = {"json_schema": "schema", "output_format": "format", "tool": "tool", "prompt": "prompt"}


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Every field of every entry, as JSON")
@click.option("--retired", is_flag=True, help="Also list retired models and their replacements")
@click.option("--provider", type=click.Choice(["openai", "anthropic", "compat", "sim"]))
def models(as_json: bool, retired: bool, provider: str | None) -> None:
    """The models AI columns can use: status (ends: deprecated, with its shutdown date), window,
    output limit, prices (USD per million tokens: input / cached input / output), whether
    Autofill's calls reason (no, off, or the effort sent), how typed answers are asked for
    (schema: json_schema strict; format: output_config.format; tool: a forced tool). Add or
    correct one with AUTOFILL_MODEL_CATALOGUE."""
    try:
        entries = list(catalogue())
    except (OSError, ValueError) as exc:  # an operator's catalogue file that does not load
        raise click.ClickException(f"AUTOFILL_MODEL_CATALOGUE: {exc}") from None
    rows = [
        (name, info)
        for name, info in entries
        if (provider is None or name.startswith(provider + ":"))
        and (retired or (isinstance(info, ModelInfo) and not info.past_retirement))
    ]
    if as_json:
        click.echo(json.dumps([_as_json(name, info) for name, info in rows], indent=2))
        return
    console = Console()
    for kind in ("openai", "anthropic", "compat", "sim"):
        group = [(name, info) for name, info in rows if name.startswith(kind + ":")]
        if group:
            console.print(_table(kind, group))
    console.print(
        "Token counts are exact for OpenAI models (tiktoken) and estimates for the others "
        "(o200k × the family's factor). `autofill models --json` gives every field with its "
        "sources."
    )


def _as_json(name: str, info: ModelInfo | RetiredModel) -> dict[str, Any]:
    if isinstance(info, RetiredModel):
        return {"model": name, "status": "retired", **info.model_dump(mode="json")}
    fields = info.model_dump(mode="json")
    if info.past_retirement:
        fields["status"] = "retired"
    return {"model": name, **fields}


def _table(kind: str, rows: list[tuple[str, ModelInfo | RetiredModel]]) -> Table:
    table = Table(title=kind, title_justify="left", pad_edge=False, box=None, padding=(0, 1))
    table.add_column("model", no_wrap=True)
    for column in ("status", "window", "out", "$ in/cache/out", "thinks", "typed"):
        table.add_column(column, no_wrap=True)
    for name, info in rows:
        short = name.split(":", 1)[1]
        if isinstance(info, RetiredModel):
            when = info.retired_on.isoformat() if info.retired_on else ""
            table.add_row(short, f"retired {when}", "", "", "", "", f"→ {info.replacement}")
            continue
        status: str = info.status
        if info.past_retirement:
            status = f"retired {info.retires_on}"
        elif info.retires_on:
            status = f"ends {info.retires_on}"
        table.add_row(
            short,
            status,
            _short(info.context_window),
            _short(info.max_output_tokens),
            f"{info.input:g}/{info.cached_input:g}/{info.output:g}",
            _reasoning(info),
            _TYPED[info.structured_output],
        )
    return table


def _short(tokens: int) -> str:
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.3g}M"
    return f"{tokens / 1000:.3g}K" if tokens >= 1000 else str(tokens)


def _reasoning(info: ModelInfo) -> str:
    """What Autofill's calls do: no reasoning, reasoning turned off (effort none), reasoning at
    the effort sent, or reasoning only when a request asks (Autofill never does)."""
    if info.reasoning == "none":
        return "no"
    if info.reasoning == "on_request":
        return "if asked"
    if not info.reasons_at_lowest:
        return "off"
    return info.lowest_effort or "yes"
