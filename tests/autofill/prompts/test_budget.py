from __future__ import annotations

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autofill.kinds import PromptTask, Task
from autofill.llm.catalogue import load_catalogue
from autofill.prompts.budget import (
    MARKER,
    PromptTooLarge,
    count_messages,
    cut_middle,
    fit,
    input_budget,
)
from autofill.prompts.library import load_prompt
from autofill.prompts.render import ColumnSpec, RowData

GPT = load_catalogue().get("openai:gpt-4.1-mini")
CLAUDE = load_catalogue().get("anthropic:claude-haiku-4-5")
SMALL = load_catalogue().get("compat:small")  # 8,192-token window, estimated counts


def test_budget_formula() -> None:
    assert input_budget(SMALL, 1024, None) == 8192 - 1024 - 163
    assert input_budget(GPT, 1024, 3000) == 3000


def test_small_pages_keep_every_example() -> None:
    loaded = load_prompt(PromptTask.SUMMARY)
    fitted = fit(
        loaded,
        ColumnSpec(Task.SUMMARY),
        RowData({"Name": "x"}, "Short page."),
        GPT,
        reserved_output=256,
    )
    assert len(fitted.examples) == len(loaded.prompt.examples)
    assert not fitted.truncated and fitted.cut_chars == 0
    assert fitted.input_tokens == count_messages(fitted.messages, GPT) <= fitted.budget


def test_examples_go_before_the_page_and_the_page_language_one_stays() -> None:
    loaded = load_prompt(PromptTask.SUMMARY)
    page = "배송 추적 알림이 늦다. " * 30
    fitted = fit(
        loaded,
        ColumnSpec(Task.SUMMARY),
        RowData({}, page),
        GPT,
        reserved_output=256,
        max_input_tokens=800,
    )
    assert fitted.examples[0] == "ko-meeting" and len(fitted.examples) < len(loaded.prompt.examples)
    assert not fitted.truncated


def test_long_pages_are_cut_at_boundaries_with_a_marker() -> None:
    paragraphs = [f"Paragraph {i}. It has two sentences. Second one here." for i in range(3000)]
    page = "\n\n".join(paragraphs)
    fitted = fit(
        load_prompt(PromptTask.SUMMARY),
        ColumnSpec(Task.SUMMARY),
        RowData({}, page),
        GPT,
        reserved_output=256,
        max_input_tokens=1500,
    )
    assert fitted.truncated and fitted.input_tokens <= 1500 and len(fitted.examples) == 1
    body = fitted.messages[-1].content
    assert "Paragraph 0. It has two sentences." in body and "Paragraph 2999." in body
    assert "characters omitted" in body and str(f"{fitted.cut_chars:,}") in body
    head = body.split("[…")[0]
    assert head.rstrip().endswith(("here.", "sentences.", "</content>")) or head.endswith("\n")


def test_cut_never_splits_graphemes() -> None:
    family = "👨‍👩‍👧‍👦"  # one grapheme, seven code points
    text = (family + "e\u0301" + "한국어") * 2000
    cut, chars = cut_middle(text, 300, GPT)
    assert chars > 0
    head, tail = cut.split(MARKER.format(cut=chars))
    for part in (head, tail):
        clusters = regex.findall(r"\X", part)
        assert "".join(clusters) == part
        assert all(c in (family, "e\u0301", "한", "국", "어") for c in clusters), clusters[:3]


def test_estimated_tokenizers_overcount() -> None:
    from autofill.llm.types import ChatMessage

    messages = [ChatMessage("user", "Hello there, how are you?")]
    assert count_messages(messages, CLAUDE) > count_messages(messages, GPT)


def test_too_large_without_any_page() -> None:
    huge = {f"P{i}": "x" * 4000 for i in range(20)}
    with pytest.raises(PromptTooLarge, match="before any page content"):
        fit(
            load_prompt(PromptTask.SUMMARY),
            ColumnSpec(Task.SUMMARY),
            RowData(huge, "page"),
            GPT,
            reserved_output=256,
            max_input_tokens=1000,
        )


# codec="utf-8" rules out lone surrogates, which no page can contain.
texts = st.text(st.characters(codec="utf-8"), max_size=6000)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    page=texts,
    values=st.dictionaries(
        st.text(min_size=1, max_size=20), texts.map(lambda t: t[:300]), max_size=3
    ),
    cap=st.integers(min_value=900, max_value=4000),
    task=st.sampled_from(["summary", "key_info", "classify", "translate"]),
    model=st.sampled_from([GPT, CLAUDE, SMALL]),
)
def test_any_page_fits_deterministically(
    page: str, values: dict[str, str], cap: int, task: str, model: object
) -> None:
    from autofill.outputs import OutputSpec

    column = {
        "summary": ColumnSpec(Task.SUMMARY),
        "key_info": ColumnSpec(Task.KEY_INFO, request="The main point"),
        "classify": ColumnSpec(Task.CLASSIFY, output=OutputSpec(type="select", options=["A", "B"])),
        "translate": ColumnSpec(Task.TRANSLATE, target_language="de"),
    }[task]
    loaded = load_prompt(task)  # type: ignore[arg-type]
    row = RowData(values, page)
    first = fit(loaded, column, row, model, reserved_output=256, max_input_tokens=cap)  # type: ignore[arg-type]
    again = fit(loaded, column, row, model, reserved_output=256, max_input_tokens=cap)  # type: ignore[arg-type]
    assert first == again
    assert first.input_tokens <= first.budget <= cap
    # The count includes the answer's schema for a typed column: it is sent and billed too.
    counted = count_messages(first.messages, model, output=column.output)  # type: ignore[arg-type]
    assert counted == first.input_tokens
    assert len(first.examples) >= 1
    if first.truncated:
        assert "characters omitted" in first.messages[-1].content


@pytest.mark.parametrize(
    ("page", "kept"),
    [
        ("ลูกค้าแจ้งว่าการส่งออกข้อมูลล้มเหลวทุกครั้ง เราต้องการการแก้ไขก่อนวันศุกร์ ", "th-meeting"),
        # No example in Lao: the Thai one (same family); in Bulgarian: the Russian one (script).
        ("ລູກຄ້າແຈ້ງວ່າການສົ່ງອອກຂໍ້ມູນລົ້ມເຫຼວທຸກຄັ້ງ ພວກເຮົາຕ້ອງການການແກ້ໄຂກ່ອນວັນສຸກ ", "th-meeting"),
        ("Клиентът съобщава, че експортът на данни се проваля всеки път. ", "ru-ticket"),
        ("گاہک نے بتایا ہے کہ ڈیٹا کی برآمد ہر بار ناکام ہو جاتی ہے۔ ", "ar-ticket"),
    ],
)
def test_on_a_small_window_the_one_example_kept_is_the_nearest(page: str, kept: str) -> None:
    loaded = load_prompt(PromptTask.SUMMARY)
    fitted = fit(
        loaded,
        ColumnSpec(Task.SUMMARY),
        RowData({}, page * 20),
        GPT,
        reserved_output=256,
        max_input_tokens=900,
    )
    assert fitted.examples[0] == kept and len(fitted.examples) < 4
