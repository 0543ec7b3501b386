"""The models a column may choose, as people see them: their lifecycle, and the list."""

from __future__ import annotations

from autofill.llm import ModelInfo, ModelRefused, catalogue
from autofill.schemas import ModelStatusOut


def model_choices() -> list[str]:
    """Every model of the catalogue a column may use now (the retired are left out)."""
    return [
        name
        for name, info in catalogue()
        if isinstance(info, ModelInfo) and not info.past_retirement and not name.endswith(":*")
    ]


def model_status(reference: str) -> ModelStatusOut | None:
    try:
        info = catalogue().get(reference)
    except ModelRefused:
        return None
    return ModelStatusOut(
        status=info.status,
        retires_on=info.retires_on.isoformat() if info.retires_on else None,
        replacement=info.replacement,
        warning=info.warning(reference),
    )
