"""Cuts that respect text: paragraph ends with CRLF, sentence ends in every script, word ends in
scripts written without spaces, never inside a grapheme."""

from __future__ import annotations

import pytest
import regex

from autofill.llm import catalogue
from autofill.prompts.budget import cut_head, cut_middle
from autofill.segments import head_end, tail_start

GPT = catalogue().get("openai:gpt-4.1-mini")


def test_a_crlf_paragraph_cut_leaves_no_lone_carriage_return() -> None:
    text = "First paragraph here.\r\n\r\nSecond paragraph here.\r\n\r\nThird one."
    end = head_end(text, text.index("Third") - 2)
    assert text[:end] == "First paragraph here.\r\n\r\nSecond paragraph here."
    assert not text[:end].endswith("\r")
    start = tail_start(text, text.index("Second") + 3, slack=0.9)
    assert text[start:] == "Third one."


@pytest.mark.parametrize(
    ("text", "first_sentence"),
    [
        ("यह पहला वाक्य है। यह दूसरा वाक्य है। और यह तीसरा है।", "यह पहला वाक्य है।"),
        ("هل وصل الطلب؟ لم يصل بعد. سنتابع غداً.", "هل وصل الطلب؟"),
        ("Առաջին նախադասությունը։ Երկրորդը։ Երրորդը։", "Առաջին նախադասությունը։"),
        ("第一句话。第二句话！第三句话？", "第一句话。"),
        ("ጥያቄው ደርሷል። ነገ እንመልሳለን። አመሰግናለሁ።", "ጥያቄው ደርሷል።"),
    ],
)
def test_sentence_ends_in_every_script(text: str, first_sentence: str) -> None:
    # A head that would end inside the second sentence ends after the first.
    end = head_end(text, len(first_sentence) + 3, slack=0.9)
    assert text[:end] == first_sentence


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ",
            {"ภาษา", "ไทย", "เป็น", "ที่", "ไม่มี", "การ", "เว้น", "วรรค", "ระหว่าง", "คำ"},
        ),
        ("ພາສາລາວເປັນພາສາທີ່ສວຍງາມ", {"ພາສາ", "ລາວ", "ເປັນ", "ທີ່", "ສວຍງາມ"}),
        ("ភាសាខ្មែរគឺជាភាសាផ្លូវការ", {"ភាសាខ្មែរ", "គឺជា", "ភាសាផ្លូវការ"}),
        ("မြန်မာဘာသာစကားသည်", {"မြန်မာဘာသာ", "စကား", "သည်"}),
    ],
)
def test_scripts_without_spaces_are_cut_between_words(text: str, words: set[str]) -> None:
    for position in range(1, len(text)):
        end = head_end(text, position, slack=0.0)
        head = text[:end]
        if not head:
            continue
        # The head is whole words: removing them from the start leaves nothing half-cut.
        rest = head
        while rest:
            word = next((w for w in sorted(words, key=len, reverse=True) if rest.startswith(w)), "")
            assert word, f"cut inside a word at {end}: {head!r}"
            rest = rest[len(word) :]


def test_a_long_thai_page_is_cut_between_words_and_graphemes() -> None:
    page = "ลูกค้าแจ้งว่าการส่งออกข้อมูลล้มเหลวทุกครั้งเราต้องการการแก้ไขก่อนวันศุกร์" * 200
    cut, dropped = cut_middle(page, 500, GPT)
    head, tail = cut.split("\n\n[…")[0], cut.split("…]\n\n")[1]
    assert dropped > 0 and page.startswith(head) and page.endswith(tail)
    for piece in (head, tail):
        assert regex.fullmatch(r"\X*", piece)
    assert head.endswith(
        (
            "ศุกร์",
            "ลูกค้า",
            "แจ้ง",
            "ว่า",
            "การ",
            "ส่งออก",
            "ข้อมูล",
            "ล้มเหลว",
            "ทุก",
            "ครั้ง",
            "เรา",
            "ต้องการ",
            "แก้ไข",
            "ก่อน",
            "วัน",
            "ส่ง",
            "ออก",
            "ข้อ",
            "มูล",
            "ล้ม",
            "เหลว",
            "ต้อง",
            "แก้",
            "ไข",
            "ทุกครั้ง",
            "วันศุกร์",
        )
    )


def test_a_translation_keeps_the_head_and_says_the_rest_was_left_out() -> None:
    page = "\n\n".join(f"Paragraph {n}. It says something." for n in range(2000))
    cut, dropped = cut_head(page, 300, GPT)
    assert cut.startswith("Paragraph 0.") and "Paragraph 1999" not in cut
    assert cut.endswith("too long to translate in one answer …]") and dropped > 0
    assert cut.split("\n\n[…")[0].endswith("It says something.")
