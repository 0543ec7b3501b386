"""Which language a page is written in, so the request can name it and pick examples near it.

Two steps, each for what it does best:

1. **Script.** Every letter's script is read from its Unicode name (``THAI CHARACTER KO KAI`` →
   Thai); URLs and e-mail addresses are not read. A page written mostly in a script that one
   language owns (Hangul, Kana, Thai, Greek, Hebrew, Armenian, Georgian, the Indic scripts but
   Devanagari, Lao, Khmer, Myanmar, Sinhala, Ethiopic, ...) is that language. Han is Chinese
   (the one Han-script language lingua knows).
2. **Language.** Otherwise (Latin, Cyrillic, Arabic, Devanagari: scripts many languages share)
   lingua-language-detector, low-accuracy mode, over all 75 languages it knows, sure only of a
   text of ``MIN_LETTERS`` letters or more. Its models load lazily, per language the text could
   be: measured on this project's machine, 22 MB RSS and 0.03 s to the first answer for a
   Turkish sentence
   (``python -m bench.langid_accuracy`` compares the modes and libraries on short texts).
   On the benchmark's 96 short texts (2-12 words) the top candidate at confidence >= 0.7 and
   15 letters is right for 82, wrong for 2 and the other 12 are unsure (at >= 0.5 and no
   minimum: 90 right, 4 wrong, 2 unsure; high-accuracy mode, 900 MB: 66 right, 0 wrong, 30
   unsure at 0.7). Pages are longer than these, and their language is clearer.

**Mixed pages, decided on purpose**: the main language is the one most of the running text is
written in, as lingua weighs it over the whole sample. Names and terms from another language do
not change it (an English note with Japanese names is English; a Japanese page naming
Kubernetes and Slack is Japanese). A page whose top candidate is not clearly ahead (confidence
below ``CONFIDENT``) is *unsure*: the request then asks for "the page's own language" instead
of naming one, rather than naming a wrong one.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from autofill.language_names import describe

SAMPLE_CHARS = 2000  # the head of a page decides; no need to read 100k tokens
# Of that head, lingua reads the first 600 characters (about 100 words, far more than the short
# texts its accuracy is measured on): its time grows with the text — 0.53 ms for 600
# characters, 1.31 ms for 2,000 on this project's machine — and it holds the interpreter's
# lock throughout, which was a fifth of a bulk worker's CPU. The script is still counted over
# the whole head.
STATISTICS_CHARS = 600
CONFIDENT = 0.7  # lingua's relative confidence of its top candidate
# Below this many letters a script shared by many languages does not tell one from its
# neighbours reliably: unsure. On the benchmark's 96 short texts, 15 letters keeps 82 right,
# 2 wrong, 12 unsure (none: 85/2/9; 30 letters: 31/1/64). Some short titles stay wrong and sure
# ("Informe mensual de ventas" scores 0.87 for Portuguese).
MIN_LETTERS = 15
# URLs, e-mail addresses and @handles are in no language; their letters would outvote a short
# Korean sentence that quotes a link.
_NOT_WORDS = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\S+|@\w+", re.I)
# Scripts one language owns (or, for Han, the one lingua knows): the script names the
# language, mixed with any amount of Latin names and terms, no statistics needed.
SCRIPT_LANGUAGES = {
    "Hangul": "ko",
    "Kana": "ja",
    "Han": "zh",
    "Thai": "th",
    "Greek": "el",
    "Hebrew": "he",
    "Armenian": "hy",
    "Georgian": "ka",
    "Bengali": "bn",
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Tamil": "ta",
    "Telugu": "te",
    "Lao": "lo",
    "Khmer": "km",
    "Myanmar": "my",
    "Sinhala": "si",
    "Ethiopic": "am",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Oriya": "or",
    "Tibetan": "bo",
    "Thaana": "dv",
}
# The first word of a character's Unicode name, where it is not the script's own name.
_NAME_SCRIPTS = {
    "CJK": "Han",
    "HIRAGANA": "Kana",
    "KATAKANA": "Kana",
    "HANGUL": "Hangul",
    "MYANMAR": "Myanmar",
    "ORIYA": "Oriya",
    "ETHIOPIC": "Ethiopic",
}
_lock = threading.Lock()


@dataclass(frozen=True)
class PageLanguage:
    """What the request says of a page's language."""

    code: str | None  # ISO 639-1 (or 639-3 where there is none); None: not identified
    script: str | None  # the script most of its letters are in (Latin, Cyrillic, Han, Kana, ...)
    confident: bool  # False: name no language, ask for the page's own

    @property
    def name(self) -> str | None:
        return describe(self.code).name if self.code else None

    def stored(self) -> str:
        """As a row keeps it (``rows.content_language``): ``code|script|1`` (1: confident)."""
        return f"{self.code or ''}|{self.script or ''}|{int(self.confident)}"

    @classmethod
    def from_stored(cls, stored: str) -> PageLanguage | None:
        """What ``stored`` wrote; None for anything else (detect again)."""
        parts = stored.split("|")
        if len(parts) != 3 or parts[2] not in ("0", "1"):
            return None
        return cls(parts[0] or None, parts[1] or None, parts[2] == "1")


