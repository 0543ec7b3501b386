"""`autofill serve`: the API under gunicorn (Flask's dev server only with --dev)."""

from __future__ import annotations

import os
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from autofill.config import get_settings
from cli.common import open_store


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from api import create_app

        # Migrations ran once in the master, before the workers forked.
        return create_app({"MIGRATE": False})


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--dev", is_flag=True, help="Flask's reloading development server instead")
def serve(host: str, port: int, workers: int, threads: int, dev: bool) -> None:
    """Run the REST API."""
    settings = get_settings()
    open_store(settings).dispose()  # migrate before serving
    if dev:
        from api import create_app

        create_app({"MIGRATE": False}).run(host=host, port=port, debug=True)
        return
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": int(os.environ.get("AUTOFILL_HTTP_TIMEOUT", "60")),
    }
    _Gunicorn(options).run()
