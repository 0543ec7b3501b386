"""bench.topology starts the simulator on another port when the one it found free was taken
before the simulator could listen on it (a CI run's servers starting beside a benchmark)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import httpx2
import pytest

from bench.services import server_port
from bench.topology import Topology, start_simulator

pytestmark = pytest.mark.timeout(90)


def test_a_taken_port_moves_the_simulator_and_the_settings_follow(tmp_path: Path) -> None:
    taken = server_port()
    store: Any = None  # this test starts the simulator only
    topo = Topology("", f"http://127.0.0.1:{taken}/v1", dict(os.environ), tmp_path, store, "", "")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        try:
            start_simulator(topo, "127.0.0.1", taken, [])
            assert f":{taken}/" not in topo.sim_url
            assert topo.env["AUTOFILL_SIM_URL"] == topo.sim_url
            models = httpx2.get(f"{topo.sim_url}/models", timeout=5)
            assert models.status_code == 200
        finally:
            topo.stop()
    assert "address already in use" in (tmp_path / "sim.log").read_text()
