"""The whole schema. Property values are stored by property id, so renaming a property is one
update.

The base and the accounts tables (workspaces, API tokens) live in autofill.db.accounts, so that
authenticating or listing workspaces maps two tables, not all; they are re-exported here, and
importing this module is what gives Base.metadata every table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from autofill.columns import AIConfig
from autofill.db.accounts import ApiToken as ApiToken
from autofill.db.accounts import Base as Base
from autofill.db.accounts import Workspace as Workspace
from autofill.db.types import ExactJSONType, JSONType, PydanticJSON, utcnow
from autofill.errors import InvalidInput
from autofill.ids import new_id


def new_schema_tag() -> str:
    return new_id("sch")


class Database(Base):
    __tablename__ = "databases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Renewed, with a new random value, by every flush that changes the database's properties
    # (_renew_schema_tags below): a process may keep the properties it read for a tag
    # (autofill.services.schema_cache) for as long as the database still carries that tag.
    # Random rather than counted, so that a change rolled back cannot hand its tag to a later,
    # different change.
    schema_tag: Mapped[str] = mapped_column(String(40), default=new_schema_tag)

    properties: Mapped[list[Property]] = relationship(
        back_populates="database",
        order_by="Property.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Property(Base):
    __tablename__ = "properties"
    __table_args__ = (UniqueConstraint("database_id", "name_key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    database_id: Mapped[str] = mapped_column(
        ForeignKey("databases.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # Case- and width-folded name: "Status" and "ｓｔａｔｕｓ" cannot both exist in one database.
    name_key: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    options: Mapped[list[str] | None] = mapped_column(JSONType, default=None)
    # An AI column's configuration (inputs by property id); None for other properties.
    ai: Mapped[AIConfig | None] = mapped_column(PydanticJSON(AIConfig), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    database: Mapped[Database] = relationship(back_populates="properties")

    def ai_config(self) -> AIConfig:
        """The configuration of an AI column; for any other property, a 422 naming it."""
        if self.ai is None:
            raise InvalidInput.field("property_id", f"{self.name!r} is not an AI column")
        return self.ai


class Row(Base):
    __tablename__ = "rows"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    database_id: Mapped[str] = mapped_column(
        ForeignKey("databases.id", ondelete="CASCADE"), index=True
    )
    # {property_id: value} for non-AI properties; AI values live in `cells`.
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every write; lets clients and fills tell one revision from the next.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The page's language as the first fill since the content last changed detected it
    # (autofill.language.PageLanguage.stored): each AI column of the row, in whichever worker,
    # reads it instead of detecting it again. Cleared whenever the content is set (below).
    content_language: Mapped[str | None] = mapped_column(String(80), default=None)

    cells: Mapped[list[Cell]] = relationship(
        back_populates="row", cascade="all, delete-orphan", passive_deletes=True
    )


@event.listens_for(Session, "before_flush")
def _renew_schema_tags(session: Session, _context: object, _instances: object) -> None:
    """A flush that adds, changes or removes a property gives its database a new schema tag,
    in the same flush: whatever path changes a property (the properties service, a test, a
    future script), a process's kept properties stop matching the database's tag."""
    changed: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Property):
            if obj.database_id is not None:
                changed.add(obj.database_id)
            elif obj.database is not None:
                changed.add(obj.database.id)
        elif (
            isinstance(obj, Database)
            and obj not in session.new
            # A property appended to or removed from the collection (delete-orphan): the
            # collection's history shows it before the flush finds the orphan.
            and inspect(obj).attrs.properties.history.has_changes()
        ):
            changed.add(obj.id)
    if not changed:
        return
    in_session = {
        obj.id: obj
        for obj in session.identity_map.values()
        if isinstance(obj, Database) and obj.id in changed
    }
    for database_id in sorted(changed):
        tag = new_schema_tag()
        if database_id in in_session:
            in_session[database_id].schema_tag = tag  # written by this flush
        else:
            session.execute(
                update(Database).where(Database.id == database_id).values(schema_tag=tag)
            )


@event.listens_for(Row.content, "set")
def _content_changed(row: Row, value: str, old: object, _initiator: object) -> None:
    # Whoever writes the content (an edit, an import, a test), the stored language goes.
    if value != old:
        row.content_language = None


class Cell(Base):
    """One AI property's value on one row, with its state and provenance."""

    __tablename__ = "cells"
    __table_args__ = (Index("ix_cells_property_status", "property_id", "status"),)

    row_id: Mapped[str] = mapped_column(ForeignKey("rows.id", ondelete="CASCADE"), primary_key=True)
    property_id: Mapped[str] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[Any] = mapped_column(ExactJSONType, nullable=True, default=None)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # Machine-readable kind of error: budget_exhausted, provider_error, invalid_answer, ...
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    prompt_version: Mapped[str | None] = mapped_column(String(80), default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    # Hash of the inputs the current value was computed from (or is due for, when pending).
    input_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    tokens_in: Mapped[int | None] = mapped_column(Integer, default=None)
    tokens_out: Mapped[int | None] = mapped_column(Integer, default=None)
    cost_usd: Mapped[float | None] = mapped_column(Float, default=None)
    truncated: Mapped[bool | None] = mapped_column(Boolean, default=None)
    filled_at: Mapped[datetime | None] = mapped_column(default=None)
    overridden_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    row: Mapped[Row] = relationship(back_populates="cells")


# Auto-incrementing 64-bit ids on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEntry(Base):
    """The outbox: one entry per AI cell that is due for a fill, written in the same
    transaction as the change that made it due. A cell has at most one entry; a new change to a
    cell that already has one bumps ``generation`` and pushes ``due_at`` (debounce), so a burst
    of saves costs one fill and a fill computed for an older generation is thrown away. Its
    state changes only through autofill.fills.outbox."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due", "state", "due_at"),
        Index("ix_outbox_state_lane_due", "state", "lane", "due_at"),
        Index("ix_outbox_workspace_state", "workspace_id", "state"),
        Index("ix_outbox_run", "run_id"),
    )

    row_id: Mapped[str] = mapped_column(ForeignKey("rows.id", ondelete="CASCADE"), primary_key=True)
    property_id: Mapped[str] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[str] = mapped_column(String(40))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    # waiting → dispatched → running → (deleted when done); blocked: an upstream AI cell of the
    # same row is due first; parked: the workspace's budget is spent.
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column()
    # Refill even when the inputs and prompt equal those of the current value.
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("fill_runs.id", ondelete="SET NULL"), default=None
    )
    reason: Mapped[str] = mapped_column(String(16), default="edit")
    # interactive: a person waits for it, it goes first; bulk: fair across workspaces, after.
    lane: Mapped[str] = mapped_column(
        String(12), default="interactive", server_default="interactive"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Economy: filled through a provider's batch interface (autofill.fills.economy), not sent
    # to the queue; ``batch_id`` is the batch holding it while ``batched``.
    economy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("provider_batches.id", ondelete="SET NULL"), default=None
    )
    # A batch answer that was not a value of the column's type: {"answer", "error"}, re-asked
    # live, once, by the next fill.
    reask: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    # The W3C traceparent of the request that made the fill due, when traces are on: the fill's
    # span links to it (autofill.tracing).
    trace_context: Mapped[str | None] = mapped_column(String(55), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    # What a running fill may spend at most; held against the budget until it finishes.
    reserved_tokens: Mapped[int] = mapped_column(Integer, default=0)
    reserved_usd: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallSpendColumns:
    """What model calls spent (autofill.fills.spend names these sets)."""

    model_calls: Mapped[int] = mapped_column(Integer, default=0)
    tokens_in: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens_out: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class FillCountColumns:
    """Fills made, and fills avoided because inputs and prompt had not changed."""

    fills: Mapped[int] = mapped_column(Integer, default=0)
    fills_avoided: Mapped[int] = mapped_column(Integer, default=0)


class SettledColumns:
    """A run's cells by how they ended."""

    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)


