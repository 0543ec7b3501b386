"""What a backfill costs: now (live calls) vs economy (the providers' batch APIs), priced from
the model catalogue, on the distributed topology (PostgreSQL, Redis, a dispatcher running the
batcher, Celery workers) against the simulator as its own process.

    .venv/bin/python -m bench.backfill_cost                       # 6,000 pages × 2 columns
    .venv/bin/python -m bench.backfill_cost --pages 600 --model anthropic:claude-haiku-4-5

The corpus: ``--pages`` pages in eight languages (CJK included, some empty), lengths drawn from
a log-normal (median ~300 words, a long tail to ~3,000), seeded: the same pages every run. Two
AI columns (a summary and a sentiment classification), filled three ways, each on a fresh
copy of the corpus and a freshly reset simulator:

- ``now``: bulk runs in mode now (live calls; the provider's prompt cache as it works live);
- ``economy``: bulk runs in mode economy, with batch requests given no prompt-cache hits (the
  providers call batch cache hits best effort);
- ``economy + caching``: the same, with batch requests reading the cache.

Reported per way: tokens (input, cached, output), dollars as our usage records price them
from the catalogue, wall time, and the share of cells whose value equals the ``now`` run's
(the simulator answers a request the same way live and in a batch). The figure is economy with
caching ÷ now, in dollars (target ≤ 0.55), with the dollars per 6,000 pages beside Notion's
reported $5–6 for 6,000 pages (PRODUCT.md).
"""

from __future__ import annotations

import math
import random
import statistics
import time
from typing import Any

import click
from sqlalchemy import select

from autofill.db.models import Cell, FillRun, Row
from autofill.fills import runs as run_service
from autofill.kinds import FillMode, Scope
from autofill.llm.catalogue import catalogue
from autofill.schemas import DatabaseCreate, PropertyCreate, RowCreate
from autofill.services import databases as database_service
from autofill.services import properties as property_service
from autofill.services import rows as row_service
from autofill.services import run_out
from autofill.services.lookup import get_database, get_property
from bench.backfill import wait_ready
from bench.results import record
from bench.topology import Topology, topology

SENTENCES = {
    "en": "The customer cannot export invoices since the last update and needs March for an audit.",
    "fr": "Le client demande un remboursement car la facture de mars a été payée deux fois.",
    "de": "Der Kunde lobt die neue Suche, wünscht sich aber einen dunklen Modus für die Nacht.",
    "es": "El cliente quiere integrar el calendario con su CRM y pregunta por el plan anual.",
    "ja": "顧客は請求書のエクスポートができないと報告しており、監査のために三月分が必要です。",
    "zh": "客户表示自上次更新以来无法导出发票，审计需要三月份的数据。",
    "pt": "O cliente elogia a sincronização, mas pede relatórios semanais por e-mail.",
    "th": "ลูกค้าแจ้งว่าไม่สามารถส่งออกใบแจ้งหนี้ได้ตั้งแต่การอัปเดตครั้งล่าสุด",
}
WORDS_PER_SENTENCE = 15
COLUMNS: list[dict[str, Any]] = [
    {"name": "Summary", "type": "ai", "ai": {"task": "summary", "auto_update": False}},
    {
        "name": "Sentiment",
        "type": "ai",
        "ai": {
            "task": "classify",
            "auto_update": False,
            "output": {"type": "select", "options": ["Positive", "Neutral", "Negative"]},
        },
    },
]
WAYS = ("now", "economy", "economy + caching")


