"""The test hosts of bench.netns: a host reaches the services on its network's bridge and
nothing of the machine's own loopback; a cut drops everything until it is restored; the run
leaves no namespace, link or bridge behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench import netns
from bench.services import RedisServer, server_port


def _ping(host: netns.Host, address: str, port: int) -> str:
    done = subprocess.run(
        host.command(["timeout", "3", "redis-cli", "-h", address, "-p", str(port), "ping"]),
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or f"exit {done.returncode}: {done.stderr.strip()}"


def test_a_host_reaches_the_bridge_only_and_a_cut_drops_everything(
    network: netns.Network, tmp_path: Path
) -> None:
    host = network.add_host("probe")
    assert netns.is_test_address(host.address) and netns.is_test_address(network.gateway)
    assert not netns.is_test_address("10.0.0.1")
    server = RedisServer(server_port(), tmp_path / "redis.log", host=network.gateway)
    server.start()
    try:
        assert _ping(host, network.gateway, server.port) == "PONG"
        # The machine's own Redis is on the machine's loopback, which the host does not share.
        assert _ping(host, "127.0.0.1", 6379) != "PONG"
        host.cut_off()
        assert _ping(host, network.gateway, server.port) == "exit 124: "  # silence, not refusal
        host.restore()
        assert _ping(host, network.gateway, server.port) == "PONG"
    finally:
        server.stop()
    names = (host.namespace, network.bridge)
    network.remove()
    assert not any(
        name in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for name in names
    )
    assert (
        network.bridge
        not in subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    )
