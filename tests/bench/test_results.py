"""bench.results' arithmetic that every throughput benchmark shares."""

from __future__ import annotations

from bench.results import steady_rate


def test_the_steady_rate_is_the_cells_between_10_and_90_percent_over_their_window() -> None:
    assert steady_rate(100, {"p10": 1.0, "p90": 5.0, "end": 6.0}) == 20.0


def test_a_run_that_passed_both_marks_in_one_poll_falls_back_to_its_whole_rate() -> None:
    # 80 cells recorded in one transaction: 10 % and 90 % seen in the same poll (CI, once).
    assert steady_rate(80, {"p10": 2.0, "p90": 2.0, "end": 4.0}) == 20.0
