"""Dispatchers as a team (issue 23): two `autofill dispatcher` processes share one PostgreSQL;
the sweep runs under a lease on one of them; SIGKILL that one and the other takes the sweep
over within the lease's bound, and a fill orphaned by a worker killed at the same time is still
finished (its expired lease swept back by the new holder)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from autofill.fills import chores
from autofill.llm.simulator import Simulator
from tests.worker.conftest import Topology, running_topology
from tests.worker.test_topology import _calls_by_content, _database, _filled_with, _row

pytestmark = pytest.mark.timeout(240)

LEASE_S = 2.0
# A lease runs out LEASE_S after its last heartbeat, which came at most a third of it before
# the kill; the survivor tries every third of it. The rest is slack for a busy machine.
TAKEOVER_BOUND_S = LEASE_S + 2 * LEASE_S / 3 + 3.0


def _holder(topology: Topology) -> tuple[str, int] | None:
    with topology.store.transaction() as session:
        lease = chores.current(session, chores.SWEEP)
        if lease is None or lease.expires_at <= 0:
            return None
        return lease.holder, lease.fencing


def test_the_sweep_moves_to_the_surviving_dispatcher_when_its_holder_is_killed(
    pg_url: str, tmp_path: Path, simulator_server: Simulator
) -> None:
    overrides = {"AUTOFILL_CHORE_LEASE_S": str(LEASE_S)}
    with running_topology(pg_url, tmp_path, simulator_server, **overrides) as topology:
        first, second = topology.dispatcher(), topology.dispatcher()
        by_pid = {first.pid: first, second.pid: second}
        holder, fencing = topology.wait_for(lambda: _holder(topology), timeout=30)
        pid = int(holder.split(":")[1])
        assert pid in by_pid
        time.sleep(2 * LEASE_S)  # the heartbeat keeps it: no change of holder meanwhile
        assert _holder(topology) == (holder, fencing)

        doomed_worker = topology.worker()
        database = _database(topology)
        topology.sim.configure(latency_ms=3000)
        row = _row(topology, database["id"], "Swept up by the other dispatcher.")
        topology.wait_for(lambda: topology.sim.requests)
        doomed_worker.send_signal(signal.SIGKILL)
        by_pid[pid].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        by_pid[pid].wait(10)
        doomed_worker.wait(10)
        topology.sim.configure(latency_ms=0)

        new_holder, new_fencing = topology.wait_for(
            lambda: (h := _holder(topology)) and h[0] != holder and h, timeout=30
        )
        took = time.monotonic() - killed_at
        survivor = next(p for p in by_pid if p != pid)
        assert int(new_holder.split(":")[1]) == survivor
        assert new_fencing == fencing + 1
        print(f"sweep lease taken over {took:.2f} s after its holder was killed")
        assert took <= TAKEOVER_BOUND_S, f"took over after {took:.1f} s"

        topology.worker()
        topology.wait_for(
            lambda: _filled_with(topology, row, "[sim] Swept up by the other dispatcher."),
            timeout=60,
        )
        assert _calls_by_content(topology)["Swept up by the other dispatcher."] == 2
