"""A language's name, its own name, its usual script and its family, from an ISO code.

Names and scripts come from langcodes (CLDR data, offline); families, which CLDR does not
have, are the short table below: enough to prefer a related language's example (Catalan for
an Occitan page, Hindi for Marathi) when none in the page's own language or script exists.

langcodes' table of names holds every language's name in every language: 19 MiB of dicts in
each process that asks it one name (23 MiB with the module), and every worker asks. What we
ask is nearly always one of a few hundred tags (the ISO 639-1 languages, the languages lingua
detects, a few common script and region variants), so their answers are kept in
``language_names.json``, written from langcodes by ``python -m autofill.language_names``
and checked against it by the tests (tests/autofill/test_language_names.py); any other tag
is still asked of langcodes, loaded then (issue 21).
"""

from __future__ import annotations

import json
import string
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("language_names.json")
# Tags beyond the two-letter codes that requests commonly carry (a target language such as
# "Title in Brazilian Portuguese", a page in Traditional Chinese).
VARIANTS = [
    "zh-Hans",
    "zh-Hant",
    "zh-CN",
    "zh-TW",
    "zh-HK",
    "yue",
    "pt-BR",
    "pt-PT",
    "en-US",
    "en-GB",
    "es-419",
    "es-MX",
    "es-ES",
    "fr-CA",
    "sr-Latn",
    "sr-Cyrl",
    "fil",
    "haw",
    "ceb",
    "hmn",
]

# ISO 15924 codes whose script we call by the name its letters carry in Unicode (see
# autofill.language.letter_script), so a page's script and an example's compare equal.
_SCRIPT_NAMES = {
    "Hans": "Han",
    "Hant": "Han",
    "Hani": "Han",
    "Jpan": "Kana",
    "Kore": "Hangul",
    "Beng": "Bengali",
    "Orya": "Oriya",
    "Mymr": "Myanmar",
}
# How a script is named to a model, where our short name would be unclear.
SCRIPT_LABELS = {
    "Han": "Chinese characters",
    "Kana": "Japanese kanji and kana",
    "Hangul": "Hangul",
}
FAMILIES = {
    "Romance": "fr es pt it ro ca gl oc la",
    "Germanic": "en de nl sv da nb nn no is af lb fy",
    "Slavic": "ru uk be bg mk sr hr bs sl cs sk pl",
    "Baltic": "lt lv",
    "Celtic": "ga cy gd br",
    "Hellenic": "el",
    "Indo-Aryan": "hi mr ne bn gu pa ur as or si",
    "Iranian": "fa ku ps tg",
    "Armenian": "hy",
    "Dravidian": "ta te kn ml",
    "Semitic": "ar he am mt",
    "Turkic": "tr az kk uz ky tk tt",
    "Uralic": "fi et hu",
    "Kartvelian": "ka",
    "Sinitic": "zh yue",
    "Japonic": "ja",
    "Koreanic": "ko",
    "Tai": "th lo",
    "Austroasiatic": "vi km",
    "Sino-Tibetan (other)": "my bo",
    "Austronesian": "id ms tl mi",
    "Bantu": "sw zu xh st tn ts sn lg",
    "Niger-Congo (other)": "yo",
    "Cushitic": "so",
    "Mongolic": "mn",
    "Basque": "eu",
    "Albanian": "sq",
    "Constructed": "eo",
    "Dhivehi": "dv",
}
_FAMILY_OF = {code: family for family, codes in FAMILIES.items() for code in codes.split()}


@dataclass(frozen=True)
class LanguageInfo:
    code: str
    name: str  # in English: "Thai", "Chinese (Traditional)"
    autonym: str  # in the language itself: "ไทย", "中文（繁體）"
    script: str | None  # as autofill.language names scripts: Latin, Cyrillic, Han, Kana, Thai, ...
    family: str | None

    @property
    def script_label(self) -> str | None:
        if self.script is None:
            return None
        return SCRIPT_LABELS.get(self.script, f"{self.script} script")

    def full_name(self) -> str:
        """``Thai (ไทย, Thai script)``: a name a model cannot mistake for another."""
        extras = [self.autonym] if self.autonym and self.autonym != self.name else []
        if self.script_label:
            extras.append(self.script_label)
        return f"{self.name} ({', '.join(extras)})" if extras else self.name


# langcodes imports its table of names lazily, on the first name asked for; two threads asking
# at once can find the module imported but not yet attached to its package and fail with
# AttributeError (seen on a worker's first fills). One thread at a time asks langcodes; the
# answers are cached, so the lock is taken once per language.
_LANGCODES = threading.Lock()


@lru_cache(maxsize=512)
def describe(code: str) -> LanguageInfo:
    """What is known of ``code`` (a BCP 47 tag: ``th``, ``zh-Hant``, ``pt-BR``)."""
    known = _table().get(code)
    if known is None:
        return describe_with_langcodes(code)
    name, autonym, script, language = known
    return LanguageInfo(code, name, autonym, script, _FAMILY_OF.get(language))


def describe_with_langcodes(code: str) -> LanguageInfo:
    """``describe`` asked of langcodes itself: for a tag the table does not hold, and to write
    and check the table."""
    import langcodes  # its names table loads with the first name asked for: see the docstring

    try:
        with _LANGCODES:
            tag = langcodes.Language.get(code)
            name = str(tag.display_name())
            autonym = str(tag.autonym())
            iso = tag.maximize().script
            script = None
            if iso:
                script = _SCRIPT_NAMES.get(iso) or str(
                    langcodes.Language.make(script=iso).script_name()
                )
    except (ValueError, LookupError):
        return LanguageInfo(code, code, code, None, None)
    return LanguageInfo(code, name, autonym, script, _FAMILY_OF.get(str(tag.language)))


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, str, str | None, str]]:
    rows: dict[str, list[Any]] = json.loads(TABLE.read_text(encoding="utf-8"))
    return {code: (row[0], row[1], row[2], row[3]) for code, row in rows.items()}


def table_codes() -> list[str]:
    """The tags the table holds: every two-letter code langcodes names, and ``VARIANTS``."""
    import langcodes

    codes = []
    for first in string.ascii_lowercase:
        for second in string.ascii_lowercase:
            code = first + second
            name = langcodes.Language.get(code).display_name()
            if name.lower() != code and not name.startswith("Unknown language"):
                codes.append(code)
    return codes + list(VARIANTS)


def build_table() -> dict[str, list[str | None]]:
    import langcodes

    table: dict[str, list[str | None]] = {}
    for code in table_codes():
        info = describe_with_langcodes(code)
        table[code] = [info.name, info.autonym, info.script, langcodes.Language.get(code).language]
    return table


if __name__ == "__main__":
    # python -m autofill.language_names: rewrite the table from the installed langcodes.
    lines = [
        f"{json.dumps(code)}: {json.dumps(row, ensure_ascii=False)}"
        for code, row in sorted(build_table().items())
    ]
    TABLE.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    sys.stdout.write(f"wrote {TABLE} ({len(_table.__wrapped__())} tags)\n")
