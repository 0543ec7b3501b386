"""Redaction of provider API keys (the end-to-end check is in fills/test_fill_secrets.py)."""

from __future__ import annotations

import logging

import pytest

from autofill.redaction import REDACTED, RedactFilter, redact


def test_configured_keys_and_key_shapes_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOFILL_COMPAT_LOCAL_API_KEY", "local-secret-123456")
    assert redact("key local-secret-123456 rejected") == f"key {REDACTED} rejected"
    assert redact("Incorrect API key provided: sk-proj-abcDEF123456") == (
        f"Incorrect API key provided: {REDACTED}"
    )
    assert redact("Authorization: Bearer af_abcdefghijkl") == f"Authorization: {REDACTED}"
    assert redact("nothing secret in 42 tokens") == "nothing secret in 42 tokens"


def test_standard_log_lines_are_redacted() -> None:
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "failed: %s", ("sk-ant-0123456789",), None
    )
    RedactFilter().filter(record)
    assert record.getMessage() == f"failed: {REDACTED}"
