"""An in-process pipeline: the real outbox, dispatcher and fill code against the real store
and the LLM simulator, with a list standing in for the queue so tests choose when each step
runs. (The same code under real Celery processes and Redis: tests/worker.)"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from autofill.config import Settings
from autofill.db.session import Store
from autofill.fills.dispatch import dispatch_due
from autofill.fills.fill import fill_cell
from autofill.fills.upkeep import sweep
from autofill.kinds import Outcome
from autofill.llm.complete import Completer
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.simulator.server import Simulator
from tests.conftest import Caller


@dataclass
class Pipeline:
    store: Store
    settings: Settings
    completer: Completer
    queue: list[tuple[str, str, int]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def send(self, fills: list[tuple[str, str, int]], lane: str = "") -> None:
        self.queue.extend(fills)  # a bulk group's fills run one by one here

    def dispatch(self) -> int:
        return dispatch_due(self.store, self.send, self.settings)

    def work_one(self) -> Outcome:
        outcome = fill_cell(self.store, self.completer, self.settings, *self.queue.pop(0))
        self.outcomes.append(outcome)
        return outcome

    def drain(self, rounds: int = 50) -> list[Outcome]:
        """Dispatch and fill until nothing is due (a chain takes several rounds)."""
        start = len(self.outcomes)
        for _ in range(rounds):
            if not self.dispatch() and not self.queue:
                break
            while self.queue:
                self.work_one()
        return self.outcomes[start:]

    def sweep(self) -> Any:
        return sweep(self.store, self.settings)


@pytest.fixture
def fill_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"debounce_s": 0.0, "fill_timeout_s": 20.0})


@pytest.fixture
def pipeline(store: Store, fill_settings: Settings, sim: Simulator) -> Iterator[Pipeline]:
    completer = Completer(limiter=RateLimiter({}, None), timeout_s=20.0, max_reasks=1)
    yield Pipeline(store, fill_settings, completer)


@pytest.fixture
def fill_api(api: Caller, app: Any, fill_settings: Settings) -> Caller:
    """The API caller, with the app using the pipeline's settings (no debounce)."""
    app.extensions["autofill.settings"] = fill_settings
    return api
