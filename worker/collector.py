"""The cyclic garbage collector, run less often in the long-lived fill processes.

Python starts a young-generation pass every 700 allocations (net of frees), a threshold for
scripts. A worker allocates ORM objects, JSON and HTTP buffers by the thousand for each fill,
and in a 3,000-row backfill at 200 in flight each of its processes ran ~1,100 passes: 6.5–7 %
of its CPU, of which 8–9 full passes of ~75 ms over everything it keeps (caches, pools,
sessions) that ``gc.freeze`` could not set aside. Nearly all of it is freed by reference
counting anyway: the collector only finds cycles. At 10,000 the same run took ~50 passes, one
of them full, 3.3–4.2 % of the CPU, and the workers' memory did not move (BENCHMARKS.md,
eighth session). The older generations keep Python's thresholds: they count young passes.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def collect_less_often(young: int = YOUNG_THRESHOLD) -> None:
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)
