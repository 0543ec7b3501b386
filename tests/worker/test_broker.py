"""What each broker gets from Celery (worker.broker): RabbitMQ's quorum queues, delivery limit
and publisher confirms; Redis's visibility timeout and queue order; memory for one process."""

from __future__ import annotations

import pytest

from autofill.config import Settings, SettingsError, broker_kind, read_settings
from tests.conftest import REDIS_URL
from worker.broker import (
    CONFIRM_TIMEOUT_S,
    REDIS_SOCKET_OPTIONS,
    publish_options,
    visibility_timeout_s,
)
from worker.celery_app import QUEUES, make_celery

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def test_rabbitmq_gets_quorum_queues_with_a_delivery_limit_and_confirms() -> None:
    settings = Settings(redis_url=REDIS_URL, broker_url=RABBITMQ_URL, broker_delivery_limit=7)
    conf = make_celery(settings).conf
    assert conf.broker_url == RABBITMQ_URL  # the broker, not Redis, which keeps rate limits
    assert conf.broker_transport_options == {"confirm_publish": True}
    queues = {queue.name: queue for queue in conf.task_queues}
    assert set(queues) == set(QUEUES.values())
    for name, queue in queues.items():
        assert queue.queue_arguments == {"x-queue-type": "quorum", "x-delivery-limit": 7}
        # Topic, so Celery's native delayed delivery (set up for quorum queues) can bind it.
        assert queue.exchange.type == "topic" and queue.routing_key == name
    # Celery turns global QoS off for quorum queues only if it is left to detect them.
    assert conf.worker_detect_quorum_queues is True
    assert publish_options(settings) == {"confirm_timeout": CONFIRM_TIMEOUT_S}


def test_redis_gets_a_visibility_timeout_and_the_interactive_queue_first() -> None:
    settings = Settings(redis_url=REDIS_URL)
    conf = make_celery(settings).conf
    assert conf.broker_url == REDIS_URL
    assert conf.broker_transport_options == {
        "visibility_timeout": visibility_timeout_s(settings),
        "queue_order_strategy": "priority",
        **REDIS_SOCKET_OPTIONS,
    }
    assert all(queue.exchange.type == "direct" for queue in conf.task_queues)
    assert publish_options(settings) == {}


def test_no_broker_is_embedded_mode() -> None:
    settings = Settings(redis_url=None, broker_url=None)
    assert settings.broker() is None
    assert make_celery(settings).conf.broker_url == "memory://localhost/"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("redis://127.0.0.1:6379/0", "redis"),
        ("rediss://cache.example:6380/0", "redis"),
        ("amqp://guest:guest@127.0.0.1:5672//", "amqp"),
        ("amqps://user:pw@mq.example/vhost", "amqp"),
        ("memory://localhost/", "memory"),
        ("sqs://queue", None),
        ("127.0.0.1:5672", None),
    ],
)
def test_broker_kinds(url: str, kind: str | None) -> None:
    assert broker_kind(url) == kind


def test_an_unsupported_broker_url_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTOFILL_BROKER_URL", "sqs://my-queue")
    with pytest.raises(SettingsError, match=r"AUTOFILL_BROKER_URL.*amqp://"):
        read_settings()


def test_rabbitmq_without_redis_needs_postgresql_for_the_shared_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTOFILL_BROKER_URL", "amqp://guest:secret@127.0.0.1:5672//")
    monkeypatch.delenv("AUTOFILL_REDIS_URL", raising=False)
    monkeypatch.delenv("AUTOFILL_DATABASE_URL", raising=False)
    with pytest.raises(SettingsError, match="set AUTOFILL_DATABASE_URL to PostgreSQL") as error:
        read_settings()
    assert "secret" not in str(error.value)  # the rule's message, not its inputs
    monkeypatch.setenv("AUTOFILL_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/x")
    assert read_settings().limits_database_url() == "postgresql+psycopg://postgres@127.0.0.1/x"
