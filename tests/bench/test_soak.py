"""The soak, short: a minute of steady edits on the whole topology with no growth of memory,
connections or Redis keys, and every edit filled. The full 15 minutes: python -m bench.soak."""

from __future__ import annotations

import pytest

from bench.soak import soak

pytestmark = pytest.mark.timeout(400)


def test_a_minute_of_steady_load_grows_nothing() -> None:
    result = soak(minutes=1.0, rate=5.0)
    assert result["edits"] >= 250  # the load really ran at its rate
    assert result["settled"] and result["cells_in_error"] == 0
    failed = {name: v for name, v in result["verdicts"].items() if not v["met"]}
    assert failed == {}, result["verdicts"]
