"""The named kinds and states the whole service shares.

A leaf module: it imports nothing of ours, so every layer may use it, and these values are
written nowhere else (the stored strings are the enums' values).
"""

from __future__ import annotations

from enum import StrEnum

CONTENT_INPUT = "content"  # in an AI column's inputs: the page body rather than a property


class PropertyType(StrEnum):
    TITLE = "title"
    TEXT = "text"
    NUMBER = "number"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    DATE = "date"
    CHECKBOX = "checkbox"
    URL = "url"
    AI = "ai"


class Task(StrEnum):
    """What an AI column does."""

    SUMMARY = "summary"
    KEY_INFO = "key_info"
    TRANSLATE = "translate"
    CLASSIFY = "classify"
    CUSTOM = "custom"


class PromptTask(StrEnum):
    """A prompt file (prompts/<task>.yaml): one per column task, and a custom prompt of its own
    for typed answers."""

    SUMMARY = "summary"
    KEY_INFO = "key_info"
    TRANSLATE = "translate"
    CLASSIFY = "classify"
    CUSTOM = "custom"
    CUSTOM_TYPED = "custom_typed"


class OutputType(StrEnum):
    TEXT = "text"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    NUMBER = "number"
    DATE = "date"
    CHECKBOX = "checkbox"


OPTION_OUTPUTS = (OutputType.SELECT, OutputType.MULTI_SELECT)
# Which output types each task may produce: a summary is prose, a classification picks options.
TASK_OUTPUTS: dict[Task, tuple[OutputType, ...]] = {
    Task.SUMMARY: (OutputType.TEXT,),
    Task.TRANSLATE: (OutputType.TEXT,),
    Task.CLASSIFY: OPTION_OUTPUTS,
    Task.KEY_INFO: (OutputType.TEXT, OutputType.MULTI_SELECT),
    Task.CUSTOM: tuple(OutputType),
}


class CellStatus(StrEnum):
    """An AI cell's state; only autofill.fills.cell_state moves a cell between them."""

    EMPTY = "empty"
    PENDING = "pending"
    FILLED = "filled"
    ERROR = "error"
    STALE = "stale"
    OVERRIDDEN = "overridden"


class ErrorCode(StrEnum):
    """Why a cell is in ``error``: the machine-readable half of its message."""

    PROVIDER_ERROR = "provider_error"  # the call failed (HTTP status, timeout, garbled body)
    QUOTA_EXHAUSTED = "quota_exhausted"  # the provider account is out of credit
    ANSWER_TRUNCATED = "answer_truncated"  # the answer was cut off at the output limit
    REFUSED = "refused"  # the model refused
    CONTENT_FILTERED = "content_filtered"  # the provider's content filter stopped the answer
    INVALID_ANSWER = "invalid_answer"  # the model answered, but not a value of the column's type
    PROMPT_ERROR = "prompt_error"  # the prompt could not be built (too large, a broken file)
    UNKNOWN_MODEL = "unknown_model"  # the catalogue does not know the column's model
    MODEL_RETIRED = "model_retired"  # the column's model is no longer served
    BUDGET_EXHAUSTED = "budget_exhausted"  # the workspace's monthly budget is spent
    GAVE_UP = "gave_up"  # started too many times without a result (a fill that kills workers)


class EntryState(StrEnum):
    """An outbox entry's state: a cell due for a fill, from the change that made it due until
    its fill is recorded (then the entry is deleted)."""

    WAITING = "waiting"  # due at ``due_at``; the dispatcher will send it
    BLOCKED = "blocked"  # an upstream AI cell of the same row is due first
    DISPATCHED = "dispatched"  # sent to the queue, not yet started
    RUNNING = "running"  # a worker holds it until ``lease_until``
    PARKED = "parked"  # the workspace's budget is spent; raising it resumes the fill
    BATCHED = "batched"  # an economy fill in a provider batch (``batch_id``) until its answer


class Reason(StrEnum):
    """Why an outbox entry was made."""

    EDIT = "edit"  # a row's inputs changed
    UPSTREAM = "upstream"  # an AI cell this one reads got a new value
    CONFIG = "config"  # the column's prompt or model changed, or it was added
    REQUEST = "request"  # someone asked for this cell
    RUN = "run"  # a bulk fill


class FillMode(StrEnum):
    """How a bulk run's cells are filled: ``now`` through live calls, or ``economy`` through
    the providers' batch interfaces, at their batch price, within their window."""

    NOW = "now"
    ECONOMY = "economy"


class BatchState(StrEnum):
    """One of our provider batches (autofill.fills.economy): its cells are claimed into it while
    it is ``building``; ``prepared`` it waits to be sent; ``submitted`` the provider has it;
    ``ended`` its results are being recorded; then ``done``. ``failed``: the provider refused
    it (its cells went back to live fills); ``cancelled``: its run was cancelled first."""

    BUILDING = "building"
    PREPARED = "prepared"
    SUBMITTED = "submitted"
    ENDED = "ended"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Lane(StrEnum):
    """Who waits for a fill: a person (a row edited, a cell asked for, a column changed on a
    few rows) or nobody in particular (a new column over every row, a bulk run)."""

    INTERACTIVE = "interactive"
    BULK = "bulk"


class Scope(StrEnum):
    """Which cells a bulk fill takes."""

    ALL = "all"  # every cell the AI owns, refilled even when up to date
    EMPTY = "empty"  # cells with no value yet
    STALE = "stale"
    ERROR = "error"


class RunState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """How one fill attempt ended."""

    FILLED = "filled"
    FAILED = "failed"
    UNCHANGED = "unchanged"  # same inputs and prompt as the current value: no model call
    OVERRIDDEN = "overridden"  # a person's value: left alone
    SUPERSEDED = "superseded"  # the row or column changed meanwhile: a newer fill is due
    DUPLICATE = "duplicate"  # another worker holds this fill
    BLOCKED = "blocked"  # an upstream AI cell of the row is due first
    PARKED = "parked"  # the workspace's budget is spent
    GONE = "gone"  # the row, column or cell no longer exists
    DEFERRED = "deferred"  # the provider asked for a long wait: due again after it, in the outbox
    HANDED_BACK = "handed_back"  # not started (the worker is stopping): back in the outbox
