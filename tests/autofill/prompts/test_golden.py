"""Golden tests: the exact request each sample page renders to, pinned in golden/*.json.

A prompt edit that changes what is sent fails here until the pins are updated on purpose:

    AUTOFILL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/autofill/prompts/test_golden.py

then read the diff of tests/autofill/prompts/golden/ before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from autofill.columns import AIConfig
from autofill.prompts.prepare import prepare
from autofill.prompts.render import RowData

GOLDEN = Path(__file__).with_name("golden")
TEXT = {"type": "text", "options": None, "allow_none": False}


def ai(task: str, model: str = "openai:gpt-4.1-mini", **extra: Any) -> dict[str, Any]:
    return {
        "task": task,
        "instruction": None,
        "inputs": ["content"],
        "target_language": None,
        "output": TEXT,
        "model": model,
        "auto_update": True,
        "max_input_tokens": None,
        **extra,
    }


LONG = "\n\n".join(
    f"Section {i}. The team discussed item {i} at length. Nothing was decided." for i in range(600)
)

CASES: dict[str, tuple[dict[str, Any], RowData]] = {
    "summary-fr-ticket": (
        ai("summary"),
        RowData({}, "Bonjour, la facture de mars a été envoyée deux fois. Merci de corriger."),
    ),
    "summary-ja-anthropic": (
        ai("summary", model="anthropic:claude-haiku-4-5"),
        RowData({}, "検索がとても遅い。毎日困っている。"),
    ),
    "summary-empty": (ai("summary"), RowData({}, "")),
    "summary-long-truncated": (ai("summary", max_input_tokens=1500), RowData({}, LONG)),
    "key-info-de": (
        ai("key_info", instruction="Die genannten Fristen"),
        RowData({}, "Das Angebot muss bis 12. Mai vorliegen, die Abnahme bis Ende Juni."),
    ),
    "translate-title-fr": (
        ai("translate", inputs=["p-name"], target_language="fr"),
        RowData({"Name": "Weekly sync with the sales team"}, None),
    ),
    "classify-ko-multi-none": (
        ai(
            "classify",
            output={
                "type": "multi_select",
                "options": ["Delivery", "Pricing", "Support"],
                "allow_none": True,
            },
        ),
        RowData({}, "배송이 늦고 가격도 올랐다."),
    ),
    "custom-typed-number": (
        ai(
            "custom",
            instruction="How many seats do they want?",
            output={"type": "number", "options": None, "allow_none": False},
        ),
        RowData({}, "They want to grow from 40 to 65 seats."),
    ),
    "custom-with-reference": (
        ai(
            "custom",
            instruction="Given {Status}, what is the next step? Reply as {{step}}.",
            inputs=["p-status", "content"],
        ),
        RowData({"Status": "Waiting for legal"}, "Legal has had the DPA for a week."),
    ),
}


def snapshot(config: dict[str, Any], row: RowData) -> dict[str, Any]:
    prepared = prepare(AIConfig.model_validate(config), row)
    fitted = prepared.fitted
    return {
        "model": prepared.request.model,
        "prompt_version": fitted.prompt_version,
        "language": fitted.language,
        "examples": fitted.examples,
        "input_tokens": fitted.input_tokens,
        "truncated": fitted.truncated,
        "messages": [
            {"role": m.role, "cache_boundary": m.cache_boundary, "content": m.content}
            for m in fitted.messages
        ],
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_request_matches_its_pin(name: str) -> None:
    actual = snapshot(*CASES[name])
    path = GOLDEN / f"{name}.json"
    if os.environ.get("AUTOFILL_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert path.exists(), f"no pin for {name}: run AUTOFILL_UPDATE_GOLDEN=1 pytest {__file__}"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected, f"{name} renders differently; see the module docstring to update"


def test_no_stale_pins() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(CASES)
