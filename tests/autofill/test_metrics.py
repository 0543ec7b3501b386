"""The metrics' names and labels, and that a transaction's counts land only when it commits."""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families

from autofill import metrics
from autofill.config import Settings, use_settings
from autofill.db import Store

OURS = [value for value in vars(metrics).values() if isinstance(value, Counter | Gauge | Histogram)]


def _families() -> dict[str, object]:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(body.decode())}


def test_names_follow_prometheus_conventions() -> None:
    assert len(OURS) >= 10
    metrics.fill_ended("filled", lane="bulk", workspace_id="ws_names")  # a sample to read
    families = _families()
    for metric in OURS:
        name = metric._name  # the family's name, as a scrape reads it
        assert name.startswith("autofill_"), name
        if isinstance(metric, Histogram):
            assert name.endswith("_seconds"), name  # base units
            assert families[name].type == "histogram"  # type: ignore[attr-defined]
    # A counter's samples are <name>_total, as Prometheus's conventions ask.
    fills = families["autofill_fills"]
    assert fills.type == "counter"  # type: ignore[attr-defined]
    assert {sample.name for sample in fills.samples} >= {"autofill_fills_total"}  # type: ignore[attr-defined]
    assert "autofill_cost_usd" in families and "autofill_tokens" in families


def test_counts_land_when_the_transaction_commits(store: Store) -> None:
    def filled() -> float:
        sample = REGISTRY.get_sample_value(
            "autofill_fills_total",
            {"outcome": "filled", "error_code": "", "lane": "bulk", "workspace": "ws_commit"},
        )
        return sample or 0.0

    before = filled()
    count = lambda: metrics.fill_ended("filled", lane="bulk", workspace_id="ws_commit")  # noqa: E731
    try:
        with store.transaction() as session:
            metrics.after_commit(session, count)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert filled() == before  # a rolled-back transaction counts nothing
    with store.transaction() as session:
        metrics.after_commit(session, count)
        assert filled() == before  # not before the commit
    assert filled() == before + 1


def test_workspace_labels_can_be_turned_off() -> None:
    previous = use_settings(Settings(metrics_workspace_labels=False))
    try:
        assert metrics.workspace_label("ws_01") == metrics.ALL
        metrics.fill_ended("failed", lane="interactive", workspace_id="ws_hidden", error_code="x")
    finally:
        use_settings(previous)
    assert metrics.workspace_label("ws_01") == "ws_01"
    assert REGISTRY.get_sample_value(
        "autofill_fills_total",
        {"outcome": "failed", "error_code": "x", "lane": "interactive", "workspace": "all"},
    )
    assert "ws_hidden" not in metrics.exposition()[0].decode()


def test_the_outbox_gauge_says_what_is_there_now() -> None:
    metrics.set_outbox([("bulk", "waiting", "ws_a", 5), ("bulk", "waiting", "ws_b", 2)])
    metrics.set_outbox([("bulk", "waiting", "ws_a", 3)])
    read = REGISTRY.get_sample_value
    assert (
        read("autofill_outbox_entries", {"lane": "bulk", "state": "waiting", "workspace": "ws_a"})
        == 3
    )
    # A workspace whose entries are gone reads nothing, not its last count.
    assert (
        read("autofill_outbox_entries", {"lane": "bulk", "state": "waiting", "workspace": "ws_b"})
        is None
    )
    metrics.set_outbox([])


def test_a_model_reference_names_its_provider() -> None:
    assert metrics.split_model("openai:gpt-4.1-mini") == ("openai", "gpt-4.1-mini")
    assert metrics.split_model("compat:local") == ("compat", "local")
    assert metrics.split_model("oddity") == ("unknown", "oddity")
