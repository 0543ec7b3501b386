"""Shared feedback → candidate eval cases, for a person to review and accept.

Only feedback whose author consented (``share``) is read. Emails and phone numbers are
redacted from the page, its properties and the comment before anything is written. Each
candidate is one YAML file in ``evals/candidates/``; accepting it means moving it into
``evals/cases/`` (and filling in a reference if the answer was rated down).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from autofill.db import CellFeedback, utcnow
from autofill.kinds import OutputType, PromptTask, Task
from autofill.language import detect_language
from evals.cases_schema import CASES_DIR, Case

CANDIDATES_DIR = CASES_DIR.parent / "candidates"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, possibly split by spaces, dots, dashes or brackets, maybe with a +.
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d(?:[\s.\-()]{0,2}\d){6,}(?![\w-])")
# ISO dates look like phone numbers to the pattern above; keep them.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def redact(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub(lambda m: m.group(0) if _ISO_DATE.match(m.group(0)) else "[phone]", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    return value


def candidate(feedback: CellFeedback) -> dict[str, Any]:
    snapshot = feedback.snapshot or {}
    content = _redact_value(snapshot.get("content"))
    properties = _redact_value(snapshot.get("properties") or {})
    output = snapshot.get("output") or {"type": OutputType.TEXT.value}
    task = PromptTask(snapshot.get("task", Task.CUSTOM))
    if task == PromptTask.CUSTOM and output.get("type") != OutputType.TEXT:
        task = PromptTask.CUSTOM_TYPED
    sample = content or " ".join(str(v) for v in properties.values())
    language = detect_language(sample) or "en"
    data: dict[str, Any] = {
        "id": f"feedback-{feedback.id.lower().replace('_', '-')}",
        "task": task.value,
        "language": language,
        "properties": properties,
        "severity": "warn",
        "tags": ["from-feedback", f"rated-{feedback.rating}", language],
        "source": {"kind": "user_shared", "feedback_id": feedback.id, "consent": True},
    }
    if content is not None:
        data["content"] = content
    if snapshot.get("request"):
        data["request"] = _redact_value(snapshot["request"])
    if snapshot.get("target_language"):
        data["target_language"] = snapshot["target_language"]
    if task in (PromptTask.CLASSIFY, PromptTask.CUSTOM_TYPED):
        data["output"] = output
    if feedback.rating == "up":
        data["reference"] = _redact_value(snapshot.get("value"))
    Case.model_validate(data)  # a candidate that does not load is a bug here, not the user's
    return data


def import_feedback(session: Session, directory: Path = CANDIDATES_DIR) -> list[Path]:
    """Write a candidate per shared, not yet imported feedback; mark them imported."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    pending = session.scalars(
        select(CellFeedback)
        .where(CellFeedback.share.is_(True), CellFeedback.imported_at.is_(None))
        .order_by(CellFeedback.created_at)
    )
    for feedback in pending:
        data = candidate(feedback)
        comment = redact(feedback.comment or "").replace("\n", " ")
        header = (
            f"# Candidate from shared feedback {feedback.id} (rated {feedback.rating}, "
            f"model {(feedback.snapshot or {}).get('model')}).\n"
            + (f"# The user said: {comment}\n" if comment else "")
            + "# Review it, set a reference if the answer was wrong, then move this file's case "
            "into evals/cases/.\n"
        )
        path = directory / f"{data['id']}.yaml"
        body = yaml.safe_dump({"cases": [data]}, allow_unicode=True, sort_keys=False)
        path.write_text(header + body, encoding="utf-8")
        feedback.imported_at = utcnow()
        written.append(path)
    return written
