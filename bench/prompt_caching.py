"""How much of each task's prompt providers can serve from their prompt cache, and what that
saves.

    .venv/bin/python -m bench.prompt_caching            # a few seconds

Every eval case's page (12 languages, empty to long) goes through ``prepare`` — the fill path —
for the models named below. The static part of a prompt (instructions, then the few-shot
examples) comes first and ends at the message marked ``cache_boundary``; the page comes last.
The cacheable share is prefix tokens ÷ input tokens. Providers cache only a prefix of at least
the model's minimum (catalogue ``min_cacheable_tokens``: 1,024 on OpenAI; 512 to 4,096 on Claude
models, 1,024 assumed where the catalogue has no figure), so a prefix shorter than that saves
nothing, and the figures say so. Cost per 1,000 fills uses the
catalogue's prices with the expected answer length, in a steady backfill where the prefix is
written to the cache once and read by every later call.
"""

from __future__ import annotations

from collections import defaultdict

import click

from autofill.llm.catalogue import load_catalogue
from autofill.prompts.budget import count_messages
from autofill.prompts.prepare import prepare
from autofill.prompts.render import RowData
from bench.results import record
from evals.cases_schema import load_cases

MODELS = ["openai:gpt-6-luna", "anthropic:claude-sonnet-5"]
DEFAULT_MIN_CACHED_PREFIX = 1024


@click.command()
def main() -> None:
    catalogue = load_catalogue()
    cases = load_cases()
    for model in MODELS:
        info = catalogue.get(model)
        minimum = info.min_cacheable_tokens or DEFAULT_MIN_CACHED_PREFIX
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * 6)
        for case in cases:
            prepared = prepare(case.column(model), RowData(case.properties, case.content))
            messages = prepared.fitted.messages
            boundary = next(i for i, m in enumerate(messages) if m.cache_boundary)
            prefix = count_messages(messages[: boundary + 1], info)
            tokens = prepared.fitted.input_tokens
            cached = prefix if prefix >= minimum else 0
            answer = prepared.expected_output
            entry = totals[case.task]
            entry[0] += prefix
            entry[1] += tokens
            entry[2] += info.cost(tokens, answer)
            entry[3] += info.cost(tokens, answer, cached_tokens=cached)
            entry[4] += 1
            entry[5] += cached > 0
        click.echo(f"\n{model}")
        click.echo("task          cases  prefix share  cached calls  $/1k fills uncached → cached")
        all_prefix = all_total = 0.0
        for task, (prefix_sum, total, plain, with_cache, n, hits) in sorted(totals.items()):
            all_prefix, all_total = all_prefix + prefix_sum, all_total + total
            click.echo(
                f"{task:13} {n:5.0f}  {prefix_sum / total:12.1%}  {hits / n:12.0%}  "
                f"{1000 * plain / n:8.4f} → {1000 * with_cache / n:8.4f}"
            )
            record(
                f"prompt_caching_{task}_{model.split(':')[0]}",
                round(prefix_sum / total, 3),
                "share of input tokens in the cacheable prefix",
                target=None,
                met=None,
                command="python -m bench.prompt_caching",
                details={
                    "model": model,
                    "cases": n,
                    "mean_prefix_tokens": round(prefix_sum / n),
                    "mean_input_tokens": round(total / n),
                    "calls_with_a_cacheable_prefix": round(hits / n, 3),
                    "usd_per_1000_fills_uncached": round(1000 * plain / n, 5),
                    "usd_per_1000_fills_cached": round(1000 * with_cache / n, 5),
                },
            )
        click.echo(f"all tasks: {all_prefix / all_total:.1%} of input tokens in the prefix")


if __name__ == "__main__":
    main()
