"""A fill's span, read from an in-memory exporter: the GenAI conventions' attributes and the
fill's ids; a failed fill's error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
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

    [span] = spans.get_finished_spans()
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
    [span] = spans.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "provider_error"
