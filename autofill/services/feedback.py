"""Recording feedback on AI cells, with a snapshot of what the model saw when shared."""

from __future__ import annotations

from typing import Any

from autofill.db import Cell, CellFeedback, Database, Property, Row
from autofill.errors import Conflict
from autofill.ids import new_id
from autofill.kinds import CellStatus
from autofill.prompts import render_request, row_data
from autofill.schemas import FeedbackIn


def record_feedback(
    database: Database, row: Row, prop: Property, cell: Cell, data: FeedbackIn
) -> CellFeedback:
    if cell.status == CellStatus.OVERRIDDEN.value or cell.filled_at is None:
        raise Conflict(
            "only a value the AI wrote can be rated; this cell has none",
            {"property_id": "no AI value to rate"},
        )
    return CellFeedback(
        id=new_id("fb"),
        workspace_id=database.workspace_id,
        row_id=row.id,
        property_id=prop.id,
        rating=data.rating,
        comment=data.comment,
        share=data.share,
        snapshot=_snapshot(database, row, prop, cell) if data.share else None,
    )


def _snapshot(database: Database, row: Row, prop: Property, cell: Cell) -> dict[str, Any]:
    """The column's inputs exactly as a fill sends them: nothing of the row it does not read."""
    ai = prop.ai_config()
    names = {p.id: p.name for p in database.properties}
    ai_values = {c.property_id: c.value for c in row.cells}
    # The inputs half of prepare_for_row: a snapshot must not fail because the column's model
    # was retired or its prompt no longer fits since the value was written.
    data = row_data(ai, names, row.values, row.content, ai_values)
    return {
        "task": ai.task.value,
        "request": render_request(ai.instruction),
        "target_language": ai.target_language,
        "output": ai.output.model_dump(mode="json"),
        "model": cell.model,
        "prompt_version": cell.prompt_version,
        "properties": data.properties,
        "content": data.content,
        "value": cell.value,
    }
