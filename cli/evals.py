"""`autofill evals`: run the prompt regression suite, accept a baseline, gate a deploy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from autofill.config import get_settings, use_settings
from autofill.fills import shared_limiter
from autofill.llm import Completer
from autofill.llm.simulator import Simulator
from evals import (
    BASELINE,
    DEFAULT_MARGIN,
    AcceptRefused,
    CaseLoadError,
    CaseResult,
    CostTooHigh,
    DiskCache,
    Judging,
    RunRecord,
    baseline_judge,
    compare,
    comparison,
    is_simulated,
    load_baseline,
    load_cases,
    markdown,
    run_coverage,
    run_suite,
    runs_dir,
    save_baseline,
    write,
)
from evals import accept as accept_run


@click.group()
def evals() -> None:
    """Prompt regression evals: cases in evals/cases, checks, runs, baseline and gate."""


def _out_dir(out: Path | None) -> Path:
    return out or runs_dir(get_settings().data_dir)


def _cache() -> DiskCache:
    settings = get_settings()
    return DiskCache(settings.eval_cache_dir or settings.data_dir / "evals" / "cache")


# With no provider key, answers come from the prompt-sensitive simulator: its answers change
# when a prompt's instructions or examples do, so an edit is judged, not only its hash.
DEFAULT_SIM_MODEL = "sim:mimic-1"


def _has_provider() -> bool:
    settings = get_settings()
    return bool(settings.openai_api_key or settings.anthropic_api_key or settings.compat)


@contextmanager
def _models_reachable(models: list[str | None], console: Console) -> Iterator[None]:
    """``sim:`` models with no simulator configured get one in this process."""
    settings = get_settings()
    simulated = [m for m in models if m and m.startswith("sim:")]
    if not simulated or settings.sim_url:
        yield
        return
    with Simulator() as simulator:
        previous = use_settings(settings.model_copy(update={"sim_url": simulator.openai_base_url}))
        console.print(
            f"[yellow]{', '.join(sorted(set(simulated)))}: the LLM simulator[/] (simulated, "
            "not a model's)."
        )
        try:
            yield
        finally:
            use_settings(previous)


def _baseline_or_none() -> dict[str, Any] | None:
    try:
        return load_baseline()
    except ValueError:
        return None


def _choose_models(
    model: str | None, judge_model: str | None, no_judges: bool
) -> tuple[str, str | None]:
    """The answer model and the judge: as asked, else the baseline's, else the simulator with
    no judge when no provider key is set, else the configured default model judging itself."""
    baseline = _baseline_or_none()
    if model is None:
        if baseline is not None:
            model = str(baseline["model"])
        else:
            model = get_settings().default_model if _has_provider() else DEFAULT_SIM_MODEL
    if no_judges or judge_model == "none":
        return model, None
    if judge_model is None:
        judge_model = baseline_judge(baseline) if baseline is not None else None
        if judge_model is None and baseline is None and not is_simulated(model):
            judge_model = model
    return model, judge_model


def _run(
    console: Console,
    model: str,
    task: str | None,
    samples: int,
    live: bool,
    judge_model: str | None,
    max_cost: float | None = None,
) -> RunRecord:
    try:
        cases = load_cases(task=task)
    except CaseLoadError as exc:
        raise click.ClickException(str(exc)) from None
    if not cases:
        raise click.ClickException(f"no cases for task {task!r}")
    baseline = _baseline_or_none()
    answers = {k: v.get("answer") for k, v in baseline["cases"].items()} if baseline else {}
    cache = _cache()
    with _models_reachable([model, judge_model], console):
        judging = Judging(judge_model, Completer(shared_limiter()), cache) if judge_model else None
        try:
            results = run_suite(
                cases,
                model,
                Completer(shared_limiter()),
                cache,
                samples=samples,
                live=live,
                judging=judging,
                baseline_answers=answers,
                max_cost_usd=max_cost,
            )
        except CostTooHigh as exc:
            raise click.ClickException(str(exc)) from None
    return RunRecord.new(model, results, judge_model)


_SHORT = {
    "summary": "sum",
    "key_info": "key",
    "translate": "trans",
    "classify": "class",
    "custom": "cust",
    "custom_typed": "typed",
}


def _summary(console: Console, results: list[CaseResult]) -> None:
    """Passed/total per answer language (rows) and task (columns): fits 80 columns."""
    cells: dict[tuple[str, str], list[int]] = {}
    for result in results:
        key = (result.case.answer_language, result.case.task)
        cell = cells.setdefault(key, [0, 0])
        cell[0] += result.passed
        cell[1] += 1
    tasks = [t for t in _SHORT if any(task == t for _, task in cells)]
    languages = sorted({language for language, _ in cells})
    table = Table(title="Eval results: passed/total", title_justify="left")
    table.add_column("lang")
    for task in tasks:
        table.add_column(_SHORT[task], justify="right")
    table.add_column("all", justify="right", style="bold")
    for language in [*languages, "all"]:
        row = []
        for task in tasks:
            found = [c for (lang, t), c in cells.items() if t == task and language in (lang, "all")]
            passed, total = sum(c[0] for c in found), sum(c[1] for c in found)
            row.append(f"{passed}/{total}" if total else "")
        found = [c for (lang, _), c in cells.items() if language in (lang, "all")]
        style = "bold" if language == "all" else None
        table.add_row(
            language, *row, f"{sum(c[0] for c in found)}/{sum(c[1] for c in found)}", style=style
        )
    console.print(table)


def _spending(console: Console, record: RunRecord) -> None:
    header = record.header()
    console.print(
        f"{header['passed']}/{header['cases']} passed · {header['tokens_in']:,} tokens in, "
        f"{header['tokens_out']:,} out · spent ${header['spent_usd']:.4f} · the cache saved "
        f"${header['cache_saved_usd']:.4f} ({header['cache_hits']}/{header['samples']} answers)"
    )
    if header["errors"]:
        first_case, first_error = record.errors()[0]
        console.print(
            f"[red]{header['errors']} samples got no answer[/], e.g. {first_case}: {first_error}",
            markup=True,
        )


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    found = {}
    for value in values:
        case, sep, reason = value.partition("=")
        if not sep or not case.strip() or not reason.strip():
            raise click.BadParameter(f"{value!r}: expected CASE=REASON", param_hint=option)
        found[case.strip()] = reason.strip()
    return found


@evals.command("run")
@click.option("--task", default=None, help="Only this task's cases.")
@click.option(
    "--model", default=None, help="Answer model [default: the baseline's; no key: sim:mimic-1]"
)
@click.option("--samples", default=1, show_default=True, type=click.IntRange(1, 20))
@click.option("--live", is_flag=True, help="Ignore cached answers.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--accept", is_flag=True, help="Make this run the baseline (evals/baseline.json).")
@click.option(
    "--waive", multiple=True, metavar="CASE=REASON", help="With --accept: a known failure."
)
@click.option(
    "--quarantine", multiple=True, metavar="CASE=REASON", help="With --accept: run, not gate."
)
@click.option(
    "--judge-model",
    default=None,
    help="Model for the judges [default: the baseline's; 'none': deterministic checks only]",
)
@click.option("--no-judges", is_flag=True, help="Deterministic checks only.")
@click.option(
    "--max-cost", type=click.FloatRange(0), default=None, help="Stop before spending more (USD)."
)
def run(
    task: str | None,
    model: str | None,
    samples: int,
    live: bool,
    out: Path | None,
    accept: bool,
    waive: tuple[str, ...],
    quarantine: tuple[str, ...],
    judge_model: str | None,
    no_judges: bool,
    max_cost: float | None,
) -> None:
    """Run the cases through the production fill path and report."""
    console = Console()
    if accept and task is not None:
        raise click.ClickException("--accept needs the whole suite; drop --task")
    if (waive or quarantine) and not accept:
        raise click.ClickException("--waive and --quarantine go with --accept")
    waivers, quarantined = _pairs(waive, "--waive"), _pairs(quarantine, "--quarantine")
    model, judge = _choose_models(model, judge_model, no_judges)
    record = _run(console, model, task, samples, live, judge, max_cost)
    paths = write(record, _out_dir(out))
    console.print(record.verdict_source())
    _summary(console, record.results)
    _spending(console, record)
    console.print(f"Record: {paths['jsonl']}\nReport: {paths['md']}, {paths['html']}")
    if accept:
        try:
            baseline = accept_run(record, _baseline_or_none(), waivers, quarantined)
        except AcceptRefused as exc:
            console.print("[red]Not accepted[/]; evals/baseline.json is unchanged:")
            for reason in exc.reasons:
                console.print(f"- {reason}", markup=False, highlight=False)
            raise SystemExit(1) from None
        save_baseline(baseline)
        console.print(f"Baseline written: {BASELINE} (commit it)")


@evals.command("gate")
@click.option("--margin", default=DEFAULT_MARGIN, show_default=True, type=click.FloatRange(0, 1))
@click.option("--model", default=None, help="Answer model [default: the baseline's]")
@click.option(
    "--judge-model", default=None, help="Judge model [default: the baseline's; 'none': no judges]"
)
@click.option("--samples", default=1, show_default=True, type=click.IntRange(1, 20))
@click.option(
    "--max-cost", type=click.FloatRange(0), default=None, help="Stop before spending more (USD)."
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
def gate(
    margin: float,
    model: str | None,
    judge_model: str | None,
    samples: int,
    max_cost: float | None,
    out: Path | None,
) -> None:
    """Run the suite and fail if it regressed against the baseline, or a prompt changed
    without a new baseline."""
    console = Console()
    try:
        baseline = load_baseline()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    model, judge = _choose_models(model, judge_model, False)
    record = _run(console, model, None, samples, False, judge, max_cost)
    result = compare(baseline, record, margin)
    paths = write(record, _out_dir(out))
    # For the pull request: the gate's verdict, then what changed against the baseline.
    report = markdown(record, [*result.lines(), "", *comparison(baseline, record)])
    paths["md"].write_text(report, encoding="utf-8")
    # The verdict first: where it came from, then passed or failed and why; the table after.
    for line in result.lines():
        console.print(line, markup=False, highlight=False)
    _summary(console, record.results)
    _spending(console, record)
    console.print(f"Report (before/after, for the pull request): {paths['md']}")
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
    with _models_reachable([model], console):
        report = run_coverage(model, Completer(shared_limiter()))
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


@evals.command("calibrate-judges")
@click.option("--judge-model", required=True, help="The judge model to check.")
def calibrate_judges(judge_model: str) -> None:
    """Grade each judge's labelled answers (evals/calibration/) with JUDGE_MODEL; write the
    agreement to evals/calibration/results.json. A judge below the bar is refused for gating."""
    from evals import MIN_AGREEMENT, MIN_RATE, RESULTS, calibrate, save_calibrations

    if is_simulated(judge_model):
        raise click.ClickException(
            f"{judge_model} is the LLM simulator: it cannot grade meaning, so there is nothing "
            "to calibrate; choose a real model"
        )
    console = Console()
    found = calibrate(Judging(judge_model, Completer(shared_limiter()), _cache()))
    table = Table(title=f"Judges on {judge_model}", title_justify="left")
    for column in ("judge", "TPR", "TNR", "agree", "errors", "gate"):
        table.add_column(column, justify="left" if column == "judge" else "right")
    for item in found:
        table.add_row(
            f"{item.judge}@v{item.version}",
            f"{item.tpr:.0%}",
            f"{item.tnr:.0%}",
            f"{item.agreement:.0%}",
            str(item.errors),
            "yes" if item.trusted else "refused",
        )
    console.print(table)
    save_calibrations(found)
    console.print(
        f"Trusted: agreement ≥ {MIN_AGREEMENT:.0%}, TPR and TNR ≥ {MIN_RATE:.0%}, no errors. "
        f"Written: {RESULTS} (commit it)"
    )


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
