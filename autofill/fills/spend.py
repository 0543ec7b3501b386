"""What fills spend and how a run's cells end: the counters, named once.

The same counters live in three tables (autofill.db.models declares each set once, as a
mixin): a month's usage (``USAGE``: fills, fills avoided and the calls' spend), a bulk run
(``CALLS`` and ``SETTLED``: a run counts its model calls, tokens, cost and how its cells
ended), and the fill ledger between them (all of them). Code that moves counters between those
tables names these sets, never a slice of a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from autofill.db import CallSpendColumns, FillCountColumns, SettledColumns


@dataclass(frozen=True)
class Spend:
    fills: int = 0
    fills_avoided: int = 0
    model_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Settled:
    """A run's cells by how they ended."""

    done: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.done + self.failed + self.skipped


NOTHING_SPENT = Spend()
NONE_SETTLED = Settled()


def _columns(mixin: type) -> tuple[str, ...]:
    return tuple(name for name in mixin.__annotations__ if not name.startswith("_"))


FILLS: tuple[str, ...] = _columns(FillCountColumns)  # fills, fills_avoided
CALLS: tuple[str, ...] = _columns(CallSpendColumns)  # model_calls, tokens_in, tokens_out, cost
USAGE: tuple[str, ...] = FILLS + CALLS  # a month's usage row: every field of Spend
SETTLED: tuple[str, ...] = _columns(SettledColumns)  # done, failed, skipped
RUN: tuple[str, ...] = CALLS + SETTLED  # what a run's row counts
LEDGER: tuple[str, ...] = USAGE + SETTLED  # what a ledger entry carries: every counter


def typed(name: str, value: Any) -> Any:
    """Sums come back as numbers of any kind: cost is a float, every other counter an int."""
    return float(value) if name == "cost_usd" else int(value)


def period_of(moment: datetime) -> str:
    """The UTC calendar month a moment counts in ("2026-11")."""
    return moment.strftime("%Y-%m")
