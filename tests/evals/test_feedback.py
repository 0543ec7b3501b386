"""Shared feedback becomes candidate cases: redacted, consent recorded, loadable."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autofill.db.models import CellFeedback, Workspace
from autofill.db.session import Store
from evals.cases_schema import load_cases
from evals.feedback import import_feedback, redact


def _feedback(store: Store, **fields: object) -> None:
    with store.transaction() as session:
        if session.get(Workspace, "ws_1") is None:
            session.add(Workspace(id="ws_1", name="W"))
            session.flush()
        base: dict[str, object] = {
            "workspace_id": "ws_1",
            "row_id": "row_1",
            "property_id": "prop_1",
            "rating": "down",
            "share": True,
        }
        session.add(CellFeedback(**{**base, **fields}))


SNAPSHOT = {
    "task": "summary",
    "request": None,
    "target_language": None,
    "output": {"type": "text", "options": None, "allow_none": False},
    "model": "sim:sim-1",
    "prompt_version": "summary:abc",
    "properties": {"Name": "Rappel de Jeanne"},
    "content": "Merci de rappeler Jeanne au +33 6 12 34 56 78 ou jeanne@exemple.fr avant vendredi.",
    "value": "Rappeler Jeanne.",
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_shared_feedback_becomes_a_redacted_candidate(store: Store, tmp_path: Path) -> None:
    _feedback(store, id="fb_1", snapshot=SNAPSHOT, comment="Il manque le délai (jeanne@exemple.fr)")
    _feedback(store, id="fb_2", share=False, snapshot=None, rating="up")
    with store.transaction() as session:
        written = import_feedback(session, tmp_path)
    assert [p.name for p in written] == ["feedback-fb-1.yaml"]
    text = written[0].read_text(encoding="utf-8")
    assert "jeanne@exemple.fr" not in text and "+33 6" not in text
    assert "[email]" in text and "[phone]" in text
    case = yaml.safe_load(text)["cases"][0]
    assert case["source"] == {"kind": "user_shared", "feedback_id": "fb_1", "consent": True}
    assert case["language"] == "fr" and case["severity"] == "warn"
    assert "reference" not in case  # rated down: a person writes the right answer
    loaded = load_cases(tmp_path)
    assert loaded[0].id == "feedback-fb-1"

    with store.transaction() as session:
        assert import_feedback(session, tmp_path) == []  # each is imported once


def test_redaction_keeps_dates_and_small_numbers() -> None:
    assert redact("due 2026-06-15, 45 seats at 12.50") == "due 2026-06-15, 45 seats at 12.50"
    assert redact("call 555-123-4567") == "call [phone]"
