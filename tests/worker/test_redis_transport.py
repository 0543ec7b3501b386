"""kombu's Redis transport with one client per channel (worker.redis_transport), on the real
Redis: what is published arrives whole, from many threads at once, through one client; a
channel whose pool kombu replaced gets a new one; and only ``redis://`` uses it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from kombu import Connection, Exchange, Producer, Queue

from autofill.config import Settings
from tests.conftest import REDIS_URL
from worker.broker import REDIS_TRANSPORT
from worker.celery_app import make_celery
from worker.redis_transport import Channel


@pytest.fixture
def connection() -> Iterator[Connection]:
    with Connection(REDIS_URL, transport=REDIS_TRANSPORT) as conn:
        yield conn


def _channel(connection: Connection) -> Channel:
    channel = connection.channel()
    assert isinstance(channel, Channel)  # ours, not kombu's own
    return channel


def _payload(queue: Queue) -> dict[str, int]:
    message = queue.get(no_ack=True)
    assert message is not None
    payload: dict[str, int] = message.payload
    return payload


def _queue(channel: Channel) -> Queue:
    name = f"test-transport-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, Exchange(name), routing_key=name, channel=channel)
    queue.declare()
    return queue


def test_messages_published_from_many_threads_arrive_whole_through_one_client(
    connection: Connection,
) -> None:
    channel = _channel(connection)
    queue = _queue(channel)
    producer = Producer(channel, exchange=queue.exchange, routing_key=queue.routing_key)
    clients: set[int] = set()

    def publish(thread: int) -> None:
        for n in range(50):
            producer.publish({"thread": thread, "n": n, "pad": "x" * 2000}, serializer="json")
            clients.add(id(channel._commands_client))

    threads = [threading.Thread(target=publish, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    got = []
    while (message := queue.get(no_ack=True)) is not None:
        got.append((message.payload["thread"], message.payload["n"]))
        assert message.payload["pad"] == "x" * 2000
    assert sorted(got) == [(t, n) for t in range(8) for n in range(50)]
    assert len(clients) == 1  # one client for 400 publishes, not 400
    queue.delete()


def test_a_channel_whose_pool_was_replaced_makes_a_new_client(connection: Connection) -> None:
    channel = _channel(connection)
    queue = _queue(channel)
    producer = Producer(channel, exchange=queue.exchange, routing_key=queue.routing_key)
    producer.publish({"n": 1})
    before = channel._commands_client
    channel._disconnect_pools()  # type: ignore[attr-defined]  # kombu does, after a fork
    producer.publish({"n": 2})
    assert channel._commands_client is not before
    assert channel._commands_client.connection_pool is channel.pool
    assert [_payload(queue)["n"] for _ in range(2)] == [1, 2]
    queue.delete()


@pytest.mark.parametrize(
    ("url", "ours"),
    [
        ("redis://127.0.0.1:6379/0", True),
        ("rediss://127.0.0.1:6380/0", False),  # kombu turns TLS on from the name: left to it
        ("amqp://guest:guest@127.0.0.1:5672//", False),
        (None, False),
    ],
)
def test_only_plain_redis_urls_name_the_transport(url: str | None, ours: bool) -> None:
    settings = Settings(redis_url=REDIS_URL, broker_url=url) if url else Settings()
    conf = make_celery(settings).conf
    assert (conf.broker_transport == REDIS_TRANSPORT) is ours
