"""Which language a page is written in, to put a few-shot example in that language first.

Library: lingua-language-detector, low-accuracy mode, over the 29 languages below. Measured with
``python -m bench.langid_accuracy`` (96 short texts, 12 languages: titles, ticket subjects,
one-line notes, 2-12 words), on this project's 2-core machine:

| library (mode)                         | correct | per call | load  | RSS    |
| lingua, all 75 languages, high accuracy | 93/96   | 0.7 ms   | 8.4 s | 908 MB |
| lingua, these 29, high accuracy         | 94/96   | 39 ms*   | 1.1 s | 586 MB |
| lingua, these 29, low accuracy (chosen) | 93/96   | 0.08 ms  | 0.2 s | 48 MB  |
| py3langid                               | 91/96   | 0.05 ms  | 0.7 s | small  |
| langdetect (seeded)                     | 84/96   | 3.5 ms   | 0.3 s | small  |
(* includes loading models lazily during the run)

lingua is the most accurate on short text (its n-gram models are built for it); its
low-accuracy mode keeps that accuracy on these texts at a fraction of the memory, which matters
in every worker process. Pages in other languages come back as the closest of these or None;
either only changes which example comes first.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = [
    "en",
    "fr",
    "de",
    "es",
    "pt",
    "it",
    "nl",
    "sv",
    "da",
    "nb",
    "fi",
    "pl",
    "cs",
    "ru",
    "uk",
    "tr",
    "ar",
    "he",
    "fa",
    "hi",
    "ja",
    "ko",
    "zh",
    "vi",
    "id",
    "th",
    "el",
    "ro",
    "hu",
]
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LANGUAGES
    ]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when there is too little to tell."""
    sample = text.strip()[:2000]  # the head of a page decides; no need to read 100k tokens
    if not sample:
        return None
    return _detect(sample)


# A row's AI columns read the same page, each in its own fill: the page is looked at once per
# process. Samples are at most 2,000 characters, so the cache stays within a few megabytes.
@lru_cache(maxsize=1024)
def _detect(sample: str) -> str | None:
    with _lock:
        detector = _detector()
    found = detector.detect_language_of(sample)
    return found.iso_code_639_1.name.lower() if found is not None else None
