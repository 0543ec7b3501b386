"""A worker process's shape: Celery's task threads for its lane, and the call threads that a
bulk group's model calls run on."""

from __future__ import annotations

from worker.runtime import task_threads


def test_people_s_edits_get_a_thread_per_fill_in_flight() -> None:
    assert task_threads("interactive", 10, 20) == 10
    assert task_threads("both", 100, 20) == 100  # edits come here too


def test_a_bulk_worker_needs_a_thread_per_group_and_one_to_claim_ahead() -> None:
    assert task_threads("bulk", 100, 20) == 6  # five groups in flight, one claiming
    assert task_threads("bulk", 101, 20) == 7
    assert task_threads("bulk", 4, 20) == 2  # never fewer than two
