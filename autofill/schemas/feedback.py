"""Thumbs up or down on an AI cell."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from autofill.schemas.common import StrictModel


def _comment(value: str) -> str | None:
    cleaned = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in cleaned):
        raise ValueError("a comment must not contain control characters")
    return cleaned or None


class FeedbackIn(StrictModel):
    rating: Literal["up", "down"]
    # The length limit sits on the text itself: on the union it would be applied to null too.
    comment: Annotated[str, Field(max_length=2000), AfterValidator(_comment)] | None = None
    share: bool = Field(
        default=False,
        description=(
            "Consent to share this page with the prompt team: the page, the column's settings "
            "and the answer are kept so they can become an eval case (emails and phone numbers "
            "are redacted on import). Without it no page data is kept."
        ),
    )


class FeedbackOut(BaseModel):
    id: str
    row_id: str
    property_id: str
    rating: Literal["up", "down"]
    comment: str | None
    share: bool
    created_at: datetime
