"""An AI column's configuration as the service stores and uses it: typed and frozen.

The API's request shapes (autofill.schemas.properties.AIConfigIn and AIConfigPatch) say what a
client may send; autofill.services.ai_columns resolves that into an ``AIConfig`` (inputs by
property id, the model chosen), which the database stores as JSON (autofill.db.types.
PydanticJSON) and every layer reads by attribute. A change is a new value (``model_copy``), so
the store always sees it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from autofill.kinds import Task
from autofill.outputs import OutputSpec


class AIConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Task
    instruction: str | None = None  # with {Property} references by name
    # The inputs the client named (by id), or None when they are derived from the instruction.
    explicit_inputs: tuple[str, ...] | None = None
    inputs: tuple[str, ...]  # property ids, and "content" for the page body
    target_language: str | None = None
    output: OutputSpec = OutputSpec()
    model: str
    auto_update: bool = True
    max_input_tokens: int | None = None

    def reads(self, property_id: str) -> bool:
        return property_id in self.inputs
