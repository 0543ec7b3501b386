"""Entry point of the `autofill` console script."""

from __future__ import annotations

import click

from autofill.config import SettingsError, get_settings
from autofill.logs import configure_logging
from cli.db import db
from cli.demo import demo
from cli.evals import evals
from cli.fill import fill
from cli.llm_sim import llm_sim
from cli.models import models
from cli.prompts import prompts
from cli.serve import serve
from cli.watch import watch
from cli.worker import dispatcher, worker
from cli.workspace import token, workspace


@click.group()
@click.version_option(package_name="autofill")
def main() -> None:
    """Autofill: AI columns that fill themselves, self-hosted."""
    try:
        settings = get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings.log_level)


for command in (
    workspace,
    token,
    db,
    serve,
    worker,
    dispatcher,
    watch,
    fill,
    demo,
    llm_sim,
    models,
    prompts,
    evals,
):
    main.add_command(command)
