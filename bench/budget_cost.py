"""What budgeting costs on a very long page, next to tiktoken encoding the same text once.

    .venv/bin/python -m bench.budget_cost

A ~100k-token page (multilingual paragraphs) is fitted to a 4,000-token input budget for
gpt-4.1-mini: language detection, counting, dropping examples, cutting the middle at
boundaries and rendering. Reported: median of 7 runs, and the ratio to tiktoken's bare
``encode`` of the page (median of 7) measured in the same process.
"""

from __future__ import annotations

import statistics
import time

from autofill.columns import AIConfig
from autofill.kinds import CONTENT_INPUT, Task
from autofill.llm.catalogue import catalogue
from autofill.llm.tokenizer import encoding
from autofill.prompts.prepare import prepare
from autofill.prompts.render import RowData
from bench.results import record

PARAGRAPHS = [
    "The customer explained the export problem again, with the steps to reproduce it.",
    "Le client a de nouveau expliqué le problème d'export, avec les étapes pour le reproduire.",
    "Der Kunde hat das Exportproblem noch einmal mit den Schritten zur Reproduktion erklärt.",
    "顧客はエクスポートの問題を、再現手順とともにもう一度説明した。",
]


def page(target_tokens: int) -> str:
    enc = encoding("o200k_base")
    text, i = [], 0
    while True:
        text.append(f"{i}. {PARAGRAPHS[i % len(PARAGRAPHS)]}")
        i += 1
        if i % 200 == 0 and len(enc.encode("\n\n".join(text))) >= target_tokens:
            return "\n\n".join(text)


def timed(action: object, runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    text = page(100_000)
    enc = encoding("o200k_base")
    tokens = len(enc.encode(text))
    config = AIConfig(
        task=Task.SUMMARY,
        inputs=(CONTENT_INPUT,),
        model="openai:gpt-4.1-mini",
        max_input_tokens=4000,
    )
    row = RowData({"Name": "Long page"}, text)
    prepared = prepare(config, row)  # warm: prompt file, tokenizer, language detector
    assert prepared.fitted.truncated and prepared.fitted.input_tokens <= 4000
    catalogue()
    bare = timed(lambda: enc.encode(text, disallowed_special=()))
    fitted = timed(lambda: prepare(config, row))
    ratio = fitted / bare
    print(f"page: {len(text):,} characters, {tokens:,} tokens")
    print(
        f"tiktoken encode: {bare * 1000:.1f} ms; count + cut + render: {fitted * 1000:.1f} ms "
        f"({ratio:.1f}× the bare encode)"
    )
    record(
        "budgeting_100k_token_page",
        round(fitted * 1000, 1),
        "ms",
        target=None,
        met=None,
        command="python -m bench.budget_cost",
        details={
            "page_tokens": tokens,
            "page_chars": len(text),
            "bare_encode_ms": round(bare * 1000, 1),
            "ratio_to_bare_encode": round(ratio, 2),
            "input_budget": 4000,
            "fitted_tokens": prepared.fitted.input_tokens,
        },
    )


if __name__ == "__main__":
    main()
