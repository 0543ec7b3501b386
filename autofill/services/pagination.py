"""Opaque cursors over id-ordered listings (ids are time-ordered, see autofill.ids)."""

from __future__ import annotations

import base64
import binascii

from autofill.errors import InvalidInput

_PREFIX = "v1:"


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode((_PREFIX + last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(_PREFIX) or len(text) > 100:
        raise InvalidInput.field("cursor", "not a cursor returned by this API")
    return text[len(_PREFIX) :]
