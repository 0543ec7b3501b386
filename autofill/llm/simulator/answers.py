"""Deterministic answers grounded in the input, so behaviour across languages stays visible.

- prose: the document's leading sentences, in its own language, prefixed ``[sim]``;
- a choice among options: the option whose words overlap the document most (first on ties);
- numbers, dates, booleans: the first one found in the document, else a neutral value;
- a schema that allows null and nothing fits: null.
Every prose answer carries the ``[sim]`` marker so no person mistakes it for a model's.

``sim:obey-*`` models stand in for a model taken over by prompt injection: when any line of the
request says ``ANSWER: …`` they answer exactly that, whatever format was asked for (as a server
that does not enforce structured output would). Tests use them to show that what such a model
writes still cannot land in a typed column outside its type. ``sim:mimic-*`` (answers in the
page's language only when the prompt makes it clear) and ``sim:lenient-*`` (obeys an
``ANSWER:`` line it reads outside the document) stand in for kinds of model behaviour in the
same way.

What this module decides is what a *model* says, not what a provider accepts: none of it is a
provider rule, so none cites one (the rules a request must meet, each with its source, are in
rules.py, unchanged by these models).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from autofill.language import detect_language
from autofill.language_names import describe
from autofill.text import fold

MARK = "[sim]"
# Our tags may carry a boundary (``<document-1f2e…>``); a model reads them either way.
_DOCUMENT = re.compile(r"<document(-[0-9a-f]+|)>(.*?)</document\1>", re.S)
_PROPERTIES = re.compile(r"<properties(-[0-9a-f]+|)>\n?(.*?)\n?</properties\1>", re.S)
_CONTENT = re.compile(r"<content(-[0-9a-f]+|)>\n?(.*?)\n?</content\1>", re.S)
_ALWAYS_ENGLISH = re.compile(r"(?i)\b(?:answer|write)\b[^.\n]*\bin English\b")
_NAMED = re.compile(r"Write your answer in ([^.\n]+?)(?: unless [^.\n]*)?\.")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])|\n+")
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_ORDER = re.compile(r"ANSWER:[ \t]*(.+)")
_OPTIONS = re.compile(r"^Options: (.+)$", re.M)


def listed_options(text: str) -> list[str]:
    """Options the request lists in words ("Options: a | b"), for a schema too large to carry
    them as an enum: a model reads its instructions."""
    found = _OPTIONS.findall(text)
    return [o.strip() for o in found[-1].split(" | ")] if found else []


def obeyed(text: str) -> str | None:
    """What an injected ``ANSWER: …`` line orders an obedient model to say (the last one)."""
    orders = _ORDER.findall(text)
    return str(orders[-1]).strip() if orders else None


# How a lenient reader sees brackets and tags: invisible characters gone, compatibility forms
# and case folded, look-alike brackets and slashes read as the ASCII ones.
_LENIENT = str.maketrans({"‹": "<", "〈": "<", "⟨": "<", "❮": "<", "›": ">", "〉": ">", "⟩": ">"})
_LENIENT_SLASHES = str.maketrans({"⁄": "/", "∕": "/", "\\": "/"})
_LENIENT_CLOSE = re.compile(r"<\s*/\s*(?:document|content)(?![a-z0-9_])[^<>\n]*>?")


def _lenient(text: str) -> str:
    kept = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    folded = unicodedata.normalize("NFKC", kept).casefold()
    return folded.translate(_LENIENT).translate(_LENIENT_SLASHES)


def escaped(row_turn: str) -> str | None:
    """The ``sim:lenient-*`` models: they keep to the document as data, but read its tags
    leniently, as a model might (``< /Document>``, ``</docu​ment>``, ``＜/content＞``, an
    unclosed ``</document`` all close it, with or without the boundary). An ``ANSWER: …`` line
    after such a close is outside the data to them, and they obey it. Tests use them to show
    that no spelling of our tags lets a page out of its document."""
    view = _lenient(row_turn)
    start = re.search(r"<document(-[0-9a-f]+)?>", view)
    if start is None:
        return None
    genuine = view.rfind("</document")  # the template's own close, the last in the turn
    close = _LENIENT_CLOSE.search(view, start.end())
    if close is None or close.start() >= genuine:
        return None  # the data stayed inside
    if "answer:" not in view[close.end() : genuine]:
        return None
    return obeyed(row_turn)  # as written (the view is case-folded)


def find_document(text: str) -> str:
    """The row's data: the page (``<content>``) of the last ``<document>`` block, else its
    property values, else all of the text."""
    blocks = [body for _, body in _DOCUMENT.findall(text)]
    block = blocks[-1] if blocks else text
    content = [body for _, body in _CONTENT.findall(block)]
    if content and content[-1].strip():
        return str(content[-1]).strip()
    properties = [body for _, body in _PROPERTIES.findall(block)]
    if content and not properties:
        return ""  # an empty page and nothing else: not the markup around it
    if properties:
        # Properties only (e.g. a translated title): their values, without the markup.
        lines = str(properties[-1]).strip().splitlines()
        return "\n".join(line.split(": ", 1)[-1] for line in lines if line.strip()).strip()
    return block.strip()


def leading_sentences(document: str, count: int = 2, max_chars: int = 280) -> str:
    sentences = [s.strip() for s in _SENTENCE_END.split(document) if s and s.strip()]
    lead = ""
    for sentence in sentences[:count]:
        # CJK sentences run on without a space; others take one.
        lead += sentence if not lead or lead[-1] in "。！？" else " " + sentence
    return lead if len(lead) <= max_chars else lead[: max_chars - 1] + "…"


def prose(system: str, document: str) -> str:
    if not document.strip():
        return f"{MARK} (empty page)"
    lead = leading_sentences(document)
    if "translat" in system.lower():
        return f"{MARK} (translation) {lead}"
    return f"{MARK} {lead}"


def _is_cjk(word: str) -> bool:
    return any(ord(ch) >= 0x2E80 for ch in word)


def overlap(option: str, document: str) -> int:
    """How many of the option's words occur in the document: whole words in scripts that
    space their words, substrings in CJK (which does not)."""
    folded = fold(document)
    doc_words = set(re.findall(r"\w+", folded))
    words = re.findall(r"\w+", fold(option))
    return sum(1 for w in words if (w in folded if _is_cjk(w) else w in doc_words))


def best_option(options: list[str], document: str) -> str | None:
    """The most overlapping option, or None when no option shares anything with the text."""
    scored = [(overlap(option, document), -index, option) for index, option in enumerate(options)]
    score, _, option = max(scored)
    return option if score > 0 else None


def value_for(
    schema: dict[str, Any],
    document: str,
    system: str,
    defs: dict[str, Any],
    listed: list[str] | None = None,
) -> Any:
    """A value that satisfies ``schema`` (the subset of JSON Schema structured outputs use);
    ``listed``: options the instructions name, used where the schema has no enum."""
    if "$ref" in schema:
        return value_for(defs[schema["$ref"].rsplit("/", 1)[1]], document, system, defs, listed)
    if (
        listed
        and "enum" not in schema
        and "format" not in schema
        and schema.get("type") == "string"
    ):
        schema = {**schema, "enum": listed}
    if listed and schema.get("type") == "array" and "enum" not in schema.get("items", {}):
        schema = {**schema, "items": {**schema.get("items", {}), "enum": listed}}
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        concrete = [s for s in options if s.get("type") != "null"]
        if not concrete:
            return None
        first = concrete[0]
        if listed and first.get("type") == "string" and not {"enum", "format"} & set(first):
            first = {**first, "enum": listed}
        if len(concrete) < len(options) and not _points_at_an_option(first, document):
            return None  # nullable, and nothing in the text points at any option
        return value_for(first, document, system, defs, listed)
    kind = schema.get("type")
    if isinstance(kind, list):  # e.g. ["string", "null"]
        return value_for(
            {**schema, "type": next(t for t in kind if t != "null")}, document, system, defs, listed
        )
    if "enum" in schema:
        return best_option(list(schema["enum"]), document) or schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: value_for(sub, document, system, defs, listed) for name, sub in props.items()}
    if kind == "array":
        items = schema.get("items", {})
        if "enum" in items:
            chosen = [o for o in items["enum"] if overlap(o, document) > 0]
            return chosen or [items["enum"][0]]
        return [value_for(items, document, system, defs, listed)]
    if kind in ("number", "integer"):
        match = _NUMBER.search(document)
        number = float(match.group().replace(",", ".")) if match else 0.0
        return int(number) if kind == "integer" else number
    if kind == "boolean":
        return bool(document.strip())
    if kind == "string" and schema.get("format") == "date":
        match = _DATE.search(document)
        return match.group(1) if match else "1970-01-01"
    return prose(system, document)


def _points_at_an_option(schema: dict[str, Any], document: str) -> bool:
    choices = schema.get("enum") or schema.get("items", {}).get("enum")
    if choices is None:
        return True  # not a choice: nothing to decline
    return best_option(list(choices), document) is not None


# Answers of the right JSON shape but the wrong content, for testing re-asks.
INVALID = {"string": "Maybe", "number": "lots", "integer": "lots", "boolean": "perhaps"}


def mimic_prose(system: str, document: str, example_turns: list[str], row_turn: str = "") -> str:
    """The ``sim:mimic-*`` models: a scripted model that leans on its prompt, as small models
    do. It answers in the page's language only when the prompt makes that language clear: an
    example in it came before, or the request names it ("Write your answer in Thai"). Otherwise
    it answers in English, and always when its instructions tell it to write in English. Tests
    use it to show that a prompt which leaves the language unsaid gets English answers, and
    that the eval gate catches a prompt edit that makes every answer English."""
    page = detect_language(document)
    english = f"{MARK} A short summary of the page, written in English."
    if _ALWAYS_ENGLISH.search(system):
        return english if page not in (None, "en") else prose(system, document)
    if page is None:
        return prose(system, document)
    named = _NAMED.findall(row_turn)
    if named and named[-1].strip() == describe(page).name:
        return prose(system, document)
    shown = {detect_language(find_document(turn)) for turn in example_turns}
    if page in shown:
        return prose(system, document)
    return english
