"""Deterministic checks of one answer to one case. Each returns a verdict with its reason, so
a failing run says what went wrong, not only that something did.

Which checks run: the task's defaults (``DEFAULTS``), then the case's own ``checks`` (a value
sets a bound or turns a check on; ``false`` turns a default off).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
from sacrebleu.metrics.chrf import CHRF

from autofill.kinds import OutputType
from autofill.language import candidates, page_language
from autofill.prompts import load_prompt
from autofill.values import validate_value
from evals.cases_schema import CHECK_NAMES, Case

_TEXT_CHECKS = {
    "language": True,
    "no_preamble": True,
    "no_refusal": True,
    "no_template": True,
    "no_example_leak": True,
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "summary": {**_TEXT_CHECKS, "max_chars": 400},
    "key_info": {**_TEXT_CHECKS, "max_chars": 300},
    "custom": dict(_TEXT_CHECKS),
    "translate": {
        **_TEXT_CHECKS,
        "no_example_leak": True,
        "not_source": True,
        "keeps_numbers": True,
        "keeps_urls": True,
    },
    "classify": {"schema": True, "in_options": True},
    "custom_typed": {"schema": True, "in_options": True},
}

# Openings that announce the answer instead of giving it, in the prompt languages.
_PREAMBLES = (
    "here is",
    "here's",
    "here are",
    "sure,",
    "sure!",
    "certainly",
    "of course",
    "the summary",
    "summary:",
    "this page",
    "the page",
    "voici",
    "voilà",
    "résumé :",
    "résumé:",
    "hier ist",
    "hier sind",
    "zusammenfassung:",
    "aquí tienes",
    "aquí está",
    "resumen:",
    "ecco",
    "以下は",
    "要約：",
    "要約:",
    "다음은",
    "요약:",
    "以下是",
    "总结：",
    "摘要：",
)
_REFUSALS = (
    "i can't",
    "i cannot",
    "i can not",
    "i'm unable",
    "i am unable",
    "as an ai",
    "i'm sorry",
    "je ne peux pas",
    "ich kann nicht",
    "no puedo",
    "申し訳ありません",
    "죄송합니다",
    "抱歉",
    "我无法",
)
_TEMPLATE = re.compile(
    r"\{\{|\}\}|\{[A-Za-z_][^{}\n]{0,40}\}|</?(document|content|properties|request)>|\[INSERT"
)
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_SIM_MARK = "[sim]"


@dataclass(frozen=True)
class Verdict:
    check: str
    passed: bool  # a verdict not judged does not fail its case
    reason: str
    judged: bool = True  # False: the check could not be judged (no judge able to grade it)


def checks_for(case: Case) -> dict[str, Any]:
    merged = {**DEFAULTS[case.task], **case.checks}
    return {name: setting for name, setting in merged.items() if setting is not False}


def run_checks(case: Case, value: Any) -> list[Verdict]:
    return [_CHECKS[name](case, value, setting) for name, setting in checks_for(case).items()]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace(_SIM_MARK, "")
    return " ".join(text.split())


def _source(case: Case) -> str:
    if case.content:
        return case.content
    return "\n".join(str(v) for v in case.properties.values() if v is not None)


def graphemes(text: str) -> int:
    """Length as a reader counts it: one per user-perceived character, CJK and emoji too."""
    return len(regex.findall(r"\X", text))


def _language(case: Case, value: Any, _: Any) -> Verdict:
    text = _text(value).replace(_SIM_MARK, "").strip()
    expected = case.answer_language
    ranked = candidates(text) if len(text) >= 4 else []
    if not ranked:
        return Verdict("language", True, "too short to tell; not judged")
    found = ranked[0][0]
    if found == expected:
        return Verdict("language", True, f"answer is in {found}")
    sure = page_language(text).confident
    # Short answers are ambiguous between neighbours (es/pt, da/nb): a close second counts.
    if not sure and any(code == expected and value >= 0.1 for code, value in ranked):
        return Verdict("language", True, f"answer is probably in {expected} (or {found})")
    return Verdict("language", False, f"answer is in {found}, expected {expected}")


def _max_chars(case: Case, value: Any, limit: Any) -> Verdict:
    count = graphemes(_text(value))
    ok = count <= int(limit)
    return Verdict("max_chars", ok, f"{count} characters (limit {limit})")


def _min_chars(case: Case, value: Any, limit: Any) -> Verdict:
    count = graphemes(_text(value))
    ok = count >= int(limit)
    return Verdict("min_chars", ok, f"{count} characters (at least {limit})")


def _no_preamble(case: Case, value: Any, _: Any) -> Verdict:
    head = _fold(_text(value))[:40]
    for opening in _PREAMBLES:
        if head.startswith(opening):
            return Verdict("no_preamble", False, f"opens with {opening!r}")
    return Verdict("no_preamble", True, "starts with the content")


def _no_refusal(case: Case, value: Any, _: Any) -> Verdict:
    folded = _fold(_text(value))
    for phrase in _REFUSALS:
        if phrase in folded:
            return Verdict("no_refusal", False, f"contains {phrase!r}")
    return Verdict("no_refusal", True, "no refusal")


def _no_template(case: Case, value: Any, _: Any) -> Verdict:
    found = _TEMPLATE.search(_text(value))
    if found:
        return Verdict("no_template", False, f"contains template or markup {found.group(0)!r}")
    return Verdict("no_template", True, "no template variables or markup")


@lru_cache(maxsize=16)
def _example_answers(prompt_task: str, file_hash: str) -> tuple[str, ...]:
    loaded = load_prompt(prompt_task)  # type: ignore[arg-type]
    answers = []
    for example in loaded.prompt.examples:
        if isinstance(example.answer, str) and len(example.answer) >= 12:
            answers.append(_fold(example.answer))
    return tuple(answers)


def _no_example_leak(case: Case, value: Any, _: Any) -> Verdict:
    folded = _fold(_text(value))
    if not folded:
        return Verdict("no_example_leak", True, "empty answer")
    loaded = load_prompt(case.task)
    reference = _fold(_text(case.reference))
    for answer in _example_answers(case.task, loaded.file_hash):
        if answer != reference and (answer in folded or (len(folded) >= 12 and folded in answer)):
            return Verdict("no_example_leak", False, f"repeats a few-shot answer: {answer[:60]!r}")
    return Verdict("no_example_leak", True, "no few-shot answer repeated")


def _not_source(case: Case, value: Any, _: Any) -> Verdict:
    if _fold(_text(value)) == _fold(_source(case)):
        return Verdict("not_source", False, "the source came back unchanged")
    return Verdict("not_source", True, "differs from the source")


def _digits(text: str) -> set[str]:
    # "12.50", "12,50" and "1 200" all keep their digits: compare digit runs, not formats.
    joined = re.sub(r"(?<=\d)[.,\u00a0\u202f ](?=\d)", "", text)
    return set(re.findall(r"\d+", joined))


def _keeps_numbers(case: Case, value: Any, _: Any) -> Verdict:
    missing = sorted(_digits(_source(case)) - _digits(_text(value)))
    if missing:
        return Verdict("keeps_numbers", False, f"numbers lost: {', '.join(missing)}")
    return Verdict("keeps_numbers", True, "every number kept")


def _keeps_urls(case: Case, value: Any, _: Any) -> Verdict:
    missing = [url for url in _URL.findall(_source(case)) if url not in _text(value)]
    if missing:
        return Verdict("keeps_urls", False, f"URLs lost: {', '.join(missing)}")
    return Verdict("keeps_urls", True, "every URL kept")


@lru_cache(maxsize=1)
def _chrf() -> CHRF:
    return CHRF()


def _chrf_check(case: Case, value: Any, threshold: Any) -> Verdict:
    if not isinstance(case.reference, str):
        return Verdict("chrf", True, "no reference; not judged")
    hypothesis = _text(value).replace(_SIM_MARK, "").strip()
    score = _chrf().sentence_score(hypothesis, [case.reference]).score
    ok = score >= float(threshold)
    return Verdict("chrf", ok, f"chrF {score:.1f} against the reference (at least {threshold})")


def _schema(case: Case, value: Any, _: Any) -> Verdict:
    output = case.output
    if value is None:
        ok = output.allow_none
        return Verdict("schema", ok, "null" + ("" if ok else " where a value is required"))
    try:
        validate_value(output.type.value, value, output.options)
    except ValueError as exc:
        return Verdict("schema", False, f"not a valid {output.type.value}: {exc}")
    return Verdict("schema", True, f"a valid {output.type.value}")


def _in_options(case: Case, value: Any, _: Any) -> Verdict:
    options = case.output.options
    if options is None or value is None:
        return Verdict(
            "in_options", True, "no options to choose from" if options is None else "none chosen"
        )
    chosen = value if isinstance(value, list) else [value]
    outside = [str(item) for item in chosen if item not in options]
    if outside:
        return Verdict("in_options", False, f"not an option: {', '.join(outside)}")
    if case.output.type == OutputType.SELECT and isinstance(value, list):
        return Verdict("in_options", False, "several values for a single select")
    return Verdict("in_options", True, "within the options")


def _equals(case: Case, value: Any, _: Any) -> Verdict:
    expected = case.reference
    if isinstance(expected, list) and isinstance(value, list):
        ok = sorted(map(str, expected)) == sorted(map(str, value))
    elif isinstance(expected, str) and isinstance(value, str):
        ok = _fold(expected) == _fold(value)
    elif isinstance(expected, int | float) and isinstance(value, int | float):
        ok = abs(float(expected) - float(value)) < 1e-9
    else:
        ok = expected == value
    return Verdict(
        "equals",
        ok,
        f"{value!r}" + (" equals" if ok else " differs from") + f" the reference {expected!r}",
    )


def _contains(case: Case, value: Any, needles: Any) -> Verdict:
    folded = _fold(_text(value))
    missing = [str(n) for n in needles if _fold(str(n)) not in folded]
    if missing:
        return Verdict("contains", False, f"missing: {', '.join(missing)}")
    return Verdict("contains", True, "has every required fragment")


def _contains_any(case: Case, value: Any, needles: Any) -> Verdict:
    folded = _fold(_text(value))
    if any(_fold(str(n)) in folded for n in needles):
        return Verdict("contains_any", True, "has one of the expected fragments")
    return Verdict("contains_any", False, f"has none of: {', '.join(map(str, needles))}")


def _not_contains(case: Case, value: Any, needles: Any) -> Verdict:
    folded = _fold(_text(value))
    found = [str(n) for n in needles if _fold(str(n)) in folded]
    if found:
        return Verdict("not_contains", False, f"contains: {', '.join(found)}")
    return Verdict("not_contains", True, "none of the forbidden fragments")


_CHECKS: dict[str, Callable[[Case, Any, Any], Verdict]] = {
    "language": _language,
    "max_chars": _max_chars,
    "min_chars": _min_chars,
    "no_preamble": _no_preamble,
    "no_refusal": _no_refusal,
    "no_template": _no_template,
    "no_example_leak": _no_example_leak,
    "not_source": _not_source,
    "keeps_numbers": _keeps_numbers,
    "keeps_urls": _keeps_urls,
    "chrf": _chrf_check,
    "schema": _schema,
    "in_options": _in_options,
    "equals": _equals,
    "contains": _contains,
    "contains_any": _contains_any,
    "not_contains": _not_contains,
}
assert set(_CHECKS) == CHECK_NAMES, "evals.cases_schema.CHECK_NAMES lists every check"
