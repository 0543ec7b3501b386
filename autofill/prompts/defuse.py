"""Keeping a row's data from opening or closing the request's own delimiters.

Two layers. Each request's tags carry a boundary derived from the row's own data
(``<document-3f9a…>``): a page cannot contain the hash of itself, so it cannot spell the tag
that would close its document. And anything in the data that a model could read as one of our
tags, or as a chat template's role marker, has its brackets made square before it is sent
(``</document>`` → ``[/document]``, every other character kept), whatever its spelling:
matching runs on a normalised view of the text in which

- format and zero-width characters (Unicode category Cf: ZWSP, ZWJ, word joiner, BOM, soft
  hyphen, bidi marks) and combining grapheme joiners are gone,
- compatibility forms are folded (NFKC: full-width ＜ｄｏｃ＞, ideographic space) and case is
  folded,
- look-alike angle brackets (‹ › 〈 〉 ⟨ ⟩ ❮ ❯ ˂ ˃ …), slashes (⁄ ∕ ⧸ \\) and bars are the
  ASCII ones (not the guillemets « », which quote words in French and Russian prose),
- whitespace may stand between the bracket, the slash and the name, and the closing bracket may
  be missing (an unclosed ``</document`` at the end of a page).

Only the brackets of a matched spelling are rewritten; the rest of the data is sent as written.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

TAG_NAMES = ("document", "content", "properties", "request")
# Role words of chat templates and of our own turns, read as tags by some models.
ROLE_NAMES = ("system", "user", "assistant", "developer", "human", "example")
_LOOKALIKES = {
    **dict.fromkeys("‹〈⟨❮❰⧼˂ᐸ〈⦉⦑", "<"),
    **dict.fromkeys("›〉⟩❯❱⧽˃ᐳ〉⦊⦒", ">"),
    **dict.fromkeys("⁄∕⧸\\", "/"),
    **dict.fromkeys("│ǀ∣", "|"),
}
_IGNORED = {"\u034f"}  # combining grapheme joiner: invisible, category Mn
_NAMES = "|".join(TAG_NAMES + ROLE_NAMES)
_TAG = re.compile(
    rf"<\s*(/?)\s*({_NAMES})(?![a-z0-9_])[^<>\n]{{0,80}}>?"  # our tags, any attributes
    r"|<\s*\|[^<>\n|]{0,40}\|?\s*>?"  # <|im_start|>, <|eot_id|> and their kin
)


# Every character whose normalised form (``normalised`` below) holds a "<": the opening
# brackets a look-alike tag can start with. A text with none of them holds no tag, and most
# pages have none, so ``defuse`` returns them after one scan in C instead of normalising them
# a character at a time, which every non-ASCII page did: 7 % of a bulk fill's claim
# (bench.fill_steps, old and new code alternating).
# Found by trying every code point (tests/autofill/prompts/test_defuse.py does it again with
# the running Python's Unicode tables, so a newer table that adds one fails there).
OPENERS = "<\u02c2\u1438\u2039\u2329\u276e\u2770\u27e8\u2989\u2991\u29fc\u3008\ufe3f\ufe64\uff1c"
_MAY_OPEN = re.compile(f"[{re.escape(OPENERS)}]")


def boundary(*parts: str) -> str:
    """The per-request tag suffix: 8 hex digits of a hash of the row's data, so it is the same
    for the same row (golden requests, caches) and no page can contain its own."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:8]


def normalised(text: str) -> tuple[str, list[int]]:
    """The text as matching sees it, and for each of its characters the index it came from."""
    out: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if ch in _IGNORED or unicodedata.category(ch) == "Cf":
            continue
        folded = unicodedata.normalize("NFKC", ch).casefold()
        for piece in folded:
            out.append(_LOOKALIKES.get(piece, piece))
            origin.append(index)
    return "".join(out), origin


def _brackets(text: str) -> list[tuple[int, int | None]]:
    """For each look-alike tag: the index of its opening bracket, and of its closing one."""
    view, origin = normalised(text)
    found = []
    for match in _TAG.finditer(view):
        closing = origin[match.end() - 1] if match.group().endswith(">") else None
        found.append((origin[match.start()], closing))
    return found


def defuse(text: str) -> str:
    """``text`` with the angle brackets of every look-alike of our tags and of role markers
    made square (``< /Document>`` → ``[ /Document]``); every other character stays."""
    if _MAY_OPEN.search(text) is None:
        return text  # the common case: nothing that could become an opening bracket
    chars = list(text)
    for _ in range(4):  # a rewrite cannot create a new match, but check rather than assume
        found = _brackets("".join(chars))
        if not found:
            break
        for opening, closing in found:
            chars[opening] = "["
            if closing is not None:
                chars[closing] = "]"
    return "".join(chars)


def has_tag(text: str) -> bool:
    """Whether ``text`` still holds something a model could read as one of our tags."""
    return _MAY_OPEN.search(text) is not None and bool(_brackets(text))
