"""Workspaces and their API tokens (a workspace's settings and spending: workspace_settings).

Kept apart from the budgets so that what every request and `autofill workspace`/`token`
command needs (authenticate, list, create) imports only the storage models."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from autofill.db import ApiToken, Workspace, utcnow
from autofill.errors import NotFound, Unauthorized
from autofill.ids import new_id

TOKEN_PREFIX = "af_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_workspace(session: Session, name: str) -> tuple[Workspace, str]:
    workspace = Workspace(id=new_id("ws"), name=name)
    session.add(workspace)
    session.flush()
    return workspace, create_token(session, workspace.id, name="default")


def create_token(session: Session, workspace_id: str, *, name: str = "") -> str:
    """Make a token and return it in clear: the only time it is ever shown."""
    if session.get(Workspace, workspace_id) is None:
        raise NotFound(f"no workspace {workspace_id!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            id=new_id("tok"),
            workspace_id=workspace_id,
            name=name,
            token_hash=hash_token(token),
            prefix=token[:10],
        )
    )
    session.flush()
    return token


def revoke_token(session: Session, token_id: str) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFound(f"no token {token_id!r}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
    return record


def authenticate(session: Session, token: str) -> Workspace:
    """The workspace a bearer token belongs to; Unauthorized if unknown or revoked."""
    digest = hash_token(token)
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # The lookup is by a hash of the secret, so its timing reveals nothing about the token;
    # compare_digest keeps the final check constant-time as well.
    if record is None or not hmac.compare_digest(record.token_hash, digest):
        raise Unauthorized("unknown API token")
    if record.revoked_at is not None:
        raise Unauthorized("this API token was revoked")
    workspace = session.get(Workspace, record.workspace_id)
    if workspace is None:  # pragma: no cover - cascades make this unreachable
        raise Unauthorized("unknown API token")
    return workspace


def list_workspaces(session: Session) -> list[tuple[Workspace, list[ApiToken]]]:
    result = []
    for workspace in session.scalars(select(Workspace).order_by(Workspace.id)):
        tokens = list(
            session.scalars(
                select(ApiToken).where(ApiToken.workspace_id == workspace.id).order_by(ApiToken.id)
            )
        )
        result.append((workspace, tokens))
    return result
