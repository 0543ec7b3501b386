"""Prompt regression evals: cases (evals/cases), checks and judges, runs through the production
fill path, their records and reports, the baseline and the deploy gate.

What the CLI and the API use comes from here."""

from evals.cache import DiskCache
from evals.cases_schema import CaseLoadError, load_cases
from evals.coverage import CoverageReport, run_coverage
from evals.feedback import CANDIDATES_DIR, import_feedback
from evals.gate import (
    BASELINE,
    DEFAULT_MARGIN,
    build_baseline,
    compare,
    load_baseline,
    save_baseline,
)
from evals.judges import Judging
from evals.record import RunRecord, markdown, pass_rates, write
from evals.reports import latest_runs, load_run, runs_dir
from evals.runner import CaseResult, run_suite

__all__ = [
    "BASELINE",
    "CANDIDATES_DIR",
    "DEFAULT_MARGIN",
    "CaseLoadError",
    "CaseResult",
    "CoverageReport",
    "DiskCache",
    "Judging",
    "RunRecord",
    "build_baseline",
    "compare",
    "import_feedback",
    "latest_runs",
    "load_baseline",
    "load_cases",
    "load_run",
    "markdown",
    "pass_rates",
    "run_coverage",
    "run_suite",
    "runs_dir",
    "save_baseline",
    "write",
]
