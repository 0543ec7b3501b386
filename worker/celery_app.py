"""The Celery application, configured for at-least-once delivery of I/O-bound work.

``celery -A worker.celery_app worker`` and ``autofill worker`` start the same thing.

- Late acks, rejected on worker loss, prefetch 1: a message is acknowledged only once its fill
  is recorded, and a worker holds one message per free thread, not a backlog others could run.
- Redis or RabbitMQ (worker.broker says what each needs set). The Redis transport redelivers
  an unacknowledged message after ``visibility_timeout``, three leases here; RabbitMQ when the
  consumer's channel closes. A message lost with a worker or with the broker does not wait for
  either: the dispatcher's sweeper re-sends fills whose lease expired or that were never
  started, within minutes.
- Two queues, one per lane (autofill.fills.dispatch): ``fills.interactive`` and ``fills.bulk``.
  Workers consume both, and the Redis transport's ``priority`` queue order makes each fetch
  look at the interactive queue first (kombu ``queue_order_strategy``), so a person's edit
  does not wait behind a backfill's queued messages, only for the next free thread. RabbitMQ
  has no such order: run a worker per lane there.
- Pool: threads. A fill is a network wait on the model; one process keeps
  ``AUTOFILL_WORKER_CONCURRENCY`` (100) fills in flight. Prefork on 2 cores would hold 2.
  A person's edit is a ``fill_cell`` message run on its task's thread; a backfill's fills come
  as ``fill_cells`` groups, claimed and recorded by the task's thread while their calls run on
  the process's call threads (autofill.fills.handed_group), so a ``--lane bulk`` worker needs
  only a few task threads (worker.runtime.task_threads).
- Shutdown (SIGTERM, Celery's warm shutdown): no new messages are taken, fills already
  running finish, and a fill received but not started is handed back to the outbox due now
  (worker.tasks), so another worker has it at once instead of after the sweeper's delay.
- One log line per fill, ours (``fill`` with its outcome and ids): Celery's own "received" and
  "succeeded" lines for every task are turned down to warnings; a task that raises is still
  logged by Celery.
"""

from __future__ import annotations

import gc
import logging

from celery import Celery
from celery.signals import after_setup_logger, worker_init, worker_shutting_down

from autofill.config import Settings, get_settings
from autofill.fills import warm_up
from autofill.redaction import RedactFilter
from worker import runtime
from worker.broker import celery_broker_settings
from worker.collector import collect_less_often
from worker.memory import trim_malloc_every

TRIM_EVERY_S = 5.0

QUEUES = {"interactive": "fills.interactive", "bulk": "fills.bulk"}


def queue_for(lane: str) -> str:
    return QUEUES.get(lane, QUEUES["interactive"])


def queues_for_lane(lane: str) -> list[str]:
    """What a worker consumes for ``--lane``: one lane's queue, or both, interactive first
    (the order kombu's priority strategy fetches in)."""
    if lane == "both":
        return [QUEUES["interactive"], QUEUES["bulk"]]
    return [QUEUES[lane]]


def make_celery(settings: Settings) -> Celery:
    app = Celery("autofill", include=["worker.tasks"])
    app.conf.update(
        # The broker's URL, transport options and queues: worker.broker, per broker.
        **celery_broker_settings(settings, list(QUEUES.values())),
        task_default_queue=QUEUES["interactive"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=4,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # Acknowledge after the work, and give the message back if the worker dies mid-task.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.worker_concurrency,
        worker_pool="threads",
        worker_hijack_root_logger=False,
        # Celery's own monitoring events (task sent, received, started, succeeded, failed;
        # worker heartbeats), so Flower and celery-exporter work unmodified (issue 22). One
        # event per message and state: a bulk group of 20 fills is one message.
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    return app


app = make_celery(get_settings())


@worker_init.connect
def _warm_up(**_: object) -> None:
    warm_up()
    # What is loaded by now (modules, the tokenizer's and the detector's tables, language
    # names) lives as long as the process: out of the collector's full passes, which walked
    # all of it again and again under a backfill's allocations (``gc.freeze``).
    gc.freeze()
    collect_less_often()  # and the collector's passes over what a fill leaves (worker.collector)
    # Freed fill buffers go back to the system as they pile up below live ones, instead of
    # staying in the worker's arenas (worker.memory).
    trim_malloc_every(TRIM_EVERY_S)


@worker_shutting_down.connect
def _hand_back_what_has_not_started(**_: object) -> None:
    runtime.stopping.set()  # fills that start from now on go back to the outbox (worker.tasks)


@after_setup_logger.connect
def _one_line_per_fill(logger: logging.Logger | None = None, **_: object) -> None:
    for name in ("celery.worker.strategy", "celery.app.trace"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(RedactFilter())  # no provider key in a log line (autofill.redaction)