UNKNOWN = PageLanguage(None, None, False)


def letter_script(ch: str) -> str | None:
    """The script of a letter (its Unicode name's first word), None for anything else."""
    if not ch.isalpha():
        return None
    try:
        first = unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return None
    return _NAME_SCRIPTS.get(first, first.title())


def script_counts(text: str) -> Counter[str]:
    """How many letters of ``text`` each script has. Each distinct character is looked up
    once (a page of 2,000 characters has a hundred or so): the Unicode name lookup per
    character was a tenth of a fill's CPU."""
    counts: Counter[str] = Counter()
    for ch, n in Counter(text).items():
        script = letter_script(ch)
        if script is not None:
            counts[script] += n
    return counts


def main_script(text: str) -> str | None:
    """The script most letters of ``text`` are in; Japanese (Han with Kana) counts as Kana."""
    return _main_script(script_counts(text))


def _main_script(counts: Counter[str]) -> str | None:
    if not counts:
        return None
    if counts["Kana"] and counts["Kana"] * 5 >= counts["Han"]:
        # Japanese mixes kanji and kana; a fifth of kana is already unmistakably Japanese.
        counts["Kana"] += counts.pop("Han", 0)
    return counts.most_common(1)[0][0]


def page_language(text: str) -> PageLanguage:
    """The main language of ``text`` and how sure we are of it."""
    sample = _NOT_WORDS.sub(" ", text.strip()[:SAMPLE_CHARS]).strip()
    if not sample:
        return UNKNOWN
    return _page_language(sample)


def detect_language(text: str) -> str | None:
    """ISO code of the text's main language, or None when there is too little to tell."""
    found = page_language(text)
    return found.code if found.confident else None


# A row's AI columns read the same page, each in its own fill: the page is looked at once per
# process. Samples are at most 2,000 characters, so the cache stays within a few megabytes.
@lru_cache(maxsize=1024)
def _page_language(sample: str) -> PageLanguage:
    counts = script_counts(sample)
    letters = sum(counts.values())
    script = _main_script(counts)
    if script is None:
        return UNKNOWN  # digits, punctuation, emoji: nothing to tell a language by
    if script in SCRIPT_LANGUAGES:
        return PageLanguage(SCRIPT_LANGUAGES[script], script, True)
    with _lock:
        detector = _detector()
    ranked = detector.compute_language_confidence_values(sample[:STATISTICS_CHARS])
    if not ranked:
        return PageLanguage(None, script, False)
    top = ranked[0]
    code = _code(top.language)
    return PageLanguage(code, script, top.value >= CONFIDENT and letters >= MIN_LETTERS)


def forget_pages() -> None:
    """Forget the pages looked at so far (a benchmark that measures the detection again)."""
    _page_language.cache_clear()


def candidates(text: str, count: int = 3) -> list[tuple[str, float]]:
    """The most likely languages of ``text`` with lingua's confidence, for a judgement that
    may accept a close second (an eval check); empty for a script one language owns."""
    sample = _NOT_WORDS.sub(" ", text.strip()[:SAMPLE_CHARS]).strip()
    if not sample:
        return []
    found = page_language(sample)
    if found.script in SCRIPT_LANGUAGES and found.code is not None:
        return [(found.code, 1.0)]
    with _lock:
        detector = _detector()
    ranked = detector.compute_language_confidence_values(sample[:STATISTICS_CHARS])[:count]
    return [(_code(r.language), float(r.value)) for r in ranked]


def _code(language: Language) -> str:
    iso1 = language.iso_code_639_1
    return str(iso1.name).lower() if iso1 is not None else str(language.iso_code_639_3.name).lower()


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
