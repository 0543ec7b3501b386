"""A real site for the browser tests: `autofill serve` (gunicorn) on a loopback port, an
`autofill worker --with-dispatcher` on a Redis server of its own, a PostgreSQL database of its
own, and the LLM simulator; Debian's Chromium driven by Playwright. Screenshots go to
``AUTOFILL_ARTIFACTS`` (default ``test-artifacts/e2e`` in the checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect, sync_playwright

from autofill.db.migrate import upgrade
from autofill.llm.simulator import Simulator
from autofill.services.store import open_store
from autofill.services.workspaces import create_workspace
from bench.services import wait_until_ready
from tests.conftest import unavailable
from tests.topology import RedisServer, free_port, scratch_postgres

AUTOFILL = str(Path(sys.executable).with_name("autofill"))
CHROMIUM = os.environ.get("AUTOFILL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(
    os.environ.get(
        "AUTOFILL_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
    )
)
# The simulator answers after this long, so a person (and a test) sees cells pending first.
SIM_LATENCY_MS = 400


@dataclass
class Site:
    url: str
    token: str
    sim: Simulator
    logs: Path

    def client(self) -> httpx2.Client:
        """The REST API as a script would call it (Bearer token), for setting up data."""
        return httpx2.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.client() as client:
            response = client.request(method, path, **kwargs)
        assert response.status_code < 300, (method, path, response.text)
        return response.json() if response.content else None

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.logs.glob("*.log"))
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server", FileNotFoundError("redis-server"))
    logs = tmp_path_factory.mktemp("site")
    redis_server = RedisServer(free_port(), logs / "redis.log")
    with scratch_postgres("autofill_e2e") as database_url, Simulator() as sim:
        sim.configure(latency_ms=SIM_LATENCY_MS)
        store = open_store(database_url)
        upgrade(store)
        with store.transaction() as session:
            workspace, token = create_workspace(session, "Browser tests")
            operator = workspace.id  # it operates this server: it sees the eval reports
        store.dispose()
        redis_server.start()
        port = free_port()
        env = {
            **os.environ,
            "AUTOFILL_DATABASE_URL": database_url,
            "AUTOFILL_REDIS_URL": redis_server.url,
            "AUTOFILL_SIM_URL": sim.openai_base_url,
            "AUTOFILL_DATA_DIR": str(logs),
            "AUTOFILL_DEFAULT_MODEL": "sim:sim-1",
            "AUTOFILL_OPERATOR_WORKSPACES": operator,
            "AUTOFILL_DEBOUNCE_S": "0.3",
            "AUTOFILL_DISPATCH_INTERVAL_S": "0.05",
            # Economy fills: the simulator ends a batch in 2 s; look at it soon after.
            "AUTOFILL_BATCH_INTERVAL_S": "0.5",
            "AUTOFILL_BATCH_CHECK_FIRST_S": "1",
            "AUTOFILL_BATCH_CHECK_MAX_S": "2",
        }
        processes = [
            subprocess.Popen(
                [AUTOFILL, *args],
                env=env,
                stdout=(logs / f"{args[0]}.log").open("ab"),
                stderr=subprocess.STDOUT,
            )
            for args in (
                ["serve", "--port", str(port), "--workers", "1", "--threads", "16"],
                ["worker", "--with-dispatcher", "--concurrency", "8"],
            )
        ]
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until_ready(url, processes)
            except RuntimeError as exc:
                tails = "\n".join(p.read_text(errors="replace")[-3000:] for p in logs.glob("*.log"))
                raise RuntimeError(f"{exc}\n{tails}") from None
            yield Site(url=url, token=token, sim=sim, logs=logs)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
            redis_server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        unavailable("Chromium", FileNotFoundError(CHROMIUM))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    page: Page
    problems: list[str]


@pytest.fixture
def watched(browser: Browser, site: Site) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=site.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Cells fill through the real pipeline on a busy 2-core machine: allow for it.
    expect.set_options(timeout=15_000)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text} ({message.location})")

    def on_error(error: Error) -> None:
        problems.append(f"page error: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    try:
        yield Watched(page, problems)
    finally:
        context.close()


def sign_in(page: Page, site: Site) -> None:
    page.goto("/login")
    page.get_by_label("Workspace token").fill(site.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/databases")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
