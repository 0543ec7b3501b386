"""`autofill worker`: a Celery worker with the project's settings."""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--pool",
    default="threads",
    show_default=True,
    type=click.Choice(["threads", "prefork", "solo"]),
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(concurrency: int, pool: str, celery_args: tuple[str, ...]) -> None:
    """Start a Celery worker. Model calls wait on the network, so a thread pool keeps many in
    flight per process; extra arguments go to Celery unchanged."""
    from worker.celery_app import app

    app.worker_main(
        [
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            *celery_args,
        ]
    )
