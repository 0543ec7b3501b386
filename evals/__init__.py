"""Prompt regression evals: cases (evals/cases), checks and judges, runs through the production
fill path, their records and reports, the baseline and the deploy gate.

What the CLI and the API use comes from here."""

from evals.cache import DiskCache
from evals.calibration import (
    MIN_AGREEMENT,
    MIN_RATE,
    RESULTS,
    calibrate,
    save_calibrations,
)
from evals.cases_schema import CaseLoadError, load_cases
from evals.coverage import CoverageReport, run_coverage
from evals.feedback import CANDIDATES_DIR, import_feedback
from evals.gate import (
    BASELINE,
    DEFAULT_MARGIN,
    AcceptRefused,
    accept,
    baseline_judge,
    build_baseline,
    compare,
    comparison,
    load_baseline,
    save_baseline,
)
from evals.judges import Judging, is_simulated
from evals.record import RunRecord, markdown, pass_rates, write
from evals.reports import latest_runs, load_run, runs_dir
from evals.runner import CaseResult, CostTooHigh, run_suite

__all__ = [
    "BASELINE",
    "CANDIDATES_DIR",
    "DEFAULT_MARGIN",
    "MIN_AGREEMENT",
    "MIN_RATE",
    "RESULTS",
    "AcceptRefused",
    "CaseLoadError",
    "CaseResult",
    "CostTooHigh",
    "CoverageReport",
    "DiskCache",
    "Judging",
    "RunRecord",
    "accept",
    "baseline_judge",
    "build_baseline",
    "calibrate",
    "compare",
    "comparison",
    "import_feedback",
    "is_simulated",
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
    "save_calibrations",
    "write",
]
