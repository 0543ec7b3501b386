"""Chores that must run once across many dispatchers (the sweep: re-sending lost fills,
unblocking, unparking, pruning events, folding the ledger, vacuuming) run under a lease.

Every dispatcher tries to take the lease every third of ``chore_lease_s``; the holder renews it
at that pace (the heartbeat). A holder that dies stops renewing, and another dispatcher takes
the lease once it has expired: within ``chore_lease_s`` plus a third of it. Each change of
holder raises the lease's fencing number.

Times are the database's clock (as for the shared rate limits), so hosts whose clocks disagree
still agree on when a lease ends. A holder cut off from the database (a partition) may still
think it holds the lease after it expired; so each of the sweep's transactions first renews
the lease in the same transaction (``renew``), which fails if another has taken it — and on
PostgreSQL the renewal's row lock makes a takeover wait for that transaction to end. A holder
cut off in the middle of such a transaction cannot end it, and the server would only notice
the dead connection after its keepalives give up (about 20 s, autofill.db.session); so every
transaction that locks the lease row tells the server to abort it once it has waited
``lease_s`` for its client (``idle_in_transaction_session_timeout``, set for that transaction
only). The row lock is then gone about when the lease expires, and a takeover stays within
the lease's bound. The one step outside a transaction, VACUUM, is harmless if two run it.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from autofill.db import ChoreLease, Store, upsert
from autofill.logs import get_logger

log = get_logger(__name__)

SWEEP = "sweep"


def holder_name() -> str:
    """This process, recognisably: host, pid and a random part (pids repeat across hosts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _now(session: Session) -> ColumnElement[float]:
    """The database's clock in epoch seconds (not the transaction's start: a long
    transaction must not stretch a lease)."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column("extract(epoch from clock_timestamp())", Float)
    return literal_column("((julianday('now') - 2440587.5) * 86400.0)", Float)


# The session's idle-in-transaction timeout, lowered to :ms for this transaction only
# (set_config's third argument: SET LOCAL) and never raised: a dispatcher's sessions end theirs
# after 5 s already (autofill.db.SHORT_TRANSACTIONS), below the default 30 s lease; 0 is "none".
_AT_MOST = text(
    "SELECT set_config('idle_in_transaction_session_timeout', "
    "CASE WHEN set_ms = 0 OR set_ms > :ms THEN :ms ELSE set_ms END::bigint::text, true) "
    "FROM (SELECT extract(epoch FROM "
    "current_setting('idle_in_transaction_session_timeout')::interval) * 1000 AS set_ms) AS now_set"
)


def _abort_when_cut_off(session: Session, lease_s: float) -> None:
    """PostgreSQL ends this transaction (and frees the lease row) if its client goes quiet for
    ``lease_s`` inside it: a holder cut off mid-transaction must not keep the row locked until
    its connection is found dead."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_AT_MOST, {"ms": max(1, round(lease_s * 1000))})


def take(session: Session, name: str, holder: str, lease_s: float) -> int | None:
    """Take or renew the lease ``name`` for ``holder`` if it is free, expired or already
    ``holder``'s; its fencing number if so, None if another holds it."""
    _abort_when_cut_off(session, lease_s)
    now = _now(session)
    inserting = upsert(session, ChoreLease).values(
        name=name, holder=holder, fencing=1, expires_at=now + lease_s
    )
    statement = inserting.on_conflict_do_update(
        index_elements=[ChoreLease.name],
        set_={
            "holder": holder,
            "expires_at": now + lease_s,
            "fencing": case(
                (ChoreLease.holder == holder, ChoreLease.fencing), else_=ChoreLease.fencing + 1
            ),
        },
        where=or_(ChoreLease.holder == holder, ChoreLease.expires_at < now),
    ).returning(ChoreLease.fencing)
    return session.execute(statement).scalar_one_or_none()


def renew(session: Session, name: str, holder: str, fencing: int, lease_s: float) -> bool:
    """Extend the lease if ``holder`` still holds it with ``fencing`` and it has not expired;
    in the caller's transaction, so the work that follows commits only under the lease."""
    _abort_when_cut_off(session, lease_s)
    now = _now(session)
    renewed = session.execute(
        update(ChoreLease)
        .where(
            and_(
                ChoreLease.name == name,
                ChoreLease.holder == holder,
                ChoreLease.fencing == fencing,
                ChoreLease.expires_at >= now,
            )
        )
        .values(expires_at=now + lease_s)
        .returning(ChoreLease.name)
    ).scalar_one_or_none()
    return renewed is not None


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up (a clean stop), so another dispatcher takes it at its next try. The
    row stays, expired, so the fencing number keeps growing."""
    session.execute(
        update(ChoreLease)
        .where(ChoreLease.name == name, ChoreLease.holder == holder)
        .values(expires_at=0.0)
    )


def current(session: Session, name: str) -> ChoreLease | None:
    return session.scalar(select(ChoreLease).where(ChoreLease.name == name))


class LeaseKeeper:
    """The heartbeat: tries to take (or renew) the lease every third of ``lease_s`` on a thread
    of its own, so a long chore never lets it lapse. ``fencing`` is set while it is held."""

    def __init__(self, store: Store, name: str, lease_s: float, stopping: threading.Event) -> None:
        self.store, self.name, self.lease_s, self.stopping = store, name, lease_s, stopping
        self.holder = holder_name()
        self.fencing: int | None = None

    @property
    def held(self) -> bool:
        return self.fencing is not None

    def beat(self) -> None:
        try:
            with self.store.transaction() as session:
                fencing = take(session, self.name, self.holder, self.lease_s)
        except Exception as exc:  # the database is down: we cannot know, so we do not hold
            log.warning("chore lease check failed", chore=self.name, error=str(exc))
            fencing = None
        if fencing != self.fencing:
            log.info(
                "chore lease taken" if fencing is not None else "chore lease lost",
                chore=self.name,
                holder=self.holder,
                fencing=fencing,
            )
        self.fencing = fencing

    def renew_in(self, session: Session) -> bool:
        """For each chore transaction: still ours? (renews it in that transaction)."""
        fencing = self.fencing
        if fencing is None or not renew(session, self.name, self.holder, fencing, self.lease_s):
            self.fencing = None
            return False
        return True

    def run(self) -> None:
        while not self.stopping.is_set():
            self.beat()
            self.stopping.wait(self.lease_s / 3)
        if self.held:
            try:
                with self.store.transaction() as session:
                    release(session, self.name, self.holder)
            except Exception as exc:  # expiry hands it over instead
                log.warning("chore lease release failed", chore=self.name, error=str(exc))
            self.fencing = None
