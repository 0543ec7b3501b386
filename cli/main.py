"""Entry point of the `autofill` console script.

Commands are imported when they run, not before: `autofill --help` and a command that needs
no model SDK do not pay for importing every command's dependencies (the SDKs, tiktoken,
SQLAlchemy) first. ``COMMANDS`` names each command's module and its one-line help, so the help
lists them without importing any (tests/cli keep the lines equal to the commands' own).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# name → (module, attribute, one-line help shown by `autofill --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "workspace": (
        "cli.workspace",
        "workspace",
        "Workspaces: each has its own databases and API tokens.",
    ),
    "token": ("cli.workspace", "token", "API tokens."),
    "db": ("cli.db", "db", "The database schema (Alembic migrations)."),
    "serve": (
        "cli.serve",
        "serve",
        "Run the REST API (and, with no broker configured, the fills too).",
    ),
    "worker": ("cli.worker", "worker", "Start a Celery worker that fills cells."),
    "dispatcher": (
        "cli.worker",
        "dispatcher",
        "Send due fills from the outbox to the workers, and re-send what got lost.",
    ),
    "watch": (
        "cli.watch",
        "watch",
        "Print DATABASE's cell changes as they happen (Ctrl-C to stop).",
    ),
    "fill": (
        "cli.fill",
        "fill",
        "Fill the AI column PROPERTY's cells in bulk (or estimate what that would cost).",
    ),
    "demo": (
        "cli.demo",
        "demo",
        "Create a sample database with AI columns, watch its cells fill, edit rows, and watch "
        "only the...",
    ),
    "llm-sim": ("cli.llm_sim", "llm_sim", "Serve simulated OpenAI and Anthropic APIs."),
    "models": (
        "cli.models",
        "models",
        "The models AI columns can use: status (ends: deprecated, with its shutdown date), "
        "window, output...",
    ),
    "prompts": ("cli.prompts", "prompts", "The prompt library (prompts/*.yaml)."),
    "evals": (
        "cli.evals",
        "evals",
        "Prompt regression evals: cases in evals/cases, checks, runs, baseline and gate.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = COMMANDS.get(cmd_name)
        if found is None:
            return None
        module, attribute, _ = found
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        # A setting found wrong while a command runs (a data directory this user cannot
        # write) is a message and exit code 1, as one found at start is, not a traceback.
        from autofill.config import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])


@click.group(cls=LazyGroup)
@click.version_option(package_name="autofill")
def main() -> None:
    """Autofill: AI columns that fill themselves, self-hosted."""
    from autofill.config import SettingsError, get_settings
    from autofill.logs import configure_logging

    try:
        settings = get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings.log_level)
