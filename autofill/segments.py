"""Where text may be cut: paragraph ends, sentence ends, word ends and grapheme ends, in every
script.

Sentences and words come from ICU's break iterators (icu4py, which carries ICU in its wheel):
UAX #29 sentence rules know every script's terminators (the Devanagari danda ।, the Arabic
question mark ؟, the Armenian full stop ։, the Ethiopic ።, CJK 。！？), and ICU's dictionaries
find word ends in Thai, Lao, Khmer and Myanmar, which write words without spaces. Paragraph
ends are blank lines, CRLF or LF. Every search reads a bounded window around the cut, so a cut
in a 100k-token page segments a few thousand characters, not the page.
"""

from __future__ import annotations

import re

import regex
from icu4py.breakers import SentenceBreaker, WordBreaker

WINDOW = 2000  # characters before (after) a cut searched for a paragraph or sentence end
WORD_REACH = 200  # characters around a cut segmented into words
_PARAGRAPH = re.compile(r"\r?\n[ \t]*\r?\n\s*")


def _grapheme_edges(text: str, start: int, end: int) -> list[int]:
    # A cluster is short; anchoring the window at a line or space start keeps it exact.
    anchor = max(text.rfind("\n", 0, start + 1), text.rfind(" ", 0, start + 1), 0)
    edges = [anchor]
    for match in regex.finditer(r"\X", text[anchor:end]):
        edges.append(anchor + match.end())
    return edges


def grapheme_boundary(text: str, position: int, *, forward: bool) -> int:
    """The nearest grapheme-cluster boundary at or before (or after) ``position``."""
    edges = _grapheme_edges(text, max(position - 64, 0), min(position + 64, len(text)))
    if forward:
        return min((e for e in edges if e >= position), default=len(text))
    return max((e for e in edges if e <= position), default=0)


Breaker = type[SentenceBreaker] | type[WordBreaker]


def _ends(breaker: Breaker, text: str, lo: int, hi: int) -> list[int]:
    """Boundaries the breaker finds strictly inside (lo, hi) of ``text``; the window's own edges
    are not boundaries of the text, so they are left out."""
    lo, hi = max(lo, 0), min(hi, len(text))
    if hi - lo < 2:
        return []
    ends = [lo + end for _, end in breaker(text[lo:hi], "und").segments()]
    return [e for e in ends if lo < e < hi]


def sentence_ends(text: str, lo: int, hi: int) -> list[int]:
    return _ends(SentenceBreaker, text, lo, hi)


def word_ends(text: str, lo: int, hi: int) -> list[int]:
    return _ends(WordBreaker, text, lo, hi)


def head_end(text: str, end: int, *, slack: float = 0.3) -> int:
    """Where to end a head of at most ``end`` characters: after the last paragraph in its last
    ``slack`` share, else the last sentence end there, else the last word end near ``end``,
    else a grapheme boundary. A paragraph cut ends before the blank line (no lone CR)."""
    if end >= len(text):
        return len(text)
    floor = max(int(end * (1 - slack)), end - WINDOW)
    paragraphs = [m.start() for m in _PARAGRAPH.finditer(text, floor, end) if m.start() > 0]
    if paragraphs:
        return paragraphs[-1]
    # The windows reach past the cut: a window's edge inside a word or sentence could make the
    # breaker see an end that is not one; only ends at or before the cut are used.
    sentences = [e for e in sentence_ends(text, floor, end + WORD_REACH) if e <= end]
    if sentences:
        return _strip_right(text, sentences[-1])
    lo = max(end - WORD_REACH, 0)
    words = [e for e in word_ends(text, lo, end + WORD_REACH) if e <= end]
    if words:
        return words[-1]
    if lo == 0:
        return 0  # the cut falls inside the first word: keep nothing rather than half of it
    return grapheme_boundary(text, end, forward=False)


def tail_start(text: str, start: int, *, slack: float = 0.3) -> int:
    """Where to start a tail from ``start`` on: after the first paragraph break in the first
    ``slack`` share of the rest, else the first sentence start there, else the first word start
    near ``start``, else a grapheme boundary."""
    if start <= 0:
        return 0
    ceiling = min(start + int((len(text) - start) * slack), start + WINDOW)
    paragraph = _PARAGRAPH.search(text, start, ceiling)
    if paragraph is not None:
        return paragraph.end()
    sentences = [e for e in sentence_ends(text, start - WORD_REACH, ceiling) if e >= start]
    if sentences:
        return sentences[0]
    hi = min(start + WORD_REACH, len(text))
    words = [e for e in word_ends(text, start - WORD_REACH, hi) if e >= start]
    if words:
        return words[0]
    if hi == len(text):
        return len(text)  # the cut falls inside the last word: keep none of it
    return grapheme_boundary(text, start, forward=True)


def _strip_right(text: str, end: int) -> int:
    """A sentence end includes the spaces after it; the head does not need them."""
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1
    return end
