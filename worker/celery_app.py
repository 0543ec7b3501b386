"""The Celery application, configured for at-least-once delivery of I/O-bound work.

``celery -A worker.celery_app worker`` and ``autofill worker`` start the same thing.
"""

from __future__ import annotations

from celery import Celery

from autofill.config import Settings, get_settings

# A message not acknowledged within this many seconds is delivered again by the Redis transport.
# The default (one hour) would leave a fill lost with its worker unrecovered for an hour.
VISIBILITY_TIMEOUT_S = 900


def make_celery(settings: Settings) -> Celery:
    app = Celery("autofill")
    app.conf.update(
        # Embedded mode: no Redis configured → in-memory transport inside one process.
        broker_url=settings.redis_url or "memory://",
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # Acknowledge after the work, and give the message back if the worker dies mid-task.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
    )
    return app


app = make_celery(get_settings())
