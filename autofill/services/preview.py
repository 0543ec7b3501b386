"""Previewing an AI column's prompt for a stored row or inline row data."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from autofill.columns import AIConfig
from autofill.db import Database, Property
from autofill.errors import InvalidInput
from autofill.llm import provider_count, source_of
from autofill.prompts import CannotPrepare, Prepared, prepare_for_row
from autofill.schemas import AIConfigIn, PreviewMessage, PreviewOut, PreviewRequest
from autofill.services.ai_columns import PropertyIndex, resolve_ai_config
from autofill.services.lookup import get_row
from autofill.services.rows import checked_content, validated_values


def preview(
    session: Session, workspace_id: str, database: Database, prop: Property, body: PreviewRequest
) -> PreviewOut:
    if prop.ai is None:
        raise InvalidInput.field("property", f"{prop.name!r} is not an AI column")
    names = {p.id: p.name for p in database.properties}
    if body.row_id is not None:
        row = get_row(session, workspace_id, body.row_id)
        if row.database_id != database.id:
            raise InvalidInput.field("row_id", "the row belongs to another database")
        values, content = row.values, row.content
        ai_values = {cell.property_id: cell.value for cell in row.cells}
    else:
        assert body.row is not None
        values = validated_values(database, body.row.properties)
        content, ai_values = checked_content(body.row.content), {}
    return preview_out(_prepared(prop.ai, names, values, content, ai_values))


def preview_draft(
    session: Session,
    workspace_id: str,
    database: Database,
    config: AIConfigIn,
    *,
    row_id: str,
    prop_id: str | None,
    default_model: str,
) -> PreviewOut:
    """The prompt a column configured as ``config`` would send for a row, before it is saved:
    the same resolution and preparation as a real fill. ``prop_id`` is the column being edited
    (None for a new one), so it cannot read itself."""
    ai = resolve_ai_config(
        config,
        prop_id or "prop_draft",
        PropertyIndex(list(database.properties)),
        default_model=default_model,
        path="ai",
    )
    row = get_row(session, workspace_id, row_id)
    if row.database_id != database.id:
        raise InvalidInput.field("row_id", "the row belongs to another database")
    names = {p.id: p.name for p in database.properties}
    ai_values = {cell.property_id: cell.value for cell in row.cells}
    return preview_out(_prepared(ai, names, row.values, row.content, ai_values))


def _prepared(
    ai: AIConfig,
    names: dict[str, str],
    values: dict[str, Any],
    content: str,
    ai_values: dict[str, Any],
) -> Prepared:
    """The fill's own preparation; what the column can change about a failure names its
    field (a broken prompt file is the server's fault, and stays an error of the server)."""
    try:
        return prepare_for_row(ai, names, values, content, ai_values)
    except CannotPrepare as exc:
        if exc.field is None:
            raise
        raise InvalidInput.field(exc.field, exc.message) from None


def preview_out(prepared: Prepared) -> PreviewOut:
    """The prompt as it would be sent. Its token count is the provider's own where one can be
    asked (Anthropic with a key: a preview is read by a person before anything is spent)."""
    fitted = prepared.fitted
    counted = provider_count(prepared.request)
    tokens = counted if counted is not None else fitted.input_tokens
    info = prepared.model_info
    return PreviewOut(
        model=prepared.request.model,
        prompt_version=fitted.prompt_version,
        language=fitted.language,
        examples=fitted.examples,
        messages=[
            PreviewMessage(role=m.role, content=m.content, cache_boundary=m.cache_boundary)
            for m in fitted.messages
        ],
        input_tokens=tokens,
        input_tokens_source=(
            "count_tokens" if counted is not None else source_of(prepared.model_info)
        ),
        budget=fitted.budget,
        reserved_output_tokens=prepared.reserved_output,
        truncated=fitted.truncated,
        cut_chars=fitted.cut_chars,
        cut_properties=list(fitted.cut_properties),
        # Priced on the figure shown: the provider's own count when there is one.
        estimated_cost_usd=info.cost(tokens, prepared.expected_output),
        max_cost_usd=info.cost(tokens, prepared.reserved_output),
    )
