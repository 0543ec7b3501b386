"""A fill's span, read from an in-memory exporter: the GenAI conventions' attributes and the
fill's ids; a failed fill's error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from autofill import tracing
from autofill.kinds import Outcome
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.autofill.fills.test_fill import NOTES_DB, _row
from tests.conftest import Caller
from tests.helpers import make_database


def _fill_spans(spans: InMemorySpanExporter) -> list[ReadableSpan]:
    """The fills' spans (the API's requests have their own, SERVER spans)."""
    return [span for span in spans.get_finished_spans() if span.kind == SpanKind.CLIENT]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(None)


def test_a_fill_is_one_span_with_the_genai_attributes(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, spans: InMemorySpanExporter
) -> None:
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "The launch slipped a week. Marketing is unhappy.")
    assert pipeline.drain() == [Outcome.FILLED]
    cell = fill_api.get(f"/v1/rows/{row['id']}").get_json()["cells"]["Summary"]

    [span] = _fill_spans(spans)
    assert span.name == "chat sim-1" and span.kind == SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "sim"
    assert attributes["gen_ai.request.model"] == "sim-1"
    assert attributes["gen_ai.usage.input_tokens"] == cell["provenance"]["tokens_in"]
    assert attributes["gen_ai.usage.output_tokens"] == cell["provenance"]["tokens_out"]
    assert "gen_ai.usage.cache_read.input_tokens" in attributes
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["autofill.workspace.id"] == fill_api.workspace_id
    assert attributes["autofill.row.id"] == row["id"]
    summary = next(p for p in database["properties"] if p["name"] == "Summary")
    assert attributes["autofill.column.id"] == summary["id"]
    assert attributes["autofill.lane"] == "interactive"
    # The page is the user's data: never an attribute.
    assert not any("launch slipped" in str(value) for value in attributes.values())


def test_a_failed_fill_says_why_on_its_span(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, spans: InMemorySpanExporter
) -> None:
    database = make_database(fill_api, NOTES_DB)
    _row(fill_api, database["id"], "Anything.")
    sim.configure(schedule=["400"])
    assert pipeline.drain() == [Outcome.FAILED]
    [span] = _fill_spans(spans)
    assert span.status.status_code == StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "provider_error"


def test_the_fill_links_to_the_request_that_made_it_due(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, spans: InMemorySpanExporter
) -> None:
    database = make_database(fill_api, NOTES_DB)
    spans.clear()
    # The caller's own trace (a W3C traceparent, as an instrumented client sends it).
    trace_id, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    created = fill_api.post(
        f"/v1/databases/{database['id']}/rows",
        json={"content": "The launch slipped a week.", "properties": {}},
        headers={"traceparent": f"00-{trace_id}-{caller_span}-01"},
    )
    assert created.status_code == 201
    [request_span] = spans.get_finished_spans()
    assert request_span.kind == SpanKind.SERVER
    assert request_span.name == "POST /v1/databases/<database_id>/rows"
    assert f"{request_span.context.trace_id:032x}" == trace_id  # the caller's trace goes on
    assert request_span.parent is not None and f"{request_span.parent.span_id:016x}" == caller_span

    assert pipeline.drain() == [Outcome.FILLED]
    [fill_span] = _fill_spans(spans)
    [link] = fill_span.links
    assert link.context.trace_id == request_span.context.trace_id
    assert link.context.span_id == request_span.context.span_id
