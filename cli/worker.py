"""`autofill worker` and `autofill dispatcher`."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from autofill.config import get_settings
from autofill.db import SHORT_TRANSACTIONS
from autofill.fills import Dispatcher
from cli.common import open_store

# Workers and dispatchers alike: each serves its own process's metrics (autofill.metrics).
metrics_port_option = click.option(
    "--metrics-port",
    default=None,
    type=click.IntRange(1, 65535),
    help="Serve Prometheus metrics on this port [default: AUTOFILL_METRICS_PORT; off]",
)


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--concurrency",
    default=None,
    type=click.IntRange(1, 1000),
    help="Fills in flight in this process [default: AUTOFILL_WORKER_CONCURRENCY, 100]",
)
@click.option(
    "--pool",
    default="threads",
    show_default=True,
    type=click.Choice(["threads", "prefork", "solo"]),
)
@click.option(
    "--lane",
    default="both",
    show_default=True,
    type=click.Choice(["both", "interactive", "bulk"]),
    help="Which fills to take: people's edits (interactive), backfills and runs (bulk), or "
    "both, edits first. Big workers on bulk and a small one on interactive keep edits quick "
    "while a backfill keeps every other thread busy.",
)
@click.option("--with-dispatcher", is_flag=True, help="Also run the dispatcher in this process.")
@metrics_port_option
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(
    concurrency: int | None,
    pool: str,
    lane: str,
    with_dispatcher: bool,
    metrics_port: int | None,
    celery_args: tuple[str, ...],
) -> None:
    """Start a Celery worker that fills cells. Model calls wait on the network, so a thread
    pool keeps many in flight per process; extra arguments go to Celery unchanged."""
    from autofill.llm import answers_notice
    from worker import app, queues_for_lane, set_in_flight, task_threads

    settings = get_settings()
    in_flight = concurrency or settings.worker_concurrency
    if lane == "bulk":
        click.echo(
            "worker: backfills and runs only; people's edits need a worker with "
            "--lane interactive (or both) beside this one",
            err=True,
        )
    notice = answers_notice(settings)
    if notice:
        click.echo(f"worker: {notice}", err=True)
    _serve_metrics(metrics_port)
    if with_dispatcher:
        _dispatcher().start_thread()
    # Celery's threads run people's edits one per thread and bulk groups a group per thread;
    # a group's calls run on the process's call threads, ``in_flight`` of them (worker.runtime).
    set_in_flight(in_flight)
    threads = task_threads(lane, in_flight, settings.bulk_group_size)
    app.worker_main(
        [
            "worker",
            f"--pool={pool}",
            f"--concurrency={threads}",
            "--loglevel=INFO",
            f"--queues={','.join(queues_for_lane(lane))}",
            *celery_args,
        ]
    )


@click.command()
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Touch this file on every pass (for health checks).",
)
@metrics_port_option
def dispatcher(heartbeat: Path | None, metrics_port: int | None) -> None:
    """Send due fills from the outbox to the workers, and re-send what got lost. Several may
    run at once."""
    loop = _dispatcher(heartbeat)
    _serve_metrics(metrics_port)

    def stop(_signal: int, _frame: FrameType | None) -> None:
        loop.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo("dispatcher: sending due fills (Ctrl-C to stop)")
    loop.run()


def _dispatcher(heartbeat: Path | None = None) -> Dispatcher:
    from worker import send_fills

    settings = get_settings()
    store = open_store(settings, server_side=SHORT_TRANSACTIONS)
    return Dispatcher(store, send_fills, settings, heartbeat=heartbeat)


def _serve_metrics(port: int | None) -> None:
    """This process's Prometheus metrics (autofill.metrics) on ``port``, if one is set."""
    settings = get_settings()
    port = port or settings.metrics_port
    if port is None:
        return
    from autofill.metrics import serve

    try:
        serve(port, settings.metrics_host)
    except OSError as exc:
        raise click.ClickException(
            f"cannot serve metrics on {settings.metrics_host}:{port}: {exc.strerror}"
        ) from None
    click.echo(f"metrics: http://{settings.metrics_host}:{port}/metrics", err=True)
