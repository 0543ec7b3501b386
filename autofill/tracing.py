"""OpenTelemetry traces: a span per fill's model call, with the GenAI semantic conventions'
attributes (issue 22).

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set:
then nothing of OpenTelemetry is imported and a fill pays one check. On, each process
exports its spans with OTLP over HTTP in batches (the SDK reads the endpoint, headers and
protocol settings from the standard ``OTEL_*`` variables; ``OTEL_SERVICE_NAME`` names the
service, ``autofill`` by default).

A span is named ``chat <model>`` (the GenAI conventions' "{operation} {model}") and carries
``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``,
``gen_ai.request.max_tokens``, ``gen_ai.usage.input_tokens``/``output_tokens``,
``gen_ai.usage.cache_read.input_tokens``/``cache_creation.input_tokens``,
``gen_ai.response.finish_reasons`` and, for a failed fill, ``error.type``; plus the fill's
``autofill.workspace.id``, ``autofill.column.id``, ``autofill.row.id``, ``autofill.run.id`` and
``autofill.lane``. The names come from opentelemetry-semantic-conventions' own constants. A
page's text and the answer are never attributes: they are the users' data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from autofill.config import otel_service_name, otlp_traces_configured
from autofill.kinds import ErrorCode

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, SpanContext, Tracer

_lock = threading.Lock()
_tracer: Tracer | None = None
_installed: TracerProvider | None = None

# A failed fill's finish reason, where the failure is one (the conventions' values).
_FINISH = {
    ErrorCode.ANSWER_TRUNCATED: "length",
    ErrorCode.CONTENT_FILTERED: "content_filter",
    ErrorCode.REFUSED: "refusal",
}
# The conventions' provider names, where ours differ.
_PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "compat": "openai_compatible"}


def install(provider: TracerProvider | None) -> None:
    """Trace through ``provider`` (a test's in-memory exporter), whatever the environment;
    None goes back to the environment's choice."""
    global _tracer, _installed
    with _lock:
        _installed, _tracer = provider, None


def tracer() -> Tracer | None:
    """This process's tracer, or None when traces are off."""
    global _tracer
    if _tracer is not None:
        return _tracer
    if _installed is None and not otlp_traces_configured():
        return None
    with _lock:
        if _tracer is None:
            provider = _installed or _otlp_provider()
            _tracer = provider.get_tracer("autofill")
        return _tracer


def _otlp_provider() -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create adds OTEL_RESOURCE_ATTRIBUTES; a name given here would win over
    # OTEL_SERVICE_NAME, so the name given is that variable's, else ours.
    provider = TracerProvider(resource=Resource.create({"service.name": otel_service_name()}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


@contextmanager
def fill_span(
    reference: str,
    *,
    workspace_id: str,
    column_id: str,
    row_id: str,
    run_id: str | None,
    lane: str,
    max_tokens: int,
    scheduled_by: str | None = None,
) -> Iterator[Span | None]:
    """A span around a fill's model call (None when traces are off), linked to the request
    that made the fill due (``scheduled_by``, its traceparent): a fill runs later and
    elsewhere, so it is a link, not a child (the OpenTelemetry guidance for work queued by
    one trace and done in another)."""
    active = tracer()
    if active is None:
        yield None
        return
    from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
    from opentelemetry.trace import Link, SpanKind

    kind, _, model = reference.partition(":")
    attributes: dict[str, Any] = {
        gen_ai.GEN_AI_OPERATION_NAME: "chat",
        gen_ai.GEN_AI_PROVIDER_NAME: _PROVIDERS.get(kind, kind),
        gen_ai.GEN_AI_REQUEST_MODEL: model or reference,
        gen_ai.GEN_AI_REQUEST_MAX_TOKENS: max_tokens,
        "autofill.workspace.id": workspace_id,
        "autofill.column.id": column_id,
        "autofill.row.id": row_id,
        "autofill.lane": lane,
    }
    if run_id is not None:
        attributes["autofill.run.id"] = run_id
    scheduler = _parse(scheduled_by)
    with active.start_as_current_span(
        f"chat {model or reference}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        links=[Link(scheduler)] if scheduler is not None else [],
    ) as span:
        yield span


@contextmanager
def request_span(
    method: str, route: str, header: Callable[[str], str | None]
) -> Iterator[Span | None]:
    """A server span around an API request, continuing the caller's trace when it sent a
    ``traceparent`` (W3C Trace Context); the fills it makes due link to it. ``header`` looks
    a request header up, and is not called at all while traces are off."""
    active = tracer()
    if active is None:
        yield None
        return
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {name: value for name in ("traceparent", "tracestate") if (value := header(name))}
    parent = TraceContextTextMapPropagator().extract(carrier=carrier)
    with active.start_as_current_span(
        f"{method} {route}",
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "http.route": route},
    ) as span:
        yield span


def current_traceparent() -> str | None:
    """The current span's W3C traceparent, kept with the fills it makes due; None when
    traces are off or no span is current."""
    if tracer() is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def _parse(traceparent: str | None) -> SpanContext | None:
    if not traceparent:
        return None
    from opentelemetry.trace import SpanContext, TraceFlags

    try:
        _, trace_id, span_id, flags = traceparent.split("-")
        context = SpanContext(
            int(trace_id, 16),
            int(span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(int(flags, 16)),
        )
    except ValueError:
        return None
    return context if context.is_valid else None


def answered(
    span: Span | None,
    *,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int,
    cache_write_tokens: int,
    error: ErrorCode | None,
    message: str = "",
) -> None:
    """What the call came to: its usage, why it stopped, and the error when it failed."""
    if span is None:
        return
    from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute(gen_ai.GEN_AI_USAGE_INPUT_TOKENS, input_tokens)
    span.set_attribute(gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens)
    span.set_attribute(gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cached_tokens)
    span.set_attribute(gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, cache_write_tokens)
    if error is None:
        span.set_attribute(gen_ai.GEN_AI_RESPONSE_FINISH_REASONS, ["stop"])
        return
    if error in _FINISH:
        span.set_attribute(gen_ai.GEN_AI_RESPONSE_FINISH_REASONS, [_FINISH[error]])
    span.set_attribute("error.type", error.value)
    span.set_status(Status(StatusCode.ERROR, message[:200]))
