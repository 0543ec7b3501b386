"""The API with one more route, for bench.api_load: the floor a row's endpoints are held to.

``GET /bench/bare/<row_id>`` goes through the same ``endpoint`` decorator as every view (the
bearer token looked up, the request counted against its limit, a transaction) and answers a
row's JSON read once from ``BENCH_BARE_JSON``: the same bytes ``GET /v1/rows/{id}`` sends, with
no row loaded and nothing serialised. Served by the same gunicorn set-up as `autofill serve`
(cli.serve), in the same processes as the real endpoints, so the ratio of their rates is what
our own work per request costs.

    python -m bench.api_bare --port 8000     # used by python -m bench.api_load
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import click
from flask import Blueprint, Response

from api import create_app
from api.endpoint import Ctx, endpoint
from cli.serve import Gunicorn, gunicorn_options

bp = Blueprint("bench_bare", __name__)


@lru_cache(maxsize=1)
def _row_json() -> bytes:
    return Path(os.environ["BENCH_BARE_JSON"]).read_bytes()


@bp.get("/bench/bare/<row_id>")
@endpoint(summary="A row's JSON, not loaded (benchmark floor)", tag="Bench")
def bare(ctx: Ctx, row_id: str) -> Response:
    return Response(_row_json(), mimetype="application/json")


def bare_app() -> Any:
    app = create_app({"MIGRATE": False})
    app.register_blueprint(bp)
    return app


@click.command()
@click.option("--port", required=True, type=int)
@click.option("--workers", default=2, show_default=True)
@click.option("--threads", default=16, show_default=True)
def main(port: int, workers: int, threads: int) -> None:
    options = gunicorn_options("127.0.0.1", port, workers, threads)
    Gunicorn(options, fill_here=False, load_app=bare_app).run()


if __name__ == "__main__":
    main()
