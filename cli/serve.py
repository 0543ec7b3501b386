"""`autofill serve`: the API under gunicorn (Flask's dev server only with --dev)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from autofill.config import Settings, get_settings
from cli.common import open_store


class Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn serving the app ``load_app`` builds (the API's own by default; a benchmark adds
    a route to it) in each worker process, after the fork."""

    def __init__(
        self,
        options: dict[str, Any],
        *,
        fill_here: bool,
        load_app: Callable[[], Any] | None = None,
    ) -> None:
        self.options = options
        self.fill_here = fill_here
        self.load_app = load_app or _api_app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        app = self.load_app()
        if self.fill_here:
            _fill_in_process(app)
        return app


def _api_app() -> Any:
    from api import create_app

    # Migrations ran once in the master, before the workers forked.
    return create_app({"MIGRATE": False})


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """How `autofill serve` runs gunicorn: threads in each worker process, the request timeout
    from the settings, embedded fills stopped softly when a worker exits."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": get_settings().http_timeout,
        "worker_exit": _stop_filling,
        "child_exit": _forget_worker_metrics,
    }


def share_metrics_between_workers() -> Path:
    """gunicorn's workers each count their own requests and (embedded mode) fills:
    prometheus_client's multiprocess mode keeps them in files in one directory, so /metrics in
    any worker reports them all. Set before the workers fork (they import prometheus_client
    after); the directory is this server's own and starts empty."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # a previous server's counts
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="autofill-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
        atexit.register(_remove_if_master, path, os.getpid())
    return path


def _remove_if_master(path: Path, master: int) -> None:
    """The metrics directory goes with the server that made it. gunicorn's workers inherit
    this exit handler with the fork and leave through ``sys.exit`` too: only the master, the
    process that registered it, removes the directory."""
    if os.getpid() == master:
        shutil.rmtree(path, ignore_errors=True)


def _forget_worker_metrics(_server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook, in the master: a dead worker's live gauges (fills in
    flight) stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def _fill_in_process(app: Any) -> None:
    """Embedded mode (no Redis): this process runs a dispatcher and a worker too. Celery's
    in-memory transport lives in one process, so each API process fills what it dispatches;
    several dispatchers sharing one outbox is safe."""
    from worker import start_embedded

    store = app.extensions["autofill.store"]
    settings = app.extensions["autofill.settings"]
    app.extensions["autofill.embedded"] = start_embedded(store, settings)


def _stop_filling(_server: Any, worker: Any) -> None:
    """gunicorn's worker_exit hook, in the worker process before it exits: embedded mode's soft
    shutdown (worker.in_process) — running fills finish, fills still queued in memory go back
    to the outbox due now. Left to the interpreter's exit, it ran too late: the worker's thread
    pool was already shut and the queued fills stayed dispatched until the sweeper's delay."""
    app = getattr(worker, "wsgi", None)
    stack = app.extensions.get("autofill.embedded") if app is not None else None
    if stack is not None:
        stack.close()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--dev", is_flag=True, help="Flask's reloading development server instead")
@click.option(
    "--fill/--no-fill",
    default=None,
    help="Run a dispatcher and worker in the API's processes "
    "[default: when no broker (AUTOFILL_REDIS_URL, AUTOFILL_BROKER_URL) is set]",
)
def serve(host: str, port: int, workers: int, threads: int, dev: bool, fill: bool | None) -> None:
    """Run the REST API (and, with no broker configured, the fills too)."""
    settings = get_settings()
    open_store(settings).dispose()  # migrate before serving
    # The session-signing key, made (when not configured) before gunicorn forks: every worker
    # then reads the same one, and a data directory this user cannot write is said here, once.
    settings.resolved_secret_key()
    fill_here = settings.broker() is None if fill is None else fill
    if fill_here and settings.broker() is None:
        click.echo(
            "No AUTOFILL_REDIS_URL or AUTOFILL_BROKER_URL: cells are filled inside the API's "
            "processes."
        )
    _say_where_answers_come_from(settings)
    if dev:
        app = _api_app()
        if fill_here:
            _fill_in_process(app)
        # The reloader would start a second process, and a second pipeline, in the parent.
        app.run(host=host, port=port, debug=True, use_reloader=not fill_here)
        return
    share_metrics_between_workers()
    Gunicorn(gunicorn_options(host, port, workers, threads), fill_here=fill_here).run()


def _say_where_answers_come_from(settings: Settings) -> None:
    from autofill.llm import answers_notice

    notice = answers_notice(settings)
    if notice:
        click.echo(notice, err=True)
