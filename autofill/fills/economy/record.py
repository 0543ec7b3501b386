"""A batch's answers into cells, through the same record step as a live fill.

Each result is matched to its item by ``custom_id``, and the item is deleted in the transaction
that records it, so a result read twice (a restart while recording) counts once. Then, as for a
live fill (autofill.fills.fill._record): written only if the outbox entry is still this
generation, in this batch, and the row's inputs still hash the same — a row edited meanwhile
has its fresh live fill, and the batch answer for the old inputs is thrown away (its cost is
counted all the same).

What an answer can be, and what follows:
- a value of the column's type: the cell is filled;
- not a value of the column's type: re-asked live, once, with the answer and the error;
- cut off at the output limit: filled live (a live fill widens the limit once, as ever);
- refused, or stopped by a content filter: the cell ends in error saying so;
- no answer (the request errored, expired, or the provider cancelled it): filled live when
  another try may help; an error another try would repeat (a refused request) ends the cell in
  error with the provider's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from autofill.config import Settings
from autofill.db import BatchItem, OutboxEntry, Property, ProviderBatch, Row
from autofill.fills import outbox, usage
from autofill.fills.fill import Claim, _record
from autofill.fills.spend import Spend
from autofill.kinds import EntryState, ErrorCode, Outcome
from autofill.llm import (
    BatchAPI,
    Completion,
    FillFailed,
    InvalidAnswer,
    ItemResult,
    ModelInfo,
    ProviderError,
    RawAnswer,
    Usage,
    parse_answer,
)
from autofill.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class _GoLive:
    """Not answered here: a live fill instead (with a re-ask when ``reask`` is set)."""

    why: str
    reask: dict[str, str] | None = None


def record_result(
    session: Session,
    settings: Settings,
    batch: ProviderBatch,
    result: ItemResult,
    api: BatchAPI,
    info: ModelInfo,
) -> Outcome | None:
    """Record one result; None if it was recorded already (or was never ours)."""
    item = session.get(BatchItem, (batch.id, result.custom_id))
    if item is None:
        return None
    prop = session.get(Property, item.property_id)
    discount = info.batch_discount or 0.0
    answer = _answer(result, item, api)
    spent = _spend(answer, info, discount) if isinstance(answer, RawAnswer) else None
    verdict = _judge(answer, prop, spent) if prop is not None and prop.ai else None
    session.delete(item)
    entry = _entry_awaiting(session, item)
    if entry is None or verdict is None:
        if spent is not None:  # paid for, found stale: counted, not written
            usage.record(session, batch.workspace_id, spent.spend(), run_id=batch.run_id)
        return Outcome.SUPERSEDED
    if isinstance(verdict, _GoLive):
        if spent is not None:
            usage.record(session, batch.workspace_id, spent.spend(), run_id=entry.run_id)
        outbox.go_live(session, entry, reask=verdict.reask)
        log.info(
            "economy fill goes live",
            row_id=item.row_id,
            property_id=item.property_id,
            why=verdict.why,
        )
        return Outcome.HANDED_BACK
    claim = Claim(
        batch.workspace_id,
        item.lane,
        entry.run_id,
        item.input_hash,
        item.prompt_version,
        item.truncated,
        economy=True,
    )
    return _record(
        session, settings, item.row_id, item.property_id, item.generation, claim, verdict
    )


def go_live_unanswered(session: Session, batch: ProviderBatch) -> int:
    """Items the provider said nothing of (a batch refused as a whole, a result missing):
    their cells are filled live; none is lost."""
    left = session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id)).all()
    moved = 0
    for item in left:
        entry = _entry_awaiting(session, item)
        if entry is not None:
            outbox.go_live(session, entry)
            moved += 1
        session.delete(item)
    return moved


def _entry_awaiting(session: Session, item: BatchItem) -> OutboxEntry | None:
    """The item's outbox entry, locked, if it still waits for this item's answer: the same
    generation, in this batch. (The row's lock first, then the entry's, as every transaction
    takes them.)"""
    session.get(Row, item.row_id, with_for_update=True)
    entry = session.get(OutboxEntry, (item.row_id, item.property_id), with_for_update=True)
    if (
        entry is None
        or entry.generation != item.generation
        or entry.state != EntryState.BATCHED.value
        or entry.batch_id != item.batch_id
    ):
        return None
    return entry


@dataclass(frozen=True)
class _Spent:
    usage: Usage
    cost_usd: float

    def spend(self) -> Spend:
        return Spend(
            model_calls=1,
            tokens_in=self.usage.input_tokens,
            tokens_out=self.usage.output_tokens,
            cost_usd=self.cost_usd,
        )


def _answer(result: ItemResult, item: BatchItem, api: BatchAPI) -> RawAnswer | ItemResult:
    if result.kind != "answer" or result.reply is None:
        return result
    try:
        return api.answer(result.reply, item.structured)
    except ProviderError as exc:  # an answer with nothing in it: another try may do better
        return ItemResult(result.custom_id, "error", message=exc.message, retryable=True)


def _spend(answer: RawAnswer, info: ModelInfo, discount: float) -> _Spent:
    list_price = info.cost(
        answer.usage.input_tokens,
        answer.usage.output_tokens,
        answer.usage.cached_tokens,
        answer.usage.cache_write_tokens,
    )
    # The batch discount applies to the whole call, cache reads and writes included
    # (platform.claude.com/docs/en/about-claude/pricing: the discounts stack; OpenAI prices
    # batch input, cached input and output at half: developers.openai.com/api/docs/pricing).
    return _Spent(answer.usage, round(list_price * (1.0 - discount), 8))


def _judge(
    answer: RawAnswer | ItemResult, prop: Property, spent: _Spent | None
) -> Completion | FillFailed | _GoLive:
    assert prop.ai is not None
    if isinstance(answer, ItemResult):
        if answer.kind == "error" and not answer.retryable:
            return FillFailed(
                answer.message,
                attempts=1,
                usage=Usage(),
                last_answer=None,
                calls=1,
                code=ErrorCode.PROVIDER_ERROR,
            )
        return _GoLive(answer.message or answer.kind)
    assert spent is not None

    def failed(message: str, code: ErrorCode) -> FillFailed:
        return FillFailed(
            message, attempts=1, usage=answer.usage, last_answer=answer.text, calls=1, code=code
        )

    if answer.stop == "length":
        return _GoLive("cut off at the output limit")
    if answer.stop == "refusal":
        said = f": {answer.refusal}" if answer.refusal else ""
        return failed(f"the model refused to answer{said}", ErrorCode.REFUSED)
    if answer.stop == "content_filter":
        return failed(
            "the provider's content filter stopped the answer", ErrorCode.CONTENT_FILTERED
        )
    try:
        value, none_reason = parse_answer(prop.ai.output, answer.text, answer.data)
    except InvalidAnswer as exc:
        return _GoLive(exc.message, reask={"answer": answer.text, "error": exc.message})
    return Completion(
        value=value,
        text=answer.text,
        usage=answer.usage,
        cost_usd=spent.cost_usd,
        latency_s=0.0,
        attempts=1,
        calls=1,
        model=prop.ai.model,
        none_reason=none_reason,
    )