class FillRun(SettledColumns, CallSpendColumns, Base):
    """A bulk fill of one AI column, with its progress."""

    __tablename__ = "fill_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    property_id: Mapped[str] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(12), default="now", server_default="now")
    # running, done, cancelled: changed only through autofill.fills.run_state
    state: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class ProviderBatch(Base):
    """One batch at a provider's batch interface (an economy run's cells, one model, one run):
    what we sent, where it is, and what the provider says of it. Its state changes only
    through autofill.fills.economy; the provider's ids are saved before anything waits on
    them, so a restart resumes polling."""

    __tablename__ = "provider_batches"
    __table_args__ = (Index("ix_provider_batches_state_check", "state", "next_check_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("fill_runs.id", ondelete="SET NULL"), default=None, index=True
    )
    model: Mapped[str] = mapped_column(String(200))  # the model reference, e.g. openai:gpt-5
    state: Mapped[str] = mapped_column(String(16))
    provider_batch_id: Mapped[str | None] = mapped_column(String(200), default=None)
    input_file_id: Mapped[str | None] = mapped_column(String(200), default=None)
    provider_status: Mapped[str | None] = mapped_column(String(40), default=None)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    processing: Mapped[int] = mapped_column(Integer, default=0)  # the provider's queue
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # A step under way (submit, check, record) holds the batch until then: one process at once.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    next_check_at: Mapped[datetime] = mapped_column(default=utcnow)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    submit_started_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BatchItem(Base):
    """One cell's request in a provider batch: the outbox entry, generation and inputs' hash it
    was made for (its ``custom_id`` says the same), and the line as sent, so the batch can be
    sent again. Deleted in the transaction that records its answer: a result read twice (a
    restart mid-way) is recorded once."""

    __tablename__ = "batch_items"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("provider_batches.id", ondelete="CASCADE"), primary_key=True
    )
    custom_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    row_id: Mapped[str] = mapped_column(String(40))
    property_id: Mapped[str] = mapped_column(String(40))
    generation: Mapped[int] = mapped_column(Integer)
    input_hash: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str] = mapped_column(String(80))
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    lane: Mapped[str] = mapped_column(String(12))
    structured: Mapped[str | None] = mapped_column(String(16), default=None)  # CallPlan's
    line: Mapped[str] = mapped_column(Text)


