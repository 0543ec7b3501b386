"""Traces are off, and cost nothing, unless an OTLP endpoint is configured."""

from __future__ import annotations

import subprocess
import sys


def test_with_no_endpoint_nothing_of_opentelemetry_is_loaded() -> None:
    script = (
        "import sys\n"
        "from autofill import tracing\n"
        "assert tracing.tracer() is None\n"
        "with tracing.fill_span('openai:gpt-4.1-mini', workspace_id='w', column_id='c',\n"
        "                       row_id='r', run_id=None, lane='bulk', max_tokens=10) as span:\n"
        "    assert span is None\n"
        "tracing.answered(None, input_tokens=1, output_tokens=1, cached_tokens=0,\n"
        "                 cache_write_tokens=0, error=None)\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_an_endpoint_or_the_sdk_switch_decides(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from autofill.config import otlp_traces_configured

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    assert not otlp_traces_configured()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces")
    assert otlp_traces_configured()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not otlp_traces_configured()


def test_with_an_endpoint_spans_go_out_with_otlp(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A real OTLP/HTTP receiver on loopback gets the span, as a collector would."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    received: list[bytes] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                received.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = (
        "from autofill import tracing\n"
        "from autofill.kinds import ErrorCode\n"
        "with tracing.fill_span('openai:gpt-4.1-mini', workspace_id='ws_1', column_id='prop_1',\n"
        "                       row_id='row_1', run_id='run_1', lane='bulk', max_tokens=64) as s:\n"
        "    tracing.answered(s, input_tokens=120, output_tokens=7, cached_tokens=100,\n"
        "                     cache_write_tokens=0, error=ErrorCode.ANSWER_TRUNCATED)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
        "OTEL_SERVICE_NAME": "autofill-test",
    }
    try:
        subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    finally:
        server.shutdown()
    assert received, "no span reached the collector"
    request = ExportTraceServiceRequest.FromString(received[0])
    [resource_spans] = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "autofill-test"
    [span] = resource_spans.scope_spans[0].spans
    assert span.name == "chat gpt-4.1-mini"
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["gen_ai.provider.name"].string_value == "openai"
    assert attributes["gen_ai.usage.input_tokens"].int_value == 120
    assert attributes["gen_ai.usage.cache_read.input_tokens"].int_value == 100
    assert [
        v.string_value for v in attributes["gen_ai.response.finish_reasons"].array_value.values
    ] == ["length"]
    assert attributes["autofill.run.id"].string_value == "run_1"
    assert attributes["error.type"].string_value == "answer_truncated"
