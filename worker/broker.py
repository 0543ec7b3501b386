"""What Celery needs set for each broker we support, and why (issue 23).

Redis (``redis://``, the default when ``AUTOFILL_REDIS_URL`` is set):
- kombu's transport with one client per channel (worker.redis_transport): kombu's own builds a
  client object for every command it sends.
- ``visibility_timeout``: an unacknowledged message is redelivered after it, so it must exceed
  the longest fill (three leases here).
- ``queue_order_strategy: priority``: each fetch looks at the interactive queue first, so a
  person's edit does not wait behind a backfill's queued messages.

RabbitMQ (``AUTOFILL_BROKER_URL=amqp://…``):
- Quorum queues (``x-queue-type: quorum``): replicated, durable, fsynced before the publisher's
  confirm; the RabbitMQ docs' choice for data safety ("Quorum Queues", rabbitmq.com/docs/
  quorum-queues). Declared with the same arguments by every process (dispatchers publish,
  workers consume), or RabbitMQ refuses the second declaration (PRECONDITION_FAILED); a vhost
  that already holds classic queues of these names must drop them first.
- ``x-delivery-limit``: a message redelivered more than ``AUTOFILL_BROKER_DELIVERY_LIMIT`` times
  (a worker dying on it again and again) is dropped by the queue instead of looping; its fill
  stays in the outbox and the sweeper sends it again after its lease.
- Publisher confirms (kombu's pyamqp transport option ``confirm_publish``): each publish waits
  for the broker's ack, and a refused message raises in the dispatcher, which then leaves the
  fill in the outbox, instead of being lost silently (kombu/transport/pyamqp.py, "Publisher
  confirms").
- Global QoS off: quorum queues do not support it (rabbitmq.com/docs/quorum-queues#global-qos);
  Celery detects quorum queues and applies the prefetch per consumer
  (``worker_detect_quorum_queues``, on by default; celery/worker/consumer/tasks.py qos_global).
- Delayed work: none goes through the broker. Debounce, backoff and retry times are due times
  in the outbox (autofill.fills.outbox), so no task carries an ``eta`` or ``countdown``. Celery
  still sets up its native delayed delivery for quorum queues
  (celery/worker/consumer/delayed_delivery.py), which binds each queue's exchange and warns on a
  direct one: the exchanges are topic exchanges with the queue's own name as routing key, which
  route exactly like direct ones.
- No queue order between the lanes: RabbitMQ delivers from both queues a worker consumes. Run
  a worker per lane (``--lane interactive`` beside ``--lane bulk``, as docker-compose.yml does)
  so an edit never waits behind a backfill's prefetched messages.

In memory (no broker configured): one process, the queue in its memory (embedded mode).
"""

from __future__ import annotations

from typing import Any

from kombu import Exchange, Queue

from autofill.config import Settings, broker_kind

# How long a publish waits for RabbitMQ's confirm. Past it the publish raises, the dispatcher's
# transaction rolls back and the fills stay in the outbox for its next pass: a queue without a
# leader (a node restarted after a crash, before the queue's Raft member is back) neither
# confirms nor refuses, and the dispatcher must not hang on it.
CONFIRM_TIMEOUT_S = 10.0

# Named, not imported: kombu loads it when a connection is made (worker.redis_transport).
REDIS_TRANSPORT = "worker.redis_transport:Transport"


def publish_options(settings: Settings) -> dict[str, Any]:
    """Extra ``apply_async`` options for the dispatcher's publishes on this broker."""
    if broker_kind(settings.broker()) == "amqp":
        return {"confirm_timeout": CONFIRM_TIMEOUT_S}
    return {}


# A Redis gone silent (a network partition) must fail a publish or a command, not block it
# forever; kombu's own check drops a BRPOP connection whose reply is overdue (kombu's Redis
# transport options: socket_timeout, socket_keepalive, health_check_interval).
REDIS_SOCKET_OPTIONS: dict[str, Any] = {
    "socket_timeout": 30,
    "socket_connect_timeout": 10,
    "socket_keepalive": True,
}


def visibility_timeout_s(settings: Settings) -> int:
    return int(max(300.0, 3 * settings.fill_lease_s))


def celery_broker_settings(settings: Settings, queue_names: list[str]) -> dict[str, Any]:
    """Celery settings for the configured broker: its URL, transport options and queues."""
    url = settings.broker()
    kind = broker_kind(url)
    if kind == "amqp":
        arguments = {
            "x-queue-type": "quorum",
            "x-delivery-limit": settings.broker_delivery_limit,
        }
        queues = [
            Queue(name, Exchange(name, type="topic"), routing_key=name, queue_arguments=arguments)
            for name in queue_names
        ]
        return {
            "broker_url": url,
            "broker_transport_options": {"confirm_publish": True},
            "task_queues": queues,
        }
    # Each queue its own direct exchange and key: a bare Queue(name) would take the default
    # queue's exchange and key, and bind both queues under one routing key.
    queues = [Queue(name, Exchange(name), routing_key=name) for name in queue_names]
    options: dict[str, Any] = {
        "visibility_timeout": visibility_timeout_s(settings),
        # Fetch from the queues in the order given, interactive first, every time.
        "queue_order_strategy": "priority",
    }
    if url is not None:
        options.update(REDIS_SOCKET_OPTIONS)
    transport = {}
    if url is not None and url.split("://", 1)[0].lower() == "redis":
        # kombu's, with one client per channel instead of one per command (the module says why)
        transport = {"broker_transport": REDIS_TRANSPORT}
    return {
        # Embedded mode's in-memory queue is named with a host, or kombu warns "No hostname
        # was supplied. Reverting to default 'localhost'" on every connection (issue 22).
        "broker_url": url or "memory://localhost/",
        "broker_transport_options": options,
        "task_queues": queues,
        **transport,
    }
