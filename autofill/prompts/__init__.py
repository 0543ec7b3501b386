"""The prompt library: one YAML file per task in prompts/, rendered into chat messages with
few-shot examples as earlier turns, and fitted to the model's window.

What other packages use comes from here: one function prepares a column's request for a row
(``prepare_for_row``), used by the fill, the previews, run estimates and the evals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autofill.faces import lazy_face

if TYPE_CHECKING:
    from autofill.prompts.defuse import defuse
    from autofill.prompts.library import PromptLoadError, load_prompt, prompts_dir
    from autofill.prompts.prepare import (
        CannotPrepare,
        Prepared,
        prepare_for_row,
        render_request,
        row_data,
    )

__all__ = [
    "CannotPrepare",
    "Prepared",
    "PromptLoadError",
    "defuse",
    "load_prompt",
    "prepare_for_row",
    "prompts_dir",
    "render_request",
    "row_data",
]

__getattr__ = lazy_face(__name__, __file__)
