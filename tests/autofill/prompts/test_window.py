"""No call of a fill exceeds the model's window: not the first, not a re-ask, not a retry with a
larger output limit. Checked where a provider checks it: the simulator refuses a request whose
prompt and output limit exceed the window (OpenAI's ``context_length_exceeded``), with the
models' windows taken from the catalogue.

Before: a re-ask added the invalid answer and an error quoting it twice without fitting the
request again (1,915 → 2,285 → 2,655 tokens on a 2,000-token window), and a translation of a
long page reserved 4,096 answer tokens whatever its length."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autofill.columns import AIConfig
from autofill.kinds import CONTENT_INPUT, ErrorCode, Task
from autofill.llm import FillFailed, catalogue, margin, output_limit, prompt_tokens
from autofill.llm.simulator import Simulator
from autofill.llm.types import ChatMessage
from autofill.outputs import OutputSpec
from autofill.prompts import CannotPrepare, prepare_for_row
from tests.conftest import Configure
from tests.providers import completer

PAGES = yaml.safe_load(
    (Path(__file__).parents[3] / "evals" / "coverage" / "pages.yaml").read_text("utf-8")
)
SENTENCES = {**PAGES["unseen"], **PAGES["held_out"]}
SMALL_MODELS: dict[str, dict[str, Any]] = {
    "sim:tiny-2k": {"context_window": 2000, "max_output_tokens": 1024},
    "sim:small-4k": {"context_window": 4096, "max_output_tokens": 2048},
    "sim:mid-16k": {"context_window": 16000, "max_output_tokens": 4096},
}
LONG_OPTIONS = [f"Category {n}: a fairly long option label" for n in range(20)]
COLUMNS: dict[str, tuple[Task, str | None, OutputSpec, str | None]] = {
    "summary": (Task.SUMMARY, None, OutputSpec(), None),
    "key_info": (Task.KEY_INFO, "The deadline", OutputSpec(), None),
    "classify": (Task.CLASSIFY, None, OutputSpec(type="select", options=LONG_OPTIONS), None),
    "number": (Task.CUSTOM, "How many seats?", OutputSpec(type="number"), None),
    "translate": (Task.TRANSLATE, None, OutputSpec(), "th"),
}


@pytest.fixture
def small_models(tmp_path: Path, configure: Configure, sim: Simulator) -> Simulator:
    entries = {
        ref: {
            "provider": "sim",
            "family": "sim",
            "tokenizer": "o200k_base",
            "input": 0.4,
            "cached_input": 0.1,
            "output": 1.6,
            **limits,
        }
        for ref, limits in SMALL_MODELS.items()
    }
    path = tmp_path / "models.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    configure(model_catalogue=path)
    return sim


def _column(kind: str, model: str) -> AIConfig:
    task, request, output, target = COLUMNS[kind]
    return AIConfig(
        task=task,
        instruction=request,
        inputs=(CONTENT_INPUT,),
        target_language=target,
        output=output,
        model=model,
    )


def _sent_within_window(sim: Simulator, model: str) -> None:
    info = catalogue().get(model)
    for record in sim.requests:
        body = record["body"]
        messages = [ChatMessage(m["role"], m["content"]) for m in body["messages"]]
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        assert prompt_tokens(messages, info) + limit <= info.context_window - margin(info)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    model=st.sampled_from(sorted(SMALL_MODELS)),
    kind=st.sampled_from(sorted(COLUMNS)),
    language=st.sampled_from(sorted(SENTENCES)),
    repeats=st.integers(min_value=0, max_value=400),
    crlf=st.booleans(),
    invalid_answers=st.integers(min_value=0, max_value=2),
)
def test_no_call_exceeds_the_window(
    small_models: Simulator,
    model: str,
    kind: str,
    language: str,
    repeats: int,
    crlf: bool,
    invalid_answers: int,
) -> None:
    sim = small_models
    sim.reset()
    typed = COLUMNS[kind][2].type != "text"
    sim.configure(schedule=["invalid"] * invalid_answers if typed else [])
    page = ("\r\n\r\n" if crlf else "\n\n").join([SENTENCES[language]] * repeats)
    ai = _column(kind, model)
    try:
        prepared = prepare_for_row(ai, {}, {}, page, {})
    except CannotPrepare as exc:
        # Only when not even an empty page fits beside the instructions and the answer.
        assert exc.code == ErrorCode.PROMPT_ERROR and "before any page content" in exc.message
        return
    info = prepared.model_info
    first = prompt_tokens(prepared.request.messages, info, ai.output)
    assert first + prepared.reserved_output <= info.context_window - margin(info)
    assert prepared.reserved_output == output_limit(info, prepared.request.max_output_tokens)
    try:
        completer().complete(prepared.request)
    except FillFailed as exc:
        assert "context length" not in exc.message, exc.message
        assert exc.code != ErrorCode.INVALID_ANSWER or invalid_answers > 2
        raise
    _sent_within_window(sim, model)
    assert len(sim.requests) == 1 + (invalid_answers if typed else 0)


def test_reasks_on_a_small_window_stay_inside_it(small_models: Simulator) -> None:
    """The issue's case: a select with long options on a 2,000-token window, two invalid
    answers, each re-ask quoting the answer and the error."""
    small_models.configure(schedule=["invalid", "invalid"])
    page = "\n\n".join([SENTENCES["pt"]] * 60)
    prepared = prepare_for_row(_column("classify", "sim:tiny-2k"), {}, {}, page, {})
    result = completer().complete(prepared.request)
    assert result.attempts == 3 and len(small_models.requests) == 3
    _sent_within_window(small_models, "sim:tiny-2k")
    reask = small_models.requests[-1]["body"]["messages"][-1]["content"]
    # The answer is in the assistant turn; the error quotes it once.
    assert reask.count("Maybe") <= 1


def test_a_translation_gets_room_for_its_length_and_a_long_page_is_marked_cut(
    small_models: Simulator,
) -> None:
    short = prepare_for_row(_column("translate", "sim:mid-16k"), {}, {}, "Bonjour.", {})
    page = "\n\n".join([SENTENCES["pt"]] * 200)  # ~6,000 tokens: over one 4,096 answer
    long = prepare_for_row(_column("translate", "sim:mid-16k"), {}, {}, page, {})
    assert short.request.max_output_tokens == 256  # the least a translation gets
    assert long.request.max_output_tokens == 4096  # the model's output limit, not 4,096 by luck
    assert long.fitted.truncated and long.fitted.cut_chars > 0
    last = long.request.messages[-1].content
    assert "too long to translate in one answer" in last
    # The head is kept, the end is cut: nothing in the middle goes untranslated.
    content = last.split("<content>\n", 1)[1]
    assert content.startswith(SENTENCES["pt"])
    assert content.split("\n\n[…")[0].endswith(SENTENCES["pt"])
