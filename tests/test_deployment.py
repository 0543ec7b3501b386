"""docker-compose.yml and the Dockerfile describe the real topology: their structure, that every
command they run is a real CLI command, and that the image's processes run as a non-root user
in a root-owned working directory (what the Dockerfile sets up, reproduced on this machine)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import Counter, Gauge, Histogram

from autofill import metrics

ROOT = Path(__file__).resolve().parent.parent
AUTOFILL = str(Path(sys.executable).with_name("autofill"))
APP_SERVICES = ("api", "worker", "worker-interactive", "dispatcher", "migrate", "llm-sim")
# The Dockerfile's user (useradd --uid 10001).
IMAGE_UID = 10001


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_services_and_health_checks() -> None:
    services = compose()["services"]
    assert set(services) >= {"postgres", "redis", *APP_SERVICES}
    # Flower, on request only (`--profile monitoring`), reads Celery's events.
    assert services["flower"]["profiles"] == ["monitoring"]
    assert "--broker=redis://redis:6379/0" in services["flower"]["command"]
    for name, service in services.items():
        if name not in ("migrate", "flower"):  # a one-shot job; an optional third-party image
            assert "healthcheck" in service, f"{name} has no health check"
    assert services["migrate"]["command"] == ["autofill", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # The schema is migrated once, before anything that uses it starts.
    for name in ("api", "worker", "worker-interactive", "dispatcher"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    env = services["api"]["environment"]
    assert env["AUTOFILL_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["AUTOFILL_REDIS_URL"].startswith("redis://redis:6379")
    assert env["AUTOFILL_SIM_URL"] == "http://llm-sim:8089/v1"
    for name in ("worker", "worker-interactive", "dispatcher", "migrate"):
        assert services[name]["environment"] == env


def test_unset_provider_variables_are_not_passed_as_empty_strings() -> None:
    # `VAR: ${VAR:-}` passes "" when the shell has none, and the SDKs call "" (issue 22); a
    # variable with no value is passed only when set (the Compose specification).
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    settings = [line for line in lines if not line.lstrip().startswith("#")]
    assert not [line for line in settings if re.search(r"\$\{\w+:-\}", line)]
    env = compose()["services"]["api"]["environment"]
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        assert name in env and env[name] is None, name


def test_commands_exist_in_the_cli() -> None:
    for name in APP_SERVICES:
        command = compose()["services"][name]["command"]
        assert command[0] == "autofill"
        first_option = next((i for i, word in enumerate(command) if word.startswith("-")), None)
        subcommand = command[1:first_option]  # "serve", "db upgrade", ...
        # --help on the same subcommand and options proves the words parse.
        result = subprocess.run([AUTOFILL, *subcommand, "--help"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        for option in (word for word in command[2:] if word.startswith("--")):
            assert option in result.stdout, (name, option)


def test_dockerfile_installs_every_package_for_a_non_root_user() -> None:
    text = dockerfile()
    for package in ("autofill", "api", "worker", "cli", "evals", "prompts"):
        assert f"COPY {package} ./{package}" in text
    # Users build on the standard image; a machine with no registry passes its own base.
    assert "ARG BASE_IMAGE=python:3.11-slim" in text and "FROM ${BASE_IMAGE}" in text
    assert "AUTOFILL_DATA_DIR=/var/lib/autofill" in text
    assert "chown autofill:autofill /var/lib/autofill" in text
    assert f"--uid {IMAGE_UID} autofill" in text
    assert re.search(r"^USER autofill$", text, re.M)


@pytest.fixture
def root_owned_app_dir() -> Iterator[Path]:
    """A working directory like the image's /app: root's, readable by all, writable by none
    else, in a folder the image's user can reach (pytest's own tmp folder is root's alone)."""
    if os.geteuid() != 0:
        pytest.fail("run the tests as root (CI does): this test acts as the image's user")
    base = Path(tempfile.mkdtemp(prefix="autofill-image-"))
    base.chmod(0o755)
    app = base / "app"
    app.mkdir(mode=0o755)
    try:
        yield app
    finally:
        shutil.rmtree(base)


def _as_image_user(app: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # The user may read every file (CAP_DAC_READ_SEARCH, nothing more): this machine's
    # interpreter lives under root's home, which the image's user could not otherwise open. It
    # writes only where its uid may, as in the image.
    user = [f"--reuid={IMAGE_UID}", f"--regid={IMAGE_UID}", "--clear-groups"]
    read_all = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    return subprocess.run(
        ["setpriv", *user, *read_all, *args],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_image_user_in_a_root_owned_directory(root_owned_app_dir: Path) -> None:
    app = root_owned_app_dir
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(app),  # not the user's: nothing may need to write there
        "TIKTOKEN_CACHE_DIR": str(app / "no-cache"),
        "OPENAI_BASE_URL": "",  # as `${OPENAI_BASE_URL:-}` passed it
    }
    # Without a data directory of its own: a clear message naming the setting, no traceback.
    refused = _as_image_user(app, env, AUTOFILL, "workspace", "create", "Team")
    assert refused.returncode == 1, refused.stderr
    assert "AUTOFILL_DATA_DIR: cannot write to" in refused.stderr
    assert "Traceback" not in refused.stderr
    refused = _as_image_user(app, env, AUTOFILL, "serve", "--port", "1")
    assert refused.returncode == 1 and "AUTOFILL_DATA_DIR" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr

    # With the data directory the Dockerfile makes for it: the store and the web page's
    # session key are made there, and the API app starts.
    data = app.parent / "data"
    data.mkdir()
    os.chown(data, IMAGE_UID, IMAGE_UID)
    env["AUTOFILL_DATA_DIR"] = str(data)
    created = _as_image_user(app, env, AUTOFILL, "workspace", "create", "Team")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("af_")
    started = _as_image_user(
        app, env, sys.executable, "-c", "from api.app import create_app; create_app()"
    )
    assert started.returncode == 0, started.stderr
    assert (data / "secret_key").stat().st_uid == IMAGE_UID
    assert (data / "secret_key").stat().st_mode & 0o777 == 0o600
    assert not any(app.iterdir()), "nothing is written to the working directory"


def _exported_series() -> set[str]:
    """The series names a scrape of autofill.metrics can show, as a query names them."""
    names: set[str] = set()
    for metric in vars(metrics).values():
        if isinstance(metric, Counter):
            names.add(f"{metric._name}_total")
        elif isinstance(metric, Histogram):
            names |= {f"{metric._name}_{part}" for part in ("bucket", "count", "sum")}
        elif isinstance(metric, Gauge):
            names.add(metric._name)
    return names


def test_the_grafana_dashboard_queries_only_metrics_we_export() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exported = _exported_series()
    queried: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            named = set(re.findall(r"\bautofill_[a-z0-9_]+", target["expr"]))
            assert named, (panel["title"], target["expr"])
            assert named <= exported, (panel["title"], named - exported)
            queried |= named
    # What the issue asks the dashboard to show: fills/s, errors, queue depth, latency
    # percentiles, spend per workspace.
    assert {
        "autofill_fills_total",
        "autofill_outbox_entries",
        "autofill_fill_model_call_seconds_bucket",
        "autofill_cost_usd_total",
    } <= queried
    assert any(
        "workspace" in t["expr"] and "cost" in t["expr"]
        for p in dashboard["panels"]
        for t in p["targets"]
    )
