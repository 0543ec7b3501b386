"""What an AI column answers: its output type, its options, and whether "none fits" is an answer.

A value type below every layer that needs it: the request shapes (autofill.schemas), the prompts,
and the model layer, which asks a model for exactly this.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from autofill.kinds import OPTION_OUTPUTS, OutputType
from autofill.text import clean_options
from autofill.validation import FieldProblem, StrictModel

Options = Annotated[list[str], AfterValidator(clean_options)]


class OutputSpec(StrictModel):
    type: OutputType = OutputType.TEXT
    options: Options | None = None
    allow_none: bool = Field(
        default=False,
        description="Typed outputs: the model may answer that no value fits (empty, reason kept)",
    )

    @model_validator(mode="after")
    def _options_match_type(self) -> OutputSpec:
        if self.type in OPTION_OUTPUTS and self.options is None:
            raise FieldProblem("options", f"a {self.type.value} output needs options")
        if self.type not in OPTION_OUTPUTS and self.options is not None:
            raise FieldProblem("options", f"a {self.type.value} output takes no options")
        if self.type == OutputType.TEXT and self.allow_none:
            # Typed outputs may be "not in the page" (no option fits, no date given); text may
            # simply say so.
            raise FieldProblem("allow_none", "allow_none applies to typed outputs, not text")
        return self
