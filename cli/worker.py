"""`autofill worker` and `autofill dispatcher`."""

from __future__ import annotations

import signal
import sys
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
    help="Fills in flight, shared evenly by the processes "
    "[default: AUTOFILL_WORKER_CONCURRENCY, 100]",
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes, forked after loading once what all of them use (the tokenizer, "
    "the language detector, the SDK): one per core the fills should use, sharing that memory.",
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
@click.option(
    "--with-dispatcher",
    is_flag=True,
    help="Also run the dispatcher (in the first process, with --processes).",
)
@metrics_port_option
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(
    concurrency: int | None,
    processes: int,
    pool: str,
    lane: str,
    with_dispatcher: bool,
    metrics_port: int | None,
    celery_args: tuple[str, ...],
) -> None:
    """Start a Celery worker that fills cells. Model calls wait on the network, so a thread
    pool keeps many in flight per process; extra arguments go to Celery unchanged. With
    --processes N, N workers (node names suffixed -0, -1, ...; metrics on the port + 0, 1, ...)
    under one parent that restarts any that dies."""
    from autofill.llm import answers_notice

    settings = get_settings()
    in_flight = concurrency or settings.worker_concurrency
    if processes > in_flight:
        raise click.BadParameter(
            f"{processes} processes need at least as many fills in flight (--concurrency "
            f"is {in_flight})",
            param_hint="--processes",
        )
    if lane == "bulk":
        click.echo(
            "worker: backfills and runs only; people's edits need a worker with "
            "--lane interactive (or both) beside this one",
            err=True,
        )
    notice = answers_notice(settings)
    if notice:
        click.echo(f"worker: {notice}", err=True)
    from worker import limit_malloc_arenas

    limit_malloc_arenas()
    if processes == 1:
        _run_worker(in_flight, pool, lane, with_dispatcher, metrics_port, list(celery_args))
        return
    import worker.tasks  # noqa: F401  (the tasks and the Celery app, loaded once for all)
    from autofill.fills import warm_up
    from autofill.llm import preload_sdks
    from worker import Supervisor, indexed_celery_args, split_in_flight

    warm_up(for_fork=True)
    preload_sdks(settings)
    shares = split_in_flight(in_flight, processes)

    port = metrics_port or settings.metrics_port

    def run(index: int) -> None:
        _run_worker(
            shares[index],
            pool,
            lane,
            with_dispatcher and index == 0,
            None if port is None else port + index,
            indexed_celery_args(celery_args, index),
        )

    def restart(index: int) -> list[str]:
        """Worker ``index`` as a command of its own: how the lean parent starts it again."""
        return [
            sys.executable,
            "-m",
            "cli",
            "worker",
            f"--concurrency={shares[index]}",
            f"--pool={pool}",
            f"--lane={lane}",
            *(["--with-dispatcher"] if with_dispatcher and index == 0 else []),
            *([] if port is None else [f"--metrics-port={port + index}"]),
            "--",
            *indexed_celery_args(celery_args, index),
        ]

    click.echo(f"worker: {processes} processes, {'/'.join(map(str, shares))} in flight", err=True)
    raise SystemExit(Supervisor(processes, run, restart).run())


def _run_worker(
    in_flight: int,
    pool: str,
    lane: str,
    with_dispatcher: bool,
    metrics_port: int | None,
    celery_args: list[str],
) -> None:
    """One Celery worker in this process, ``in_flight`` fills at a time."""
    from worker import app, queues_for_lane, set_in_flight, task_threads

    settings = get_settings()
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
    from worker import collect_less_often

    loop = _dispatcher(heartbeat)
    _serve_metrics(metrics_port)
    collect_less_often()  # up to 8 % of its CPU in a backfill went to them (worker.collector)

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
