"""Redaction of provider API keys (the end-to-end check is in fills/test_fill_secrets.py)."""

from __future__ import annotations

import logging

from autofill.redaction import REDACTED, RedactFilter, redact
from tests.conftest import Configure


def test_configured_keys_and_key_shapes_are_redacted(configure: Configure) -> None:
    configure(
        compat={"LOCAL": {"base_url": "http://127.0.0.1:1/v1", "api_key": "local-secret-123456"}}
    )
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
