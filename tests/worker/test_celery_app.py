"""The Celery app's delivery settings, and a real worker process on real Redis."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest
import redis
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families

from autofill.config import Settings
from tests.conftest import REDIS_URL, unavailable
from worker.broker import visibility_timeout_s
from worker.celery_app import make_celery, queue_for, queues_for_lane


def test_at_least_once_settings() -> None:
    settings = Settings(redis_url=REDIS_URL)
    conf = make_celery(settings).conf
    assert conf.broker_url == REDIS_URL
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_pool == "threads"
    # Longer than any fill can hold its cell, so a slow fill is never handed out twice.
    timeout = conf.broker_transport_options["visibility_timeout"]
    assert timeout == visibility_timeout_s(settings) >= 3 * settings.fill_lease_s


def test_the_fill_task_is_registered_and_thin() -> None:
    app = make_celery(Settings(redis_url=REDIS_URL))
    app.loader.import_default_modules()
    import worker.tasks

    task = worker.tasks.fill_cell
    assert task.name == "autofill.fill_cell"
    assert task.acks_late and task.reject_on_worker_lost


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_worker_takes_the_queues_of_its_lane() -> None:
    assert queues_for_lane("both") == ["fills.interactive", "fills.bulk"]
    assert queues_for_lane("bulk") == ["fills.bulk"]


def test_embedded_mode_uses_the_in_memory_transport() -> None:
    assert make_celery(Settings(redis_url=None)).conf.broker_url == "memory://localhost/"


def test_autofill_worker_starts_and_answers(tmp_path: Path) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    env = {**os.environ, "AUTOFILL_REDIS_URL": REDIS_URL, "AUTOFILL_DATA_DIR": str(tmp_path)}
    autofill = str(Path(sys.executable).with_name("autofill"))
    node = f"test-{os.getpid()}@localhost"
    metrics_port = free_port()
    # The schema first, as compose's migrate job does: a worker does not migrate.
    subprocess.run([autofill, "db", "upgrade"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [
            *(autofill, "worker", "--concurrency", "4", "--lane", "interactive", "-n", node),
            *("--metrics-port", str(metrics_port)),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    app = make_celery(Settings(redis_url=REDIS_URL))
    try:
        deadline = time.monotonic() + 60
        replies: list[dict[str, object]] = []
        while not replies and time.monotonic() < deadline and process.poll() is None:
            replies = app.control.ping(destination=[node], timeout=1.0) or []
        assert replies, "the worker never answered a ping"
        stats = app.control.inspect(destination=[node], timeout=5).stats() or {}
        pool = stats[node]["pool"]
        assert pool["max-concurrency"] == 4
        assert pool["implementation"] == "celery.concurrency.thread:TaskPool"
        # An interactive-only worker (kept for people's edits) takes no backfill's fills.
        queues = app.control.inspect(destination=[node], timeout=5).active_queues() or {}
        assert [q["name"] for q in queues[node]] == ["fills.interactive"]
        # Celery's monitoring events, as Flower or celery-exporter would receive them: a fill
        # of a row that does not exist is sent, received, started and succeeds (nothing to do).
        assert _task_events(app, "row_gone", "prop_gone") >= {
            "task-sent",
            "task-received",
            "task-started",
            "task-succeeded",
        }
        # Its Prometheus metrics, scraped and parsed as Prometheus would.
        scraped = httpx2.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
        assert scraped.status_code == 200
        families = {f.name: f for f in text_string_to_metric_families(scraped.text)}
        assert families["autofill_fills"].type == "counter"
        assert families["autofill_fills_in_flight"].samples[0].value == 0
    finally:
        process.terminate()
        process.wait(timeout=30)
        app.close()


def _task_events(app: Celery, row_id: str, property_id: str) -> set[str]:
    """The event types about one fill_cell task, captured off the broker while it runs."""
    seen: dict[str, set[str]] = {}
    ready = threading.Event()

    def on_event(event: dict[str, object]) -> None:
        if str(event.get("type", "")).startswith("task-"):
            seen.setdefault(str(event["uuid"]), set()).add(str(event["type"]))

    def capture() -> None:
        with app.connection_for_read() as connection:
            receiver = app.events.Receiver(connection, handlers={"*": on_event})
            ready.set()
            with contextlib.suppress(Exception):  # the socket's timeout ends the capture
                receiver.capture(limit=None, timeout=20, wakeup=False)

    thread = threading.Thread(target=capture, daemon=True)
    thread.start()
    ready.wait(10)
    time.sleep(0.5)  # the receiver's queue is bound
    task = app.send_task(
        "autofill.fill_cell", args=[row_id, property_id, 1], queue=queue_for("interactive")
    )
    deadline = time.monotonic() + 20
    while "task-succeeded" not in seen.get(task.id, set()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return seen.get(task.id, set())


def test_a_worker_takes_interactive_fills_before_queued_bulk_ones() -> None:
    """On real Redis, with the app's own queues and transport options: ten bulk messages are
    waiting when two interactive ones arrive; a consumer takes both interactive messages
    before any bulk one (Celery's default round-robin order would take a bulk one second)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    app = make_celery(Settings(redis_url=REDIS_URL))
    queues = list(app.conf.task_queues)
    assert [q.name for q in queues] == [queue_for("interactive"), queue_for("bulk")]
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"
    received: list[str] = []
    with app.connection_for_write() as connection:
        channel = connection.channel()
        for queue in queues:
            queue(channel).declare()
            queue(channel).purge()
        with connection.Producer() as producer:
            for number in range(10):
                producer.publish({"n": f"bulk-{number}"}, routing_key=queue_for("bulk"))
            for number in range(2):
                producer.publish({"n": f"edit-{number}"}, routing_key=queue_for("interactive"))

        def take(body: dict[str, str], message: object) -> None:
            received.append(body["n"])
            message.ack()  # type: ignore[attr-defined]

        with connection.Consumer(queues, callbacks=[take], prefetch_count=1):
            for _ in range(4):
                connection.drain_events(timeout=5)
        for queue in queues:
            queue(channel).purge()
    assert received == ["edit-0", "edit-1", "bulk-0", "bulk-1"]


def test_embedded_mode_connects_without_kombus_hostname_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # kombu warns "No hostname was supplied" on every connection to a URL without a host
    # (seen in the demo's and `autofill serve`'s output, issue 22).
    app = make_celery(Settings(redis_url=None))
    with caplog.at_level(logging.WARNING), app.connection_for_write() as connection:
        connection.info()
        connection.ensure_connection(max_retries=1)
    assert "No hostname" not in caplog.text