class WorkspaceUsage(FillCountColumns, CallSpendColumns, Base):
    """What a workspace's fills spent in one UTC calendar month ("2026-11")."""

    __tablename__ = "workspace_usage"

    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)


class FillLedger(FillCountColumns, CallSpendColumns, SettledColumns, Base):
    """What one fill spent and how it ended, appended without touching a shared row.

    Every fill used to add to its workspace's month row (and its run's row) in its own
    transaction: a hundred fills in flight queued on those two row locks (bench/backfill.py
    showed most worker threads waiting on them). Fills append here instead; readers add the
    entries to the rows, and the sweeper folds entries into the rows now and then
    (autofill.fills.ledger)."""

    __tablename__ = "fill_ledger"
    __table_args__ = (
        Index("ix_fill_ledger_workspace_period", "workspace_id", "period"),
        Index("ix_fill_ledger_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    run_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CellEvent(Base):
    """A change of an AI cell: the feed behind the events stream. Written by the same
    transaction as the change; pruned after a retention period.

    ``id`` is taken at insert, so on PostgreSQL a later id can commit first and a reader that
    moved past it would never see the earlier one. ``position`` is given after commit, by one
    stamper at a time (autofill.fills.events.stamp), so positions follow commit order and a
    reader resuming after position P misses nothing."""

    __tablename__ = "cell_events"
    __table_args__ = (
        Index("ix_cell_events_database_position", "database_id", "position"),
        Index("ix_cell_events_position", "position"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    position: Mapped[int | None] = mapped_column(BigInteger, default=None)
    database_id: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(40))
    property_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CellFeedback(Base):
    """A person's thumbs up or down on an AI cell. With ``share`` (consent to show the page to
    the prompt team) it keeps a snapshot of what the model saw, so it can become an eval case
    even after the row changes; without consent it keeps no page data."""

    __tablename__ = "cell_feedback"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    row_id: Mapped[str] = mapped_column(String(40))
    property_id: Mapped[str] = mapped_column(String(40))
    rating: Mapped[str] = mapped_column(String(8))  # up | down
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    share: Mapped[bool] = mapped_column(Boolean, default=False)
    # Only with share: the column's configuration, its inputs as sent, and the answer.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class RateLimitEntry(Base):
    """One request's (or one prompt's tokens') place in a moving rate-limit window, where
    PostgreSQL is the limiter's shared store (no Redis: autofill.db.limits). ``at`` is the
    database's clock in epoch seconds, so every host counts in one time."""

    __tablename__ = "rate_limit_entries"
    __table_args__ = (Index("ix_rate_limit_entries_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(512))
    at: Mapped[float] = mapped_column(Float)
    amount: Mapped[int] = mapped_column(Integer)


class RateLimitPause(Base):
    """Until when a provider told every process to stop calling with a key (429, retry-after,
    exhausted ``x-ratelimit-*``), where PostgreSQL is the shared store."""

    __tablename__ = "rate_limit_pauses"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    until: Mapped[float] = mapped_column(Float)


class ChoreLease(Base):
    """Which dispatcher runs a chore that must run once (the sweep: re-sending lost fills,
    unparking, pruning, vacuuming), until when (the database's clock, epoch seconds), and a
    fencing number that grows at each change of holder (autofill.fills.chores)."""

    __tablename__ = "chore_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    fencing: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)


class WebSession(Base):
    """A person signed in to the web page (issue 24). The cookie holds only a random secret;
    this row, found by the secret's hash, says which token opened it, when, when it was last
    used and when it ends at the latest. Ending it (sign-out), revoking its token, or letting it
    sit idle or grow old makes the cookie worthless (autofill.services.web_sessions)."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_token", "token_id"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
