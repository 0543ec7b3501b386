"""Prometheus metrics: what an operator watches a background worker by (issue 22).

Every process that fills, dispatches or serves keeps them (the standard client library,
``prometheus_client``); the API serves them at ``/metrics`` and each worker and dispatcher on
its own port (``AUTOFILL_METRICS_PORT``, ``--metrics-port``). Under gunicorn, several API
processes write to one multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``, set by `autofill
serve`), so a scrape sees all of them.

Names follow Prometheus's conventions: an ``autofill_`` prefix, counters ending in ``_total``,
base units (seconds, dollars as ``_usd``). Workspace labels can be turned off for servers with
many workspaces (``AUTOFILL_METRICS_WORKSPACE_LABELS=false``): the label then reads ``all``.

Counted once per fact, after the transaction that made it true: a fill's outcome and its spend
when its record committed, a provider call when it returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder
from sqlalchemy import event
from sqlalchemy.orm import Session

from autofill.config import get_settings, prometheus_multiproc_dir

# Fill steps take from milliseconds (a claim) to minutes (a model call under retries).
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# Waiting for the provider's rate limit: none at all, mostly.
_WAIT_SECONDS = (0.0, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0)

FILLS = Counter(
    "autofill_fills_total",
    "Fills that ended, by outcome (filled, failed, unchanged, superseded...) and error code",
    ["outcome", "error_code", "lane", "workspace"],
)
QUEUE_WAIT = Histogram(
    "autofill_fill_queue_wait_seconds",
    "From a fill's dispatch to its claim by a worker",
    ["lane"],
    buckets=_SECONDS,
)
MODEL_CALL = Histogram(
    "autofill_fill_model_call_seconds",
    "A fill's model call, retries and re-asks included",
    ["provider", "lane"],
    buckets=_SECONDS,
)
RECORD = Histogram(
    "autofill_fill_record_seconds",
    "Recording a fill's answer (one transaction)",
    ["lane"],
    buckets=_SECONDS,
)
IN_FLIGHT = Gauge(
    "autofill_fills_in_flight",
    "Fills whose model call is under way in this process",
    multiprocess_mode="livesum",
)
PROVIDER_CALLS = Counter(
    "autofill_provider_calls_total",
    "HTTP calls to a provider by status (200, 429, 500..., or error: no answer)",
    ["provider", "model", "status"],
)
LIMITER_WAIT = Histogram(
    "autofill_rate_limiter_wait_seconds",
    "Time a call waited for room in the provider's shared rate limit",
    ["provider", "lane"],
    buckets=_WAIT_SECONDS,
)
TOKENS = Counter(
    "autofill_tokens_total",
    "Tokens spent by fills: input (cached included), cached input, output",
    ["provider", "model", "workspace", "kind"],
)
COST = Counter(
    "autofill_cost_usd_total",
    "Dollars spent by fills at list price (batch discounts applied)",
    ["provider", "model", "workspace"],
)
OUTBOX = Gauge(
    "autofill_outbox_entries",
    "Outbox entries by lane and state (waiting, dispatched, running, batched...), as the "
    "dispatcher last counted them",
    ["lane", "state", "workspace"],
    multiprocess_mode="mostrecent",
)
BATCHES = Gauge(
    "autofill_provider_batches",
    "Economy-mode provider batches by state, as the dispatcher last counted them",
    ["provider", "state"],
    multiprocess_mode="mostrecent",
)

ALL = "all"  # the workspace label when workspace labels are off


def workspace_label(workspace_id: str | None) -> str:
    if not workspace_id or not get_settings().metrics_workspace_labels:
        return ALL
    return workspace_id


def split_model(reference: str) -> tuple[str, str]:
    """``openai:gpt-4.1-mini`` → (``openai``, ``gpt-4.1-mini``)."""
    provider, _, model = reference.partition(":")
    return (provider, model) if model else ("unknown", reference)


def fill_ended(outcome: str, *, lane: str, workspace_id: str | None, error_code: str = "") -> None:
    FILLS.labels(outcome, error_code, lane, workspace_label(workspace_id)).inc()


def spent(
    reference: str,
    workspace_id: str | None,
    *,
    input_tokens: int,
    cached_tokens: int,
    output_tokens: int,
    cost_usd: float,
) -> None:
    provider, model = split_model(reference)
    workspace = workspace_label(workspace_id)
    for kind, count in (
        ("input", input_tokens),
        ("cached", cached_tokens),
        ("output", output_tokens),
    ):
        if count:
            TOKENS.labels(provider, model, workspace, kind).inc(count)
    if cost_usd:
        COST.labels(provider, model, workspace).inc(cost_usd)


def provider_call(reference: str, status: int | str) -> None:
    provider, model = split_model(reference)
    PROVIDER_CALLS.labels(provider, model, str(status)).inc()


def set_outbox(counts: Iterable[tuple[str, str, str | None, int]]) -> None:
    """The dispatcher's count of the outbox: (lane, state, workspace, entries) rows. States
    and workspaces absent from this count are cleared, so a drained queue reads nothing."""
    totals: dict[tuple[str, str, str], int] = {}
    for lane, state, workspace_id, count in counts:
        key = (lane, state, workspace_label(workspace_id))
        totals[key] = totals.get(key, 0) + count
    OUTBOX.clear()
    for (lane, state, workspace), count in totals.items():
        OUTBOX.labels(lane, state, workspace).set(count)


def set_batches(counts: Iterable[tuple[str, str, int]]) -> None:
    BATCHES.clear()
    for provider, state, count in counts:
        BATCHES.labels(provider, state).set(count)


def exposition(accept: str = "") -> tuple[bytes, str]:
    """The text a scrape gets, in the format its ``Accept`` header asks for (Prometheus's
    classic text format when it asks for none, as the client library's own server does):
    every process's metrics when several write to the multiprocess directory (gunicorn's
    workers), else this process's own."""
    encode, content_type = choose_encoder(accept)
    if prometheus_multiproc_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return encode(registry), content_type
    return encode(REGISTRY), content_type


def serve(port: int, host: str) -> None:
    """This process's metrics on ``host:port`` (a worker's, a dispatcher's), in a thread."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host)


# What a transaction counts is counted when it commits: a rolled-back or retried transaction
# (``Store.run`` runs one again on a dead connection) counts nothing twice.
_PENDING = "autofill.metrics.pending"


def after_commit(session: Session, count: Callable[[], None]) -> None:
    session.info.setdefault(_PENDING, []).append(count)


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for count in session.info.pop(_PENDING, []):
        count()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
