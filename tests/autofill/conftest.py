"""Domain tests run on a fake clock (autofill.clock): a backoff, a retry-after, a debounce or a
lease passes when a test says so, at once, instead of being waited for. A test of something
that keeps the system's time itself (the rate-limit window library, PostgreSQL's autovacuum,
threads racing) is marked ``real_time``."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _domain_clock(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("real_time") is None:
        request.getfixturevalue("fake_clock")
