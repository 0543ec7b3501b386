"""GET /metrics: Prometheus's text format, read with prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from autofill.config import Settings
from autofill.db import Store


def _app(store: Store, tmp_path: Path, database_url: str, **settings: object) -> Flask:
    configured = Settings(data_dir=tmp_path, database_url=database_url, **settings)  # type: ignore[arg-type]
    return create_app({"TESTING": True, "STORE": store, "SETTINGS": configured, "MIGRATE": False})


def test_a_scrape_reads_every_family(store: Store, tmp_path: Path, database_url: str) -> None:
    response = _app(store, tmp_path, database_url).test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert families["autofill_fills"].type == "counter"
    assert families["autofill_fill_queue_wait_seconds"].type == "histogram"
    assert families["autofill_outbox_entries"].type == "gauge"
    assert {"autofill_provider_calls", "autofill_tokens", "autofill_cost_usd"} <= set(families)


def test_a_metrics_token_is_asked_for_when_set(
    store: Store, tmp_path: Path, database_url: str
) -> None:
    client = _app(store, tmp_path, database_url, metrics_token="scrape-secret").test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    allowed = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert allowed.status_code == 200
    assert b"autofill_fills_total" in allowed.data or b"autofill_fills" in allowed.data
