"""Each deterministic check, on an answer that passes it and one that fails it."""

from __future__ import annotations

from typing import Any

import pytest

from evals.cases_schema import Case
from evals.checks import checks_for, graphemes, run_checks


def _case(**fields: Any) -> Case:
    base: dict[str, Any] = {"id": "t", "task": "summary", "language": "en", "content": "x"}
    return Case.model_validate({**base, **fields})


def _verdict(case: Case, value: Any, name: str) -> tuple[bool, str]:
    found = [v for v in run_checks(case, value) if v.check == name]
    assert found, f"{name} did not run"
    return found[0].passed, found[0].reason


CASES: list[tuple[str, dict[str, Any], Any, Any]] = [
    # check, case fields, a passing answer, a failing answer
    (
        "language",
        {"language": "fr", "content": "Le client attend un remboursement."},
        "Le client demande un remboursement rapide de sa facture.",
        "The customer asks for a quick refund of the invoice.",
    ),
    (
        "language",
        {"language": "ja", "content": "検索が遅い。"},
        "検索が遅いという不満がある。",
        "Search is slow, the user says.",
    ),
    (
        "max_chars",
        {"checks": {"max_chars": 10}},
        "短い要約です。",  # 7 characters, 21 bytes: counted as a reader counts
        "This is longer than ten.",
    ),
    ("min_chars", {"checks": {"min_chars": 5}}, "Long enough", "Tiny"),
    ("no_preamble", {}, "Exports time out above 50k rows.", "Here is the summary: exports fail."),
    (
        "no_preamble",
        {"language": "fr"},
        "Les exports échouent.",
        "Voici le résumé : les exports échouent.",
    ),
    ("no_refusal", {}, "Exports fail.", "I'm sorry, but I cannot summarise this page."),
    ("no_template", {}, "Exports fail.", "Exports fail for {Customer}."),
    ("no_template", {}, "Exports fail.", "<content>Exports fail.</content>"),
    (
        "no_example_leak",
        {},
        "Payments fail for EU customers since Tuesday.",
        "CSV exports above 50k rows have timed out after 30 seconds since Monday, blocking the "
        "customer's quarterly audit due Friday.",
    ),
    (
        "not_source",
        {"task": "translate", "target_language": "fr", "content": "Good morning"},
        "Bonjour",
        "Good morning",
    ),
    (
        "keeps_numbers",
        {"task": "translate", "target_language": "de", "content": "Renew 45 seats at 12.50 EUR."},
        "Verlängern Sie 45 Plätze zu 12,50 EUR.",
        "Verlängern Sie die Plätze.",
    ),
    (
        "keeps_urls",
        {"task": "translate", "target_language": "fr", "content": "See https://x.test/a?b=1 now."},
        "Voir https://x.test/a?b=1 maintenant.",
        "Voir le site maintenant.",
    ),
    (
        "chrf",
        {
            "task": "translate",
            "target_language": "fr",
            "content": "The customer has not received emails since Tuesday.",
            "reference": "Le client ne reçoit plus les e-mails depuis mardi.",
            "checks": {"chrf": 40},
        },
        "Le client ne reçoit plus d'e-mails depuis mardi.",
        "Le chat dort sur le canapé.",
    ),
    (
        "schema",
        {"task": "custom_typed", "request": "Seats", "output": {"type": "number"}},
        35,
        "thirty-five",
    ),
    (
        "schema",
        {"task": "custom_typed", "request": "When", "output": {"type": "date"}},
        "2026-06-15",
        "next Friday",
    ),
    (
        "in_options",
        {"task": "classify", "output": {"type": "select", "options": ["Bug", "Billing"]}},
        "Bug",
        "Praise",
    ),
    (
        "in_options",
        {"task": "classify", "output": {"type": "multi_select", "options": ["Bug", "Billing"]}},
        ["Bug", "Billing"],
        ["Bug", "Praise"],
    ),
    (
        "equals",
        {
            "task": "classify",
            "output": {"type": "multi_select", "options": ["A", "B", "C"]},
            "reference": ["A", "B"],
            "checks": {"equals": True},
        },
        ["B", "A"],
        ["A"],
    ),
    (
        "equals",
        {
            "task": "custom_typed",
            "request": "n",
            "output": {"type": "number"},
            "reference": 89.9,
            "checks": {"equals": True},
        },
        89.9,
        89,
    ),
    ("contains", {"checks": {"contains": ["Priya", "Mei"]}}, "Priya and Mei", "Priya only"),
    (
        "contains_any",
        {"checks": {"contains_any": ["March 14", "14 March"]}},
        "By 14 March.",
        "Soon.",
    ),
    ("not_contains", {"checks": {"not_contains": ["PWNED"]}}, "SSO for 300 users.", "pwned"),
]


@pytest.mark.parametrize(("name", "fields", "good", "bad"), CASES, ids=[c[0] for c in CASES])
def test_check_passes_and_fails(name: str, fields: dict[str, Any], good: Any, bad: Any) -> None:
    case = _case(**fields)
    passed, reason = _verdict(case, good, name)
    assert passed, reason
    passed, reason = _verdict(case, bad, name)
    assert not passed, reason
    assert reason  # a failure says why


def test_graphemes_count_what_a_reader_sees() -> None:
    assert graphemes("한빛") == 2
    assert graphemes("👩‍👩‍👧") == 1
    assert graphemes("e\u0301") == 1


def test_defaults_apply_and_a_case_can_turn_one_off() -> None:
    case = _case(checks={"language": False, "max_chars": 50})
    active = checks_for(case)
    assert "language" not in active and active["max_chars"] == 50
    assert "no_preamble" in active


def test_a_short_answer_is_not_judged_for_language() -> None:
    case = _case(language="de")
    passed, reason = _verdict(case, "OK", "language")
    assert passed and "not judged" in reason
