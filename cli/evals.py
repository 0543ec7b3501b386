"""`autofill evals`: run the prompt regression suite, accept a baseline, gate a deploy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from autofill.config import get_settings, use_settings
from autofill.llm import Completer
from autofill.llm.simulator import Simulator
from evals import (
    BASELINE,
    DEFAULT_MARGIN,
    CaseLoadError,
    CaseResult,
    DiskCache,
    Judging,
    RunRecord,
    build_baseline,
    compare,
    load_baseline,
    load_cases,
    markdown,
    pass_rates,
    run_coverage,
    run_suite,
    runs_dir,
    save_baseline,
    write,
)


@click.group()
def evals() -> None:
    """Prompt regression evals: cases in evals/cases, checks, runs, baseline and gate."""


def _out_dir(out: Path | None) -> Path:
    return out or runs_dir(get_settings().data_dir)


def _cache() -> DiskCache:
    settings = get_settings()
    return DiskCache(settings.eval_cache_dir or settings.data_dir / "evals" / "cache")


@contextmanager
def _model_reachable(model: str, console: Console) -> Iterator[None]:
    """A ``sim:`` model with no simulator configured gets one in this process."""
    settings = get_settings()
    if not model.startswith("sim:") or settings.sim_url:
        yield
        return
    with Simulator() as simulator:
        previous = use_settings(settings.model_copy(update={"sim_url": simulator.openai_base_url}))
        console.print(
            f"[yellow]Model {model} is the LLM simulator[/]: its answers are simulated, "
            "not a model's."
        )
        try:
            yield
        finally:
            use_settings(previous)


def _run(
    console: Console,
    model: str,
    task: str | None,
    samples: int,
    live: bool,
    judge_model: str | None,
) -> RunRecord:
    try:
        cases = load_cases(task=task)
    except CaseLoadError as exc:
        raise click.ClickException(str(exc)) from None
    if not cases:
        raise click.ClickException(f"no cases for task {task!r}")
    try:
        answers = {k: v.get("answer") for k, v in load_baseline()["cases"].items()}
    except ValueError:
        answers = {}
    cache = _cache()
    with _model_reachable(model, console), _model_reachable(judge_model or model, console):
        judging = Judging(judge_model, Completer(), cache) if judge_model else None
        results = run_suite(
            cases,
            model,
            Completer(),
            cache,
            samples=samples,
            live=live,
            judging=judging,
            baseline_answers=answers,
        )
    return RunRecord.new(model, results, judge_model)


def _summary(console: Console, results: list[CaseResult]) -> None:
    """Passed/total per task (rows) and answer language (columns)."""
    cells: dict[tuple[str, str], list[int]] = {}
    for result in results:
        key = (result.case.task, result.case.answer_language)
        cell = cells.setdefault(key, [0, 0])
        cell[0] += result.passed
        cell[1] += 1
    tasks = sorted({task for task, _ in cells})
    languages = sorted({language for _, language in cells})
    table = Table(title="Eval results: passed/total by task and language")
    table.add_column("task")
    for language in languages:
        table.add_column(language, justify="right")
    table.add_column("all", justify="right", style="bold")
    for task in tasks:
        row = [cells.get((task, language)) for language in languages]
        passed = sum(c[0] for c in row if c)
        total = sum(c[1] for c in row if c)
        table.add_row(task, *(f"{c[0]}/{c[1]}" if c else "" for c in row), f"{passed}/{total}")
    totals = pass_rates(results, "language")
    overall = (sum(p for p, _ in totals.values()), sum(t for _, t in totals.values()))
    table.add_row(
        "all",
        *(f"{totals[language][0]}/{totals[language][1]}" for language in languages),
        f"{overall[0]}/{overall[1]}",
        style="bold",
    )
    console.print(table)


@evals.command("run")
@click.option("--task", default=None, help="Only this task's cases.")
@click.option("--model", default=None, help="Model reference [default: the baseline's]")
@click.option("--samples", default=1, show_default=True, type=click.IntRange(1, 20))
@click.option("--live", is_flag=True, help="Ignore cached answers.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--accept", is_flag=True, help="Make this run the baseline (evals/baseline.json).")
@click.option("--judge-model", default=None, help="Model for the judges [default: the baseline's]")
@click.option("--no-judges", is_flag=True, help="Deterministic checks only.")
def run(
    task: str | None,
    model: str | None,
    samples: int,
    live: bool,
    out: Path | None,
    accept: bool,
    judge_model: str | None,
    no_judges: bool,
) -> None:
    """Run the cases through the production fill path and report."""
    console = Console()
    if accept and task is not None:
        raise click.ClickException("--accept needs the whole suite; drop --task")
    model = model or _baseline_model()
    judge = None if no_judges else (judge_model or _baseline_judge() or model)
    record = _run(console, model, task, samples, live, judge)
    paths = write(record, _out_dir(out))
    _summary(console, record.results)
    header = record.header()
    console.print(
        f"{header['passed']}/{header['cases']} passed · {header['tokens_in']:,} tokens in · "
        f"${header['cost_usd']:.4f} · {header['cache_hits']}/{header['samples']} from cache"
    )
    console.print(f"Record: {paths['jsonl']}\nReport: {paths['md']}, {paths['html']}")
    if accept:
        save_baseline(build_baseline(record))
        console.print(f"Baseline written: {BASELINE} (commit it)")


def _baseline_model() -> str:
    try:
        return str(load_baseline()["model"])
    except ValueError:
        return get_settings().default_model


def _baseline_judge() -> str | None:
    try:
        found = load_baseline().get("judge_model")
    except ValueError:
        return None
    return str(found) if found else None


@evals.command("gate")
@click.option("--margin", default=DEFAULT_MARGIN, show_default=True, type=click.FloatRange(0, 1))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
def gate(margin: float, out: Path | None) -> None:
    """Run the suite with the baseline's model and fail if it regressed or a prompt changed
    without a new baseline."""
    console = Console()
    try:
        baseline = load_baseline()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    judge = baseline.get("judge_model")
    record = _run(console, str(baseline["model"]), None, 1, False, str(judge) if judge else None)
    result = compare(baseline, record, margin)
    paths = write(record, _out_dir(out))
    paths["md"].write_text(markdown(record, result.lines()), encoding="utf-8")
    _summary(console, record.results)
    for line in result.lines():
        console.print(line, markup=False)
    console.print(f"Report: {paths['md']}")
    if not result.passed:
        raise SystemExit(1)


@evals.command("coverage")
@click.option("--model", default="sim:mimic-1", show_default=True, help="Model reference.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option(
    "--target",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Fail below this share of answers in the page's language.",
)
def coverage(model: str, out: Path | None, target: float) -> None:
    """Pages in languages no example is written in (and in held-out ones): the share answered
    in the page's language, per language."""
    from datetime import UTC, datetime

    console = Console()
    with _model_reachable(model, console):
        report = run_coverage(model, Completer())
    table = Table(title=f"Language coverage — {model}")
    for column in ("language", "script", "examples", "in its language"):
        table.add_column(column)
    for row in report.languages():
        table.add_row(
            f"{row.name} ({row.language})",
            row.script or "",
            "held out" if row.held_out else "none",
            f"{row.passed}/{row.total}",
        )
    console.print(table)
    directory = _out_dir(out)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"coverage-{stamp}.md"
    path.write_text(report.markdown(), encoding="utf-8")
    passed = sum(a.in_page_language for a in report.answers)
    console.print(
        f"In the page's language: {report.share:.1%} ({passed}/{len(report.answers)}), "
        f"target {target:.0%}\nReport: {path}"
    )
    if report.share < target:
        raise SystemExit(1)


@evals.command("import-feedback")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where candidates go [default: evals/candidates]",
)
def import_feedback_command(out: Path | None) -> None:
    """Turn users' shared feedback into candidate cases (emails and phone numbers redacted)."""
    from cli.common import open_store, transaction
    from evals import CANDIDATES_DIR, import_feedback

    store = open_store()
    with transaction(store) as session:
        written = import_feedback(session, out or CANDIDATES_DIR)
    if not written:
        click.echo("No new shared feedback.")
    for path in written:
        click.echo(f"candidate: {path}")
