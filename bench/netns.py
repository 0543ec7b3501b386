"""Hosts of a test's own on one machine: each a Linux network namespace joined to a bridge by a
veth pair, so API, dispatchers and workers each reach PostgreSQL, the broker and the simulator
across a link of their own, which can be made lossy (nftables in the host's namespace), slowed
(``tc netem`` delay, where the kernel has it), or cut off and restored while the processes on
it keep running.

The services listen on the bridge's address in the machine's own namespace; a host's processes
have their own loopback and see nothing of the machine's (so nothing reaches the machine's
PostgreSQL or Redis by accident). Every namespace, link and bridge is made here, named with the
run's tag, and removed at the end; traffic stays inside them. Needs root, iproute2 (``ip``,
``tc``) and nftables; ``available()`` says whether this machine can.

A cut is a partition, not a closed port: the host's own firewall drops every packet in and out,
silently, as when a switch or a zone goes away — TCP
connections stay open and retransmit, and resume if the link returns before they time out."""

from __future__ import annotations

import functools
import ipaddress
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)
    return done.stdout


def _tc(*args: str, namespace: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    subprocess.run([*prefix, "tc", *args], check=True, capture_output=True, timeout=30)


@functools.cache
def netem_available() -> bool:
    """Whether the kernel has ``tc netem`` (sch_netem): some machines' kernels are built
    without it; links then have no added delay (loss and cuts use nftables, always there)."""
    probe = f"afn{secrets.token_hex(3)}"
    try:
        _ip("link", "add", probe, "type", "veth", "peer", "name", f"{probe}p")
    except (OSError, subprocess.CalledProcessError):
        return False
    try:
        _tc("qdisc", "replace", "dev", probe, "root", "netem", "delay", "1ms")
        return True
    except subprocess.CalledProcessError:
        return False
    finally:
        subprocess.run(["ip", "link", "del", probe], capture_output=True, timeout=30)


def available() -> str | None:
    """None when this machine can make hosts; else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "tc", "nft"):
        if shutil.which(tool) is None:
            return f"{tool} (iproute2) is not installed"
    probe = f"afprobe{secrets.token_hex(3)}"
    try:
        _ip("netns", "add", probe)
        _ip("netns", "del", probe)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"cannot make a network namespace: {exc}"
    return None


@dataclass
class Host:
    name: str
    namespace: str
    address: str
    outer: str  # the veth end on the bridge
    inner: str  # the veth end inside the namespace
    delay_ms: float = 0.0
    loss_percent: float = 0.0
    cut: bool = False

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run on this host (``ip netns exec`` execs it: the pid is the program's)."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def _filter(self, verdict: str) -> None:
        # The host's own firewall (nftables, in its namespace only): ``verdict`` applied to
        # every packet in and out — "drop" for a cut, a random share for loss, nothing at all.
        chains = "".join(
            f"chain {hook} {{ type filter hook {hook} priority 0; policy accept; {verdict}; }}\n"
            for hook in ("input", "output")
        )
        ruleset = "table inet autofill_link\ndelete table inet autofill_link\n"
        ruleset += f"table inet autofill_link {{\n{chains}}}\n"
        subprocess.run(
            self.command(["nft", "-f", "-"]),
            input=ruleset.encode(),
            check=True,
            capture_output=True,
            timeout=30,
        )

    def link(self, delay_ms: float | None = None, loss_percent: float | None = None) -> None:
        """The link's delay each way (``tc netem``, where the kernel has it) and its random
        loss (nftables), both directions."""
        if delay_ms is not None:
            self.delay_ms = delay_ms
        if loss_percent is not None:
            self.loss_percent = loss_percent
        if self.delay_ms:
            netem = ["netem", "delay", f"{self.delay_ms:g}ms"]
            # Each end shapes what it sends: the outer end the traffic into the host, the
            # inner end the traffic out of it.
            _tc("qdisc", "replace", "dev", self.outer, "root", *netem)
            _tc("qdisc", "replace", "dev", self.inner, "root", *netem, namespace=self.namespace)
        share = round(self.loss_percent)
        self._filter(f"numgen random mod 100 lt {share} drop" if share else "")
        self.cut = False

    def cut_off(self) -> None:
        """Every packet to and from the host dropped, silently, until ``restore``."""
        self._filter("drop")
        self.cut = True

    def restore(self) -> None:
        self.link()


@dataclass
class Network:
    tag: str
    bridge: str
    subnet: ipaddress.IPv4Network
    gateway: str  # the bridge's address: where the services listen
    hosts: dict[str, Host] = field(default_factory=dict)

    def add_host(self, name: str, delay_ms: float = 0.0) -> Host:
        number = len(self.hosts) + 1
        namespace = f"af-{self.tag}-{name}"
        address = str(self.subnet.network_address + 10 + number)
        outer, inner = f"afo{self.tag}{number}", f"afi{self.tag}{number}"
        _ip("netns", "add", namespace)
        host = Host(name, namespace, address, outer, inner, delay_ms if netem_available() else 0)
        self.hosts[name] = host  # so that teardown removes it even if the rest fails
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", namespace)
        _ip("link", "set", outer, "master", self.bridge, "up")
        prefix = self.subnet.prefixlen
        _ip("-n", namespace, "addr", "add", f"{address}/{prefix}", "dev", inner)
        _ip("-n", namespace, "link", "set", inner, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        _ip("-n", namespace, "route", "add", "default", "via", self.gateway)
        host.link()
        return host

    def remove(self) -> None:
        for host in self.hosts.values():
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True, timeout=30)
            # Deleting the namespace deletes its veth end, and the pair with it.
            subprocess.run(["ip", "link", "del", host.outer], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, timeout=30)


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.213.0.0/16 that no interface of the machine is on."""
    used: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [
        ipaddress.ip_interface(word).network
        for line in _ip("-4", "-o", "addr").splitlines()
        for word in line.split()[3:4]
    ]
    candidates = list(ipaddress.IPv4Network("10.213.0.0/16").subnets(new_prefix=24))
    start = secrets.randbelow(len(candidates))
    for subnet in candidates[start:] + candidates[:start]:
        if not any(subnet.overlaps(network) for network in used):
            return subnet
    raise RuntimeError("no free /24 in 10.213.0.0/16")


# The subnets of this process's networks while they exist: the tests' guard against reaching
# other machines (tests/conftest.py) lets these through, and nothing else off loopback.
_LIVE: set[ipaddress.IPv4Network] = set()


def is_test_address(name: str) -> bool:
    """Whether ``name`` is an address on one of this process's test networks."""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return any(address in subnet for subnet in _LIVE)


@contextmanager
def network() -> Iterator[Network]:
    """A bridge with an address on a free subnet; hosts are added with ``add_host``. All of it
    removed on exit (the caller stops the processes on the hosts first)."""
    tag = secrets.token_hex(2)
    subnet = _free_subnet()
    gateway = str(subnet.network_address + 1)
    net = Network(tag, f"afbr{tag}", subnet, gateway)
    try:
        _ip("link", "add", net.bridge, "type", "bridge")
        _ip("addr", "add", f"{gateway}/{subnet.prefixlen}", "dev", net.bridge)
        _ip("link", "set", net.bridge, "up")
        _LIVE.add(subnet)
        yield net
    finally:
        _LIVE.discard(subnet)
        net.remove()
