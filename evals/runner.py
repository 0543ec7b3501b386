"""Running cases through the production fill path: the same ``prepare`` (rendering, language,
budgeting) and the same ``Completer`` (provider, retries, typed validation) a worker uses, so a
case passes here exactly when the column would fill that way in production."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autofill.llm import Completer, FillFailed
from autofill.prompts import CannotPrepare, Prepared, prepare_for_row
from evals.cache import DiskCache, request_key
from evals.cases_schema import Case
from evals.checks import Verdict, run_checks
from evals.judges import Judging


@dataclass
class Sample:
    value: Any
    text: str
    error: str | None
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    cost_usd: float
    latency_s: float
    from_cache: bool
    checks: list[Verdict]

    @property
    def passed(self) -> bool:
        return self.error is None and all(check.passed for check in self.checks)


@dataclass
class CaseResult:
    case: Case
    prompt_version: str
    examples: list[str]
    page_language: str | None
    truncated: bool
    input_tokens: int
    samples: list[Sample] = field(default_factory=list)
    # Against the baseline's answer, when it differs: win, loss or tie (both orders asked).
    pairwise: str | None = None

    @property
    def pass_share(self) -> float:
        return sum(s.passed for s in self.samples) / len(self.samples) if self.samples else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.samples) and self.pass_share >= self.case.pass_share


def run_case(
    case: Case,
    model: str,
    completer: Completer,
    cache: DiskCache,
    *,
    samples: int = 1,
    live: bool = False,
    judging: Judging | None = None,
    baseline_answer: Any = None,
) -> CaseResult:
    try:
        prepared = prepare_for_row(
            case.column(model),
            {name: name for name in case.properties},  # a case's properties are their own ids
            case.properties,
            case.content or "",
            {},
        )
    except CannotPrepare as exc:
        result = CaseResult(case, "", [], None, False, 0)
        result.samples.append(_failed_sample(f"prompt cannot be built: {exc}"))
        return result
    fitted = prepared.fitted
    result = CaseResult(
        case,
        fitted.prompt_version,
        list(fitted.examples),
        fitted.language,
        fitted.truncated,
        fitted.input_tokens,
    )
    for number in range(case.samples or samples):
        sample = _sample(case, prepared, completer, cache, number, live)
        if judging is not None and sample.error is None:
            sample.checks += judging.judge(case, sample.value)
        result.samples.append(sample)
    first = result.samples[0]
    if (
        judging is not None
        and first.error is None
        and baseline_answer is not None
        and first.value != baseline_answer
    ):
        result.pairwise = judging.compare(case, first.value, baseline_answer)
    return result


def _sample(
    case: Case,
    prepared: Prepared,
    completer: Completer,
    cache: DiskCache,
    number: int,
    live: bool,
) -> Sample:
    key = request_key(prepared.request, number)
    stored = None if live else cache.get(key)
    from_cache = stored is not None
    if stored is None:
        started = time.monotonic()
        try:
            completion = completer.complete(prepared.request)
        except FillFailed as exc:
            # Failures are not cached: a provider error may be gone next time.
            return _failed_sample(exc.message)
        stored = {
            "value": completion.value,
            "text": completion.text,
            "tokens_in": completion.usage.input_tokens,
            "tokens_out": completion.usage.output_tokens,
            "cached_tokens": completion.usage.cached_tokens,
            "cost_usd": completion.cost_usd,
            "latency_s": round(time.monotonic() - started, 4),
        }
        cache.put(key, stored)
    return Sample(
        value=stored["value"],
        text=stored["text"],
        error=None,
        tokens_in=stored["tokens_in"],
        tokens_out=stored["tokens_out"],
        cached_tokens=stored["cached_tokens"],
        cost_usd=stored["cost_usd"],
        latency_s=stored["latency_s"],
        from_cache=from_cache,
        checks=run_checks(case, stored["value"]),
    )


def _failed_sample(message: str) -> Sample:
    return Sample(
        value=None,
        text="",
        error=message,
        tokens_in=0,
        tokens_out=0,
        cached_tokens=0,
        cost_usd=0.0,
        latency_s=0.0,
        from_cache=False,
        checks=[Verdict("answered", False, message)],
    )


class CostTooHigh(Exception):
    """A run would spend more than its ``--max-cost``: stopped before any call."""


def worst_cost(
    cases: list[Case],
    model: str,
    cache: DiskCache,
    *,
    samples: int = 1,
    live: bool = False,
    judging: Judging | None = None,
) -> float:
    """The most a run can spend, in USD: each answer not in the cache at its output limit
    (and its re-asks, for typed answers), and each judge call on a real judge model."""
    from autofill.config import get_settings
    from autofill.llm import catalogue

    total = 0.0
    for case in cases:
        try:
            prepared = prepare_for_row(
                case.column(model),
                {n: n for n in case.properties},
                case.properties,
                case.content or "",
                {},
            )
        except CannotPrepare:
            continue
        tries = 1 + (get_settings().max_reasks if case.output.type != "text" else 0)
        for number in range(case.samples or samples):
            if live or cache.get(request_key(prepared.request, number)) is None:
                total += prepared.max_cost_usd * tries
        if judging is not None and not judging.simulated:
            info = catalogue().get(judging.model)
            # A judge reads the case and an answer about as long as the page, and says a word.
            total += judging.calls_per_case(case) * info.cost(2 * prepared.fitted.input_tokens, 64)
    return total


def run_suite(
    cases: list[Case],
    model: str,
    completer: Completer,
    cache: DiskCache,
    *,
    samples: int = 1,
    live: bool = False,
    judging: Judging | None = None,
    baseline_answers: dict[str, Any] | None = None,
    progress: Callable[[CaseResult], None] | None = None,
    max_cost_usd: float | None = None,
) -> list[CaseResult]:
    if max_cost_usd is not None:
        worst = worst_cost(cases, model, cache, samples=samples, live=live, judging=judging)
        if worst > max_cost_usd:
            raise CostTooHigh(
                f"this run could spend up to ${worst:.4f} (answers not in the cache, at their "
                f"output limits, and judge calls), over --max-cost ${max_cost_usd:.4f}; nothing "
                "was sent"
            )
    results = []
    for case in cases:
        result = run_case(
            case,
            model,
            completer,
            cache,
            samples=samples,
            live=live,
            judging=judging,
            baseline_answer=(baseline_answers or {}).get(case.id),
        )
        results.append(result)
        if progress is not None:
            progress(result)
    return results
