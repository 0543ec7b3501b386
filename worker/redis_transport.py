"""kombu's Redis transport, with one redis-py client per channel for the commands it sends.

kombu builds a new redis-py client object for every command outside its BRPOP loop: each task
message a dispatcher publishes, each Celery event a worker sends (three per task message, plus
heartbeats), each message's bookkeeping on receipt and acknowledgement (kombu 5.7,
kombu/transport/redis.py: ``Channel.conn_or_acquire`` → ``_create_client``). Building one runs
redis-py's whole set-up: its response callbacks copied into a case-insensitive dict, command by
command, and its event listeners registered (redis/client.py ``Redis.__init__``). In a backfill
that set-up was about half of the 7 % of a worker's CPU spent sending events
(BENCHMARKS.md, issue 21).

A redis-py client may be shared between threads: it takes a connection from its pool for each
command and gives it back right after (redis-py's README, "Thread Safety"; pipelines are
per use and stay so here). So each channel keeps one, for the pool it was made on; when kombu
replaces the channel's pool (after a fork, on a reconnection) the next command makes a new
one. Everything else is kombu's own transport, unchanged.

Used for ``redis://`` URLs only (worker.broker): kombu turns TLS on from the ``rediss`` name
itself (kombu/connection.py), which naming a transport class would bypass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _commands_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        pool = self.pool
        shared = self._commands_client
        if shared is None or shared.connection_pool is not pool:
            shared = self._commands_client = self._create_client()  # type: ignore[attr-defined]
        yield shared


class Transport(kombu_redis.Transport):
    Channel = Channel
