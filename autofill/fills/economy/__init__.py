"""Economy fills: a bulk run's cells through the providers' batch interfaces, at their batch
price (autofill.fills.economy.build claims them into batches, .steps sends, looks at and
records the batches, .batcher runs both in passes, .progress reports them)."""

from autofill.fills.economy.batcher import Pass, pass_once
from autofill.fills.economy.progress import BatchProgress, of_run, run_data
from autofill.fills.economy.steps import cancel_run_batches

__all__ = ["BatchProgress", "Pass", "cancel_run_batches", "of_run", "pass_once", "run_data"]
