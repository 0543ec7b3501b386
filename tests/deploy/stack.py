"""docker-compose.yml as the compose test runs it: the file itself, changed only where this
machine differs from a user's. No registry, so the locally built image instead of `build: .`
and this machine's PostgreSQL and Redis (the test's own database and server) instead of their
images; host networking on loopback ports, so nothing listens beyond this machine (issue 22).
Everything else — commands, environment, health checks, the migrate job and the order it
imposes, the data volume, the user — is the file's own."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.images import ROOT, run

REPLACED_SERVICES = ("postgres", "redis")  # the machine's own servers instead
UNUSED_SERVICES = ("flower",)  # a third-party image, started on request only
# The compose file's in-network ports, mapped to free loopback ports on this machine.
API_PORT = 8000
SIM_PORT = 8089
METRICS_PORT = 9100


@dataclass
class StackPorts:
    api: int
    sim: int
    metrics: dict[str, int] = field(default_factory=dict)  # by service


def compose_command() -> list[str]:
    """`docker compose` (the v2 plugin) where installed, else Debian's docker-compose 1.29."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise RuntimeError("neither `docker compose` nor docker-compose is installed")


def _rewrite_command(command: list[str], replacements: dict[str, str]) -> list[str]:
    """The value after each option in ``replacements`` (``--port`` …) replaced."""
    words = list(command)
    for index, word in enumerate(words[:-1]):
        if word in replacements:
            words[index + 1] = replacements[word]
    return words


def _rewrite_healthcheck(service: dict[str, Any], old: str, new: str) -> None:
    test = service.get("healthcheck", {}).get("test")
    if test is None:
        return
    rewritten = [word.replace(old, new) for word in test]
    service["healthcheck"]["test"] = rewritten


def host_network_compose(
    source: dict[str, Any], *, image: str, database_url: str, redis_url: str, ports: StackPorts
) -> dict[str, Any]:
    document = copy.deepcopy(source)
    services: dict[str, Any] = document["services"]
    for name in (*REPLACED_SERVICES, *UNUSED_SERVICES):
        del services[name]
    sim_url = f"http://127.0.0.1:{ports.sim}/v1"
    for name, service in services.items():
        assert "build" in service, f"{name}: expected `build: .`, the image this test replaces"
        del service["build"]
        service["image"] = image
        service["network_mode"] = "host"
        service.pop("ports", None)
        depends = service.get("depends_on", {})
        for replaced in REPLACED_SERVICES:
            depends.pop(replaced, None)
        if not depends:
            service.pop("depends_on", None)
        environment = service.get("environment")
        if environment is not None:
            environment = dict(environment)  # the anchor is shared between services
            assert environment["AUTOFILL_SIM_URL"] == f"http://llm-sim:{SIM_PORT}/v1"
            environment.update(
                AUTOFILL_DATABASE_URL=database_url,
                AUTOFILL_REDIS_URL=redis_url,
                AUTOFILL_SIM_URL=sim_url,
                AUTOFILL_METRICS_HOST="127.0.0.1",
            )
            service["environment"] = environment
        replacements = {"--host": "127.0.0.1"}
        if name == "api":
            replacements["--port"] = str(ports.api)
            _rewrite_healthcheck(service, f"127.0.0.1:{API_PORT}", f"127.0.0.1:{ports.api}")
        if name == "llm-sim":
            replacements["--port"] = str(ports.sim)
            _rewrite_healthcheck(service, f"127.0.0.1:{SIM_PORT}", f"127.0.0.1:{ports.sim}")
        command = service["command"]
        if "--metrics-port" in command:
            assert command[command.index("--metrics-port") + 1] == str(METRICS_PORT), name
            replacements["--metrics-port"] = str(ports.metrics[name])
        service["command"] = _rewrite_command(command, replacements)
    for name in ("pgdata", "redisdata"):
        document.get("volumes", {}).pop(name, None)
    return document


@dataclass
class Stack:
    """A running compose project."""

    project: str
    file: Path
    command: list[str]

    def compose(self, *args: str, timeout: float = 300) -> str:
        return run(*self.command, "-p", self.project, "-f", self.file, *args, timeout=timeout)

    def container(self, service: str) -> str:
        container_id = self.compose("ps", "-q", service).strip()
        assert container_id, f"no container for {service}"
        return container_id

    def state(self, service: str) -> dict[str, Any]:
        output = run("docker", "inspect", "--format", "{{json .State}}", self.container(service))
        return json.loads(output)  # type: ignore[no-any-return]

    def logs(self) -> str:
        return self.compose("logs", "--no-color", timeout=60)

    def exec(self, service: str, *command: str) -> str:
        # -T: no terminal (the test has none).
        return self.compose("exec", "-T", service, *command)

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(1)
        raise AssertionError(f"{what} within {timeout:g} s\n--- logs ---\n{self.logs()[-6000:]}")

    def wait_healthy(self, service: str, timeout: float = 180) -> None:
        def healthy() -> bool:
            state = self.state(service)
            assert state["Status"] != "exited", f"{service} exited: {state}"
            return bool(state.get("Health", {}).get("Status") == "healthy")

        self.wait_for(f"{service} healthy", healthy, timeout)

    def wait_completed(self, service: str, timeout: float = 180) -> None:
        def completed() -> bool:
            state = self.state(service)
            if state["Status"] != "exited":
                return False
            assert state["ExitCode"] == 0, f"{service} failed: {state}\n{self.logs()[-6000:]}"
            return True

        self.wait_for(f"{service} completed", completed, timeout)


@contextmanager
def running_stack(document: dict[str, Any], project: str, workdir: Path) -> Iterator[Stack]:
    """``docker compose up -d`` of ``document``; down with its volumes afterwards, the logs kept
    in ``workdir`` for a failure's post-mortem."""
    file = workdir / "docker-compose.yml"
    file.write_text(yaml.safe_dump(document, sort_keys=False))
    stack = Stack(project, file, compose_command())
    try:
        stack.compose("up", "--detach", "--no-build", timeout=600)
        yield stack
    finally:
        try:
            (workdir / "compose.log").write_text(stack.logs())
        finally:
            stack.compose("down", "--volumes", "--timeout", "30", "--remove-orphans")


def source_compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]
