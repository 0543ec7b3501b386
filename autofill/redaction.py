"""Keeping provider API keys out of everything a person or another tenant can read. Keys live in
the settings (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``AUTOFILL_COMPAT_<NAME>_API_KEY``, any
other ``*_API_KEY``: ``Settings.secret_values``). A provider may echo the key it was sent in an
error ("Incorrect API key provided: sk-…"), and an error becomes a cell's message, an event and
a log line. ``redact`` removes every configured key, and anything shaped like a provider key,
from a text; provider errors and every log line pass through it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

from autofill.config import Settings, SettingsError, get_settings

REDACTED = "[redacted]"
# Shapes of provider keys: OpenAI (sk-…, sk-proj-…), Anthropic (sk-ant-…), bearer tokens.
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9_\-.=]{8,})")
_MIN_SECRET = 8  # shorter values ("not-needed", "x") are placeholders, not secrets


# The keys of the settings last asked about: gathering them scans the environment, and every
# log line asks (two per fill). New settings (``use_settings``) gather them again.
_gathered: tuple[Settings, list[str]] | None = None


def configured_keys() -> list[str]:
    global _gathered
    try:
        settings = get_settings()
    except SettingsError:  # the process is about to stop on it; key shapes still apply
        return []
    gathered = _gathered
    if gathered is not None and gathered[0] is settings:
        return gathered[1]
    keys = {value for value in settings.secret_values() if len(value) >= _MIN_SECRET}
    ordered = sorted(keys, key=len, reverse=True)  # longest first: no partial leftovers
    _gathered = (settings, ordered)
    return ordered


def redact(text: str, keys: list[str] | None = None) -> str:
    for key in configured_keys() if keys is None else keys:
        if key in text:
            text = text.replace(key, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)


def redact_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: every string value of a log line, redacted."""
    keys = configured_keys()  # once per line, not once per field
    for field, value in event.items():
        if isinstance(value, str):
            event[field] = redact(value, keys)
    return event


class RedactFilter(logging.Filter):
    """The same for the standard library's log lines (Celery's, the HTTP client's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
