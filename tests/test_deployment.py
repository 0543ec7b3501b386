"""docker-compose.yml and the Dockerfile describe the real topology (no Docker engine runs here,
so this checks their structure and that every command they run is a real CLI command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
AUTOFILL = str(Path(sys.executable).with_name("autofill"))


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_services_and_health_checks() -> None:
    services = compose()["services"]
    assert set(services) >= {"postgres", "redis", "api", "worker", "dispatcher"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
    assert services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["api"]["condition"] == "service_healthy"
    env = services["api"]["environment"]
    assert env["AUTOFILL_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["AUTOFILL_REDIS_URL"].startswith("redis://redis:6379")
    assert services["worker"]["environment"] == env
    assert services["dispatcher"]["environment"] == env


def test_commands_exist_in_the_cli() -> None:
    for name in ("api", "worker", "dispatcher"):
        command = compose()["services"][name]["command"]
        assert command[0] == "autofill"
        # --help on the same subcommand and options proves the words parse.
        result = subprocess.run([AUTOFILL, command[1], "--help"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        for option in (word for word in command[2:] if word.startswith("--")):
            assert option in result.stdout, (name, option)


def test_dockerfile_installs_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("autofill", "api", "worker", "cli", "evals", "prompts"):
        assert f"COPY {package} ./{package}" in dockerfile
