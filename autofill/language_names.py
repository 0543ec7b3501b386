"""A language's name, its own name, its usual script and its family, from an ISO code.

Names and scripts come from langcodes (CLDR data, offline); families, which CLDR does not
have, are the short table below: enough to prefer a related language's example (Catalan for
an Occitan page, Hindi for Marathi) when none in the page's own language or script exists.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import langcodes

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
