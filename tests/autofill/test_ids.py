from __future__ import annotations

import time

import pytest

from autofill.ids import new_id


@pytest.mark.real_time  # ids carry the system's milliseconds, as they must in production
def test_ids_are_prefixed_unique_and_time_ordered() -> None:
    first = new_id("row")
    time.sleep(0.002)
    later = [new_id("row") for _ in range(1000)]
    assert first.startswith("row_") and len(first) == 4 + 26
    assert len(set(later)) == 1000
    assert all(first < other for other in later)