def corpus(pages: int, seed: int = 7) -> list[str]:
    """Pages of realistic, varied length in eight languages; one in fifty is empty."""
    chance = random.Random(seed)
    languages = list(SENTENCES)
    made = []
    for n in range(pages):
        if n % 50 == 49:
            made.append("")
            continue
        words = min(max(int(chance.lognormvariate(math.log(300), 0.8)), 20), 3000)
        sentence = SENTENCES[languages[n % len(languages)]]
        count = max(words // WORDS_PER_SENTENCE, 1)
        made.append(" ".join(f"({i + 1}) {sentence}" for i in range(count)))
    return made


def load(topo: Topology, pages: list[str], model: str, name: str) -> tuple[str, list[str]]:
    with topo.store.transaction() as session:
        database = database_service.create_database(
            session,
            topo.workspace_id,
            DatabaseCreate.model_validate(
                {"name": name, "properties": [{"name": "Name", "type": "title"}]}
            ),
            default_model=model,
        )
        database_id = database.id
    for start in range(0, len(pages), 1000):
        with topo.store.transaction() as session:
            database = get_database(session, topo.workspace_id, database_id)
            for n in range(start, min(start + 1000, len(pages))):
                data = RowCreate(properties={"Name": f"Page {n:05}"}, content=pages[n])
                row_service.create_row(session, database, data)
    with topo.store.transaction() as session:
        database = get_database(session, topo.workspace_id, database_id, for_update=True)
        ids = []
        for spec in COLUMNS:
            spec = {**spec, "ai": {**spec["ai"], "model": model}}
            prop = property_service.add_property(
                session, database, PropertyCreate.model_validate(spec), default_model=model
            )
            ids.append(prop.id)
    return database_id, ids


def fill(topo: Topology, database_id: str, columns: list[str], mode: FillMode) -> list[str]:
    run_ids = []
    with topo.store.transaction() as session:
        database = get_database(session, topo.workspace_id, database_id)
        for column in columns:
            prop = get_property(session, topo.workspace_id, column)
            run_ids.append(run_service.start(session, database, prop, Scope.ALL, mode).id)
    return run_ids


def wait_done(topo: Topology, run_ids: list[str], limit_s: float) -> dict[str, Any]:
    started = time.monotonic()
    while True:
        with topo.store.transaction() as session:
            views = [run_out(session, session.get_one(FillRun, run_id)) for run_id in run_ids]
        if all(view.state != "running" for view in views):
            return {
                "wall_s": round(time.monotonic() - started, 1),
                "done": sum(v.done for v in views),
                "failed": sum(v.failed for v in views),
                "model_calls": sum(v.model_calls for v in views),
                "tokens_in": sum(v.tokens_in for v in views),
                "tokens_out": sum(v.tokens_out for v in views),
                "cost_usd": round(sum(v.cost_usd for v in views), 6),
            }
        if time.monotonic() - started > limit_s:
            raise RuntimeError(f"runs not done after {limit_s:.0f} s: {views}")
        time.sleep(1.0)


def values(topo: Topology, database_id: str, columns: list[str]) -> dict[tuple[str, int], Any]:
    """Each cell's value by (column's position, row's title)."""
    with topo.store.transaction() as session:
        found = session.execute(
            select(Cell.property_id, Row.values, Cell.value)
            .join(Row, Row.id == Cell.row_id)
            .where(Row.database_id == database_id)
        ).all()
    out: dict[tuple[str, int], Any] = {}
    for property_id, row_values, value in found:
        name = next(iter(row_values.values()), "")
        out[(str(name), columns.index(property_id))] = value
    return out


def one_way(
    topo: Topology, pages: list[str], model: str, way: str, reference: dict[Any, Any] | None
) -> tuple[dict[str, Any], dict[Any, Any]]:
    topo.sim_reset()
    topo.sim_configure(batch_cache=way != "economy")
    database_id, columns = load(topo, pages, model, f"Corpus ({way})")
    mode = FillMode.NOW if way == "now" else FillMode.ECONOMY
    run_ids = fill(topo, database_id, columns, mode)
    result = wait_done(topo, run_ids, limit_s=3600)
    filled = values(topo, database_id, columns)
    if reference is not None:
        same = sum(1 for key, value in filled.items() if reference.get(key) == value)
        result["identical_to_now"] = round(same / max(len(filled), 1), 4)
    result["cached_tokens"] = topo.sim_stats().get("cached_tokens", 0)
    return result, filled


@click.command()
@click.option("--pages", default=6000, show_default=True, type=click.IntRange(1))
@click.option("--model", default="openai:gpt-4.1-mini", show_default=True)
@click.option("--latency-ms", default=800.0, show_default=True, type=float)
@click.option("--in-flight", default=100, show_default=True, type=click.IntRange(1))
@click.option("--batch-delay-s", default=20.0, show_default=True, type=float)
@click.option("--no-record", is_flag=True, help="Print the figures; leave bench/results.json.")
def main(
    pages: int,
    model: str,
    latency_ms: float,
    in_flight: int,
    batch_delay_s: float,
    no_record: bool,
) -> None:
    info = catalogue().get(model)
    text = corpus(pages)
    with topology(sim_args=["--latency-ms", str(latency_ms)], keep_logs=False) as topo:
        base = topo.sim_url.removesuffix("/v1")
        topo.env.update(
            {
                "OPENAI_API_KEY": "sk-sim",
                "OPENAI_BASE_URL": topo.sim_url,
                "ANTHROPIC_API_KEY": "sk-sim",
                "ANTHROPIC_BASE_URL": base,
                "AUTOFILL_BATCH_INTERVAL_S": "1",
                "AUTOFILL_BATCH_CHECK_FIRST_S": "2",
                "AUTOFILL_BATCH_CHECK_MAX_S": "5",
            }
        )
        topo.spawn("worker0", "worker", "--concurrency", str(in_flight), "-n", "w0@bench")
        topo.spawn("dispatcher", "dispatcher")
        wait_ready(topo, ["worker0"])
        topo.sim_configure(batch_delay_s=batch_delay_s)
        results: dict[str, Any] = {}
        reference = None
        for way in WAYS:
            result, filled = one_way(topo, text, model, way, reference)
            if way == "now":
                reference = filled
            results[way] = result
            click.echo(f"{way}: {result}")
    now, cheap, cached = (results[w]["cost_usd"] for w in WAYS)
    ratio = round(cached / now, 4) if now else float("nan")
    per_6000 = {w: round(results[w]["cost_usd"] * 6000 / pages, 4) for w in WAYS}
    click.echo(f"economy + caching ÷ now: {ratio} (target ≤ 0.55); per 6,000 pages: {per_6000}")
    if no_record:
        return
    record(
        "backfill_cost_economy_vs_now",
        ratio,
        "ratio of dollars",
        target="<= 0.55",
        met=ratio <= 0.55,
        command=f"python -m bench.backfill_cost --pages {pages} --model {model}",
        details={
            "model": model,
            "list_prices_per_million": {
                "input": info.input,
                "cached_input": info.cached_input,
                "output": info.output,
            },
            "batch_discount": info.batch_discount,
            "pages": pages,
            "columns": len(COLUMNS),
            "ways": results,
            "usd_per_6000_pages": per_6000,
            "economy_without_cache_vs_now": round(cheap / now, 4) if now else None,
            "notion_reported": "$5-6 for 6,000 pages, 2-3 M tokens, 20 minutes "
            "(issue 20; PRODUCT.md): their model and prompts",
            "median_page_chars": statistics.median(len(p) for p in text),
        },
    )


if __name__ == "__main__":
    main()
