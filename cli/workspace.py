"""`autofill workspace ...` and `autofill token ...`"""

from __future__ import annotations

import click
from pydantic import TypeAdapter, ValidationError

from autofill.schemas import Name
from autofill.services import workspaces
from cli.common import open_store, transaction

_name = TypeAdapter(Name)


@click.group()
def workspace() -> None:
    """Workspaces: each has its own databases and API tokens."""


@workspace.command("create")
@click.argument("name")
def create(name: str) -> None:
    """Create a workspace and print its first API token (shown only once)."""
    try:
        name = _name.validate_python(name)
    except ValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"], param_hint="NAME") from None
    with transaction(open_store()) as session:
        created, token = workspaces.create_workspace(session, name)
    click.echo(f"workspace {created.id} ({created.name})", err=True)
    click.echo("API token (store it now; it is not shown again):", err=True)
    click.echo(token)


@workspace.command("list")
def list_() -> None:
    """List workspaces and their tokens (prefixes only)."""
    with transaction(open_store()) as session:
        for item, tokens in workspaces.list_workspaces(session):
            click.echo(f"{item.id}  {item.name}")
            for token in tokens:
                state = "revoked" if token.revoked_at else "active"
                click.echo(f"    {token.id}  {token.prefix}…  {token.name or '-'}  {state}")


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("workspace_id")
@click.option("--name", default="", help="A label to tell tokens apart")
def token_create(workspace_id: str, name: str) -> None:
    """Create another token for WORKSPACE_ID and print it."""
    with transaction(open_store()) as session:
        click.echo(workspaces.create_token(session, workspace_id, name=name))


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke TOKEN_ID (see `autofill workspace list`): it stops working at once."""
    with transaction(open_store()) as session:
        record = workspaces.revoke_token(session, token_id)
    click.echo(f"revoked {record.id} ({record.prefix}…)")
