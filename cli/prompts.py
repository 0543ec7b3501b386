"""`autofill prompts ...`: check the prompt files, preview a column's prompt."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.panel import Panel

from autofill.db import Database, Property
from autofill.errors import NotFound
from autofill.kinds import PromptTask
from autofill.prompts import PromptLoadError, load_prompt
from autofill.schemas import PreviewRequest, RowCreate
from autofill.services import preview
from cli.common import open_store, transaction


@click.group()
def prompts() -> None:
    """The prompt library (prompts/*.yaml)."""


@prompts.command("check")
def check() -> None:
    """Load and validate every prompt file; exit 1 naming the file and field of the first error."""
    for task in PromptTask:
        try:
            loaded = load_prompt(task)
        except PromptLoadError as exc:
            raise click.ClickException(str(exc)) from None
        languages = sorted({example.language for example in loaded.prompt.examples})
        click.echo(f"{task:13} {len(loaded.prompt.examples):3} examples  {' '.join(languages)}")


@prompts.command("preview")
@click.argument("property_id")
@click.option("--row", "row_id", help="A row of the column's database")
@click.option("--content", help="Inline page content instead of a row ('-' reads stdin)")
@click.option("--json", "as_json", is_flag=True, help="Print the preview as JSON")
def preview_command(
    property_id: str, row_id: str | None, content: str | None, as_json: bool
) -> None:
    """Show the exact messages a fill of PROPERTY_ID would send, with tokens and cost."""
    if (row_id is None) == (content is None):
        raise click.UsageError("give exactly one of --row or --content")
    if content == "-":
        content = sys.stdin.read()
    with transaction(open_store()) as session:
        prop = session.get(Property, property_id)
        if prop is None:
            raise NotFound(f"no property {property_id!r}")
        database = session.get(Database, prop.database_id)
        assert database is not None
        body = PreviewRequest(
            row_id=row_id, row=RowCreate(content=content) if content is not None else None
        )
        result = preview(session, database.workspace_id, database, prop, body)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    console = Console()
    for message in result.messages:
        title = message.role + ("  · cache boundary" if message.cache_boundary else "")
        console.print(Panel(message.content, title=title, title_align="left", expand=True))
    console.print(
        f"[bold]{result.model}[/]  {result.prompt_version}  language={result.language or '?'}  "
        f"examples={len(result.examples)}\n"
        f"input {result.input_tokens:,} ({result.input_tokens_source}) / budget "
        f"{result.budget:,} tokens, answer room "
        f"{result.reserved_output_tokens:,}; truncated={result.truncated} "
        f"({result.cut_chars:,} chars cut)\n"
        f"cost ≈ ${result.estimated_cost_usd:.6f} (at most ${result.max_cost_usd:.6f})"
    )
