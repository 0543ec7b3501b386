"""Language coverage: the share of answers in the page's language for pages in languages no
prompt example is written in, with the prompt-sensitive simulator.

    .venv/bin/python -m bench.language_coverage [--model sim:mimic-1]

Runs ``evals.coverage`` (the production fill path, an in-process simulator), prints the
per-language table as Markdown (BENCHMARKS.md carries it) and records the share in
bench/results.json. Target with the simulator: 100 %.
"""

from __future__ import annotations

import click

from autofill.config import get_settings, use_settings
from autofill.fills import shared_limiter
from autofill.llm import Completer
from autofill.llm.simulator import Simulator
from bench.results import record
from evals.coverage import run_coverage


@click.command()
@click.option("--model", default="sim:mimic-1", show_default=True)
def main(model: str) -> None:
    with Simulator() as simulator:
        use_settings(get_settings().model_copy(update={"sim_url": simulator.openai_base_url}))
        report = run_coverage(model, Completer(shared_limiter()))
    click.echo(report.markdown())
    languages = report.languages()
    record(
        "language_coverage",
        round(report.share * 100, 1),
        "% of answers in the page's language",
        target="100 % with the simulator",
        met=report.share == 1.0,
        command="python -m bench.language_coverage",
        details={
            "model": model,
            "answers": len(report.answers),
            "languages_unseen": sum(1 for row in languages if not row.held_out),
            "languages_held_out": sum(1 for row in languages if row.held_out),
        },
    )


if __name__ == "__main__":
    main()
