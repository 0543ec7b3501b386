"""ORM objects → response models, with values keyed by property name."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from autofill.db import Cell, Database, FillRun, Property, Row
from autofill.fills import economy, runs
from autofill.kinds import CONTENT_INPUT, CellStatus, FillMode, PropertyType, Scope
from autofill.schemas import (
    AIConfigOut,
    BatchProgressOut,
    CellOut,
    DatabaseOut,
    PropertyOut,
    Provenance,
    RowOut,
    RunOut,
)
from autofill.services.models import model_status


def property_out(prop: Property, names: dict[str, str]) -> PropertyOut:
    ai = None
    if prop.ai is not None:
        config = prop.ai
        ai = AIConfigOut(
            task=config.task,
            instruction=config.instruction,
            inputs=[
                CONTENT_INPUT if i == CONTENT_INPUT else names.get(i, i) for i in config.inputs
            ],
            input_ids=list(config.inputs),
            target_language=config.target_language,
            output=config.output,
            model=config.model,
            model_status=model_status(config.model),
            auto_update=config.auto_update,
            max_input_tokens=config.max_input_tokens,
        )
    return PropertyOut(
        id=prop.id,
        database_id=prop.database_id,
        name=prop.name,
        type=PropertyType(prop.type),
        position=prop.position,
        options=prop.options,
        ai=ai,
        created_at=prop.created_at,
        updated_at=prop.updated_at,
    )


def database_out(database: Database) -> DatabaseOut:
    names = {prop.id: prop.name for prop in database.properties}
    return DatabaseOut(
        id=database.id,
        name=database.name,
        properties=[property_out(prop, names) for prop in database.properties],
        created_at=database.created_at,
        updated_at=database.updated_at,
    )


def cell_out(cell: Cell, prop: Property) -> CellOut:
    status = CellStatus(cell.status)
    provenance = None
    if cell.filled_at is not None:
        provenance = Provenance(
            prompt_version=cell.prompt_version,
            model=cell.model,
            input_hash=cell.input_hash,
            tokens_in=cell.tokens_in,
            tokens_out=cell.tokens_out,
            cost_usd=cell.cost_usd,
            truncated=cell.truncated,
            filled_at=cell.filled_at,
        )
    if status == CellStatus.OVERRIDDEN:
        written_by = "person"
    elif cell.filled_at is not None:
        written_by = "ai"
    else:
        written_by = "nobody"
    return CellOut(
        property_id=prop.id,
        property=prop.name,
        value=cell.value,
        status=status,
        error=cell.error,
        error_code=cell.error_code,
        written_by=written_by,
        provenance=provenance,
        overridden_at=cell.overridden_at,
        updated_at=cell.updated_at,
    )


def row_out(row: Row, database: Database) -> RowOut:
    props = {prop.id: prop for prop in database.properties}
    values = {
        prop.name: row.values.get(prop.id)
        for prop in database.properties
        if prop.type != PropertyType.AI.value
    }
    cells = {
        props[cell.property_id].name: cell_out(cell, props[cell.property_id])
        for cell in sorted(row.cells, key=lambda c: props[c.property_id].position)
        if cell.property_id in props
    }
    return RowOut(
        id=row.id,
        database_id=row.database_id,
        properties=values,
        cells=cells,
        content=row.content,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def run_out(session: Session, run: FillRun) -> RunOut:
    seen = runs.view(session, run)
    settled = seen.settled
    return RunOut(
        id=run.id,
        property_id=run.property_id,
        scope=Scope(run.scope),
        mode=FillMode(run.mode),
        state=seen.state,
        total=run.total,
        done=settled.done,
        failed=settled.failed,
        skipped=settled.skipped,
        remaining=max(run.total - settled.done - settled.failed - settled.skipped, 0),
        model_calls=seen.spend.model_calls,
        tokens_in=seen.spend.tokens_in,
        tokens_out=seen.spend.tokens_out,
        cost_usd=round(seen.spend.cost_usd, 8),
        created_at=run.created_at,
        finished_at=seen.finished_at,
        batch=(
            BatchProgressOut(**asdict(economy.of_run(session, run.id)))
            if run.mode == FillMode.ECONOMY.value
            else None
        ),
    )
