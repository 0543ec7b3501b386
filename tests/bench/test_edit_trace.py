"""The edit-trace benchmark's own logic, on a few rows: the trace replays the same way, and
Autofill ends with the naive run's values for fewer tokens."""

from __future__ import annotations

from pathlib import Path

from autofill.config import Settings
from autofill.db.migrate import upgrade
from autofill.llm.simulator import Simulator
from autofill.services.store import open_store
from bench.edit_trace import make_trace, run_autofill, run_naive


def test_the_trace_is_replayable() -> None:
    assert make_trace(20, seed=3) == make_trace(20, seed=3)
    assert make_trace(20, seed=3) != make_trace(20, seed=4)


def test_autofill_spends_less_and_ends_with_the_same_values(tmp_path: Path, sim: Simulator) -> None:
    created, sittings = make_trace(6, seed=11)
    store = open_store(f"sqlite:///{tmp_path}/trace.db")
    upgrade(store)
    settings = Settings(data_dir=tmp_path, redis_url=None, debounce_s=1.0)
    first, spent, ours, where = run_autofill(store, settings, created, sittings)
    naive_first, naive_all, theirs = run_naive(store, where, created, sittings)
    store.dispose()
    assert ours == theirs and len(ours) == 6 * 3
    assert first.tokens_in + first.tokens_out == naive_first  # the first fills cost the same
    assert spent.tokens_in + spent.tokens_out < naive_all
