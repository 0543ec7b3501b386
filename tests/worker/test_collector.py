"""worker.collector: the young generation's threshold moves; the older ones keep theirs."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from worker import collect_less_often
from worker.collector import YOUNG_THRESHOLD


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_only_the_young_generation_is_collected_less_often(
    thresholds: tuple[int, int, int],
) -> None:
    collect_less_often()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, thresholds[1], thresholds[2])
    assert gc.isenabled()
