"""The web page's sign-in sessions (issue 24), kept in the database.

The cookie carries only a random session secret; the session row is found by its SHA-256 and
names the token that opened it. A session is worthless once it is ended (sign-out), its token
is revoked, it has not been used for ``idle_s``, or it is older than ``max_s`` — whatever the
cookie says, and however often it is replayed. The API token itself never leaves the server.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from autofill.db import ApiToken, WebSession, Workspace, utcnow
from autofill.errors import Unauthorized
from autofill.services.workspaces import authenticate, hash_token

# A session's last use is written at most this often: a page's many requests cost one write.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SignedIn:
    workspace: Workspace
    token_hash: str  # the opening token's, so a cookie's requests count against its limit


def open_session(session: Session, token: str, *, max_s: float) -> str:
    """A new session for a valid token (Unauthorized otherwise); returns its secret, for the
    cookie only."""
    workspace = authenticate(session, token)
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    assert record is not None  # authenticate found it
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id_hash=hash_token(secret),
            token_id=record.id,
            workspace_id=workspace.id,
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=max_s),
        )
    )
    return secret


def resume(session: Session, secret: str, *, idle_s: float) -> SignedIn:
    """Who a session secret signs in; Unauthorized if it is unknown, ended, idle too long,
    past its end, or its token was revoked."""
    found = session.execute(
        select(WebSession, ApiToken)
        .join(ApiToken, ApiToken.id == WebSession.token_id)
        .where(WebSession.id_hash == hash_token(secret))
    ).first()
    if found is None:
        raise Unauthorized("unknown session: sign in again")
    record, token = found
    now = utcnow()
    if record.ended_at is not None:
        raise Unauthorized("this session was ended: sign in again")
    if token.revoked_at is not None:
        raise Unauthorized("the token this session was opened with was revoked")
    if now >= record.expires_at or now - record.last_used_at >= timedelta(seconds=idle_s):
        record.ended_at = now
        raise Unauthorized("this session expired: sign in again")
    if now - record.last_used_at >= TOUCH_EVERY:
        record.last_used_at = now
    workspace = session.get(Workspace, record.workspace_id)
    assert workspace is not None  # cascades delete sessions with their workspace
    return SignedIn(workspace, token.token_hash)


def end_session(session: Session, secret: str) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.id_hash == hash_token(secret), WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
