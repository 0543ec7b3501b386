"""The simulator's HTTP server (aiohttp): thousands of slow requests in flight on one thread.

Provider paths: ``POST /v1/chat/completions`` (OpenAI; point ``OPENAI_BASE_URL`` at
``http://host:port/v1``) and ``POST /v1/messages`` (Anthropic; ``ANTHROPIC_BASE_URL`` at
``http://host:port``). Control paths, for tests and benchmarks in other processes:
``GET /_sim/requests``, ``GET /_sim/stats``, ``POST /_sim/config``, ``POST /_sim/reset``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from autofill.llm.simulator import batches, errors, limits
from autofill.llm.simulator.config import Fault, FaultPicker, SimConfig
from autofill.llm.simulator.errors import SimError
from autofill.llm.simulator.personas import persona
from autofill.llm.simulator.rules import check_anthropic, check_openai, openai_limit, prompt_tokens
from autofill.llm.simulator.wire import (
    PrefixCache,
    anthropic_answer,
    anthropic_input_tokens,
    openai_answer,
    request_texts,
)

_SECRET_HEADERS = {"authorization", "x-api-key", "api-key"}


class SimState:
    def __init__(self, config: SimConfig) -> None:
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)  # notified on each request recorded
        self.batch_lock = threading.Lock()  # one batch advance at a time
        self.configure(config)
        self.reset()

    def configure(self, config: SimConfig) -> None:
        with self.lock:
            self.config = config
            self.picker = FaultPicker(config)

    def reset(self) -> None:
        with self.lock:
            self.records: list[dict[str, Any]] = []
            self.statuses: Counter[str] = Counter()
            self.window = limits.Window()
            self.cache = PrefixCache()
            self.sequence = 0
            self.counted = 0  # count_tokens calls (not model calls: not in records)
            self.cached_tokens = 0  # prompt tokens answers reported read from the cache
            self.latency_total = 0.0  # seconds slept, over the requests that slept
            self.latency_count = 0
            self.book = batches.BatchBook()
            self.runner = batches.BatchRunner(self.book, self.cache, self.record, self.count_cached)

    def count_cached(self, protocol: str, payload: dict[str, Any]) -> None:
        usage = payload.get("usage") or {}
        if protocol == "openai":
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        else:
            cached = usage.get("cache_read_input_tokens") or 0
        with self.lock:
            self.cached_tokens += int(cached)

    def advance_batches(self, now: float) -> None:
        with self.batch_lock:
            self.runner.advance(self.config, now)

    def record(self, entry: dict[str, Any]) -> int:
        with self.lock:
            self.sequence += 1
            entry["seq"] = self.sequence
            self.records.append(entry)
            self.arrived.notify_all()
            return self.sequence

    def note(self, seq: int, **fields: Any) -> None:
        """Add to request ``seq``'s record; a request still in flight from before a ``reset``
        has no record any more, and is left alone."""
        with self.lock:
            if 0 < seq <= len(self.records) and self.records[seq - 1]["seq"] == seq:
                self.records[seq - 1].update(fields)

    def wait_for_requests(self, count: int, timeout: float) -> bool:
        """Block until ``count`` requests have arrived (True), or ``timeout`` passes (False)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.records) >= count, timeout)


def build_app(state: SimState) -> web.Application:
    # Room for the largest body a provider takes: a Message Batch of 256 MB (batches.py checks
    # the providers' own limits and answers as they do past them).
    app = web.Application(client_max_size=batches.ANTHROPIC_MAX_BYTES + 16 * 1024 * 1024)

    async def openai(request: web.Request) -> web.StreamResponse:
        return await _handle(request, state, "openai")

    async def anthropic(request: web.Request) -> web.StreamResponse:
        return await _handle(request, state, "anthropic")

    async def count_tokens(request: web.Request) -> web.Response:
        # POST /v1/messages/count_tokens: {"input_tokens": n} (anthropic 2.10.0
        # types/message_tokens_count.py), the figure a Messages call with this body reports.
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        request_id = limits.request_id()
        if not isinstance(body, dict):
            refused = errors.invalid("The request body is not valid JSON.")
            return web.json_response(refused.body("anthropic", request_id), status=400)
        model = str(body.get("model", ""))
        if persona("anthropic", model).kind == "missing":
            refused = errors.model_missing("anthropic", model)
            return web.json_response(refused.body("anthropic", request_id), status=404)
        with state.lock:
            state.counted += 1
        return web.json_response(
            {"input_tokens": anthropic_input_tokens(body)}, headers={"request-id": request_id}
        )

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "sim-1", "object": "model"}]})

    async def requests(_: web.Request) -> web.Response:
        with state.lock:
            return web.json_response(list(state.records))

    async def stats(_: web.Request) -> web.Response:
        with state.lock:
            return web.json_response(
                {
                    "requests": len(state.records),
                    "count_tokens": state.counted,
                    "cached_tokens": state.cached_tokens,
                    "statuses": dict(state.statuses),
                    "mean_latency_s": (
                        state.latency_total / state.latency_count if state.latency_count else 0.0
                    ),
                }
            )

    async def configure(request: web.Request) -> web.Response:
        merged = {**state.config.model_dump(mode="json"), **(await request.json())}
        state.configure(SimConfig.model_validate(merged))
        return web.json_response(state.config.model_dump(mode="json"))

    async def reset(_: web.Request) -> web.Response:
        state.reset()
        return web.json_response({"ok": True})

    _batch_routes(app, state)
    app.router.add_post("/v1/chat/completions", openai)
    app.router.add_post("/chat/completions", openai)
    app.router.add_post("/v1/messages", anthropic)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/_sim/requests", requests)
    app.router.add_get("/_sim/stats", stats)
    app.router.add_post("/_sim/config", configure)
    app.router.add_post("/_sim/reset", reset)
    return app


def _batch_routes(app: web.Application, state: SimState) -> None:
    """OpenAI's Files and Batch endpoints, Anthropic's Message Batches (batches.py)."""

    def refused(protocol: str, error: SimError) -> web.Response:
        request_id = limits.request_id()
        return web.json_response(error.body(protocol, request_id), status=error.status)

    def missing(protocol: str, what: str) -> web.Response:
        error = SimError(
            404,
            "not_found_error" if protocol == "anthropic" else "invalid_request_error",
            f"No such {what}",
        )
        return refused(protocol, error)

    def lookup(request: web.Request, protocol: str) -> batches.SimBatch | None:
        found = state.book.get(request.match_info["batch_id"])
        return found if found is not None and found.protocol == protocol else None

    async def advance() -> float:
        # Batches end when their time comes; answering thousands of requests is CPU work, so
        # it runs beside the event loop, one advance at a time.
        now = time.time()
        await asyncio.get_running_loop().run_in_executor(None, state.advance_batches, now)
        return now

    async def upload(request: web.Request) -> web.Response:
        form = await request.post()
        purpose = form.get("purpose")
        upload = form.get("file")
        if not isinstance(purpose, str) or purpose not in (
            "assistants",
            "batch",
            "fine-tune",
            "vision",
            "user_data",
            "evals",
        ):
            return refused(
                "openai",
                errors.invalid(
                    "purpose: one of assistants, batch, fine-tune, vision, user_data, evals",
                    param="purpose",
                ),
            )
        if not isinstance(upload, web.FileField):
            return refused("openai", errors.invalid("file: a file is required", param="file"))
        if purpose == "batch" and not (upload.filename or "").endswith(".jsonl"):
            # batches.py: OpenAI's own words for it, at upload.
            refusal = errors.invalid("Invalid file format for Batch API. Must be .jsonl")
            return refused("openai", refusal)
        content = upload.file.read()
        if purpose == "batch" and len(content) > batches.OPENAI_MAX_FILE_BYTES:
            # createFile: "The Batch API only supports .jsonl files up to 200 MB in size."
            refusal = errors.invalid("The Batch API only supports .jsonl files up to 200 MB.")
            return refused("openai", refusal)
        made = state.book.add_file(upload.filename or "upload", purpose, content)
        return web.json_response(made.object())

    async def file_info(request: web.Request) -> web.Response:
        found = state.book.file(request.match_info["file_id"])
        return web.json_response(found.object()) if found else missing("openai", "File object")

    async def file_content(request: web.Request) -> web.Response:
        found = state.book.file(request.match_info["file_id"])
        if found is None:
            return missing("openai", "File object")
        return web.Response(body=found.content, content_type="application/octet-stream")

    async def file_delete(request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if not state.book.delete_file(file_id):
            return missing("openai", "File object")
        return web.json_response({"id": file_id, "object": "file", "deleted": True})

    async def openai_create(request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        now = time.time()
        made, error = batches.openai_create(state.book, body, state.config, now)
        if error is not None or made is None:
            return refused("openai", error or errors.invalid("refused"))
        return web.json_response(batches.openai_object(made, now, state.config.batch_delay_s))

    async def openai_get(request: web.Request) -> web.Response:
        now = await advance()
        found = lookup(request, "openai")
        if found is None:
            return missing("openai", "batch")
        return web.json_response(batches.openai_object(found, now, state.config.batch_delay_s))

    async def openai_cancel(request: web.Request) -> web.Response:
        now = await advance()
        found = lookup(request, "openai")
        if found is None:
            return missing("openai", "batch")
        # A batch that has ended is left as it is (what OpenAI answers then is not documented).
        if found.ended is None and not found.failed_errors and found.cancel_at is None:
            found.cancel_at = now
        return web.json_response(batches.openai_object(found, now, state.config.batch_delay_s))

    async def openai_list(request: web.Request) -> web.Response:
        now = await advance()
        listed = state.book.listed("openai")
        after = request.query.get("after")
        if after:
            ids = [b.id for b in listed]
            listed = listed[ids.index(after) + 1 :] if after in ids else []
        limit = int(request.query.get("limit", "20"))
        page = listed[:limit]
        return web.json_response(
            {
                "object": "list",
                "data": [batches.openai_object(b, now, state.config.batch_delay_s) for b in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(listed) > limit,
            }
        )

    async def anthropic_create(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        now = time.time()
        made, error = batches.anthropic_create(state.book, body, len(raw), state.config, now)
        if error is not None or made is None:
            return refused("anthropic", error or errors.invalid("refused"))
        return web.json_response(batches.anthropic_object(made, now, _origin(request)))

    async def anthropic_get(request: web.Request) -> web.Response:
        now = await advance()
        found = lookup(request, "anthropic")
        if found is None:
            return missing("anthropic", "message batch")
        return web.json_response(batches.anthropic_object(found, now, _origin(request)))

    async def anthropic_cancel(request: web.Request) -> web.Response:
        now = await advance()
        found = lookup(request, "anthropic")
        if found is None:
            return missing("anthropic", "message batch")
        if found.ended is None and found.cancel_at is None:
            found.cancel_at = now
        return web.json_response(batches.anthropic_object(found, now, _origin(request)))

    async def anthropic_results(request: web.Request) -> web.Response:
        await advance()
        found = lookup(request, "anthropic")
        if found is None:
            return missing("anthropic", "message batch")
        if found.ended is None:  # results_url is set once it has ended (the SDK's results())
            return refused(
                "anthropic",
                errors.invalid("The message batch has not ended; its results are not ready."),
            )
        content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in found.results)
        return web.Response(body=content.encode(), content_type="application/binary")

    async def anthropic_list(request: web.Request) -> web.Response:
        now = await advance()
        listed = state.book.listed("anthropic")
        limit = int(request.query.get("limit", "20"))
        after = request.query.get("after_id")
        if after:
            ids = [b.id for b in listed]
            listed = listed[ids.index(after) + 1 :] if after in ids else []
        page = listed[:limit]
        return web.json_response(
            {
                "data": [batches.anthropic_object(b, now, _origin(request)) for b in page],
                "has_more": len(listed) > limit,
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
            }
        )

    for prefix in ("/v1", ""):  # OPENAI_BASE_URL with or without /v1
        app.router.add_post(prefix + "/files", upload)
        app.router.add_get(prefix + "/files/{file_id}", file_info)
        app.router.add_get(prefix + "/files/{file_id}/content", file_content)
        app.router.add_delete(prefix + "/files/{file_id}", file_delete)
        app.router.add_post(prefix + "/batches", openai_create)
        app.router.add_get(prefix + "/batches", openai_list)
        app.router.add_get(prefix + "/batches/{batch_id}", openai_get)
        app.router.add_post(prefix + "/batches/{batch_id}/cancel", openai_cancel)
    app.router.add_post("/v1/messages/batches", anthropic_create)
    app.router.add_get("/v1/messages/batches", anthropic_list)
    app.router.add_get("/v1/messages/batches/{batch_id}", anthropic_get)
    app.router.add_post("/v1/messages/batches/{batch_id}/cancel", anthropic_cancel)
    app.router.add_get("/v1/messages/batches/{batch_id}/results", anthropic_results)


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _handle(request: web.Request, state: SimState, protocol: str) -> web.StreamResponse:
    received = time.time()
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _SECRET_HEADERS}
    seq = state.record(
        {
            "protocol": protocol,
            "path": request.path,
            "headers": headers,
            "body": body,
            "received_at": received,
        }
    )
    config = state.config
    if not isinstance(body, dict):
        return _error(state, seq, protocol, errors.invalid("The request body is not valid JSON."))
    model = str(body.get("model", ""))
    who = persona(protocol, model)
    state.note(seq, persona=who.kind)
    if who.kind == "missing":
        return _error(state, seq, protocol, errors.model_missing(protocol, model))
    prompt = prompt_tokens(request_texts(protocol, body))  # counted once: rules and limits share it
    check = check_openai if protocol == "openai" else check_anthropic
    broken = check(body, who, prompt)
    if broken is not None:
        return _error(state, seq, protocol, broken)

    with state.lock:
        fault = state.picker.next_fault()
        latency = state.picker.latency_s()
    # What this request was given: a "200" can still be no answer (too late, truncated).
    state.note(seq, fault=fault.value)
    limit = openai_limit(body, who) if protocol == "openai" else body.get("max_tokens")
    tokens = prompt + (limit or 0)
    over = state.window.admit(received, tokens, config.rpm, config.tpm)
    if over is not None:
        kind, value, wait = over
        refused = errors.rate_limited(protocol, model, kind, value, wait)
        return _error(state, seq, protocol, refused, exhausted=kind)
    with state.lock:
        # Benchmarks compare throughput with in-flight ÷ the latency actually served.
        state.latency_total += latency
        state.latency_count += 1
    await asyncio.sleep(latency)

    if fault == Fault.RATE_LIMIT:
        wait = config.retry_after_s
        refused = errors.rate_limited(protocol, model, "requests", config.rpm or 0, wait)
        return _error(state, seq, protocol, refused, exhausted="requests", reset_s=wait)
    if fault == Fault.QUOTA:
        return _error(state, seq, protocol, errors.out_of_quota(protocol))
    if fault.value.isdigit():  # every other status fault: that provider's error for it
        sent = request.headers.get("authorization", "") or request.headers.get("x-api-key", "")
        refused = errors.by_status(protocol, int(fault.value), model, sent.removeprefix("Bearer "))
        return _error(state, seq, protocol, refused)
    if fault == Fault.TIMEOUT:
        await asyncio.sleep(config.timeout_s)
    if fault == Fault.DROP:
        if request.transport is not None:
            request.transport.close()
        return _finish(state, seq, web.Response(status=499))

    build = openai_answer if protocol == "openai" else anthropic_answer
    payload = build(body, who, state.cache, fault, config)
    state.count_cached(protocol, payload)
    payload["id"] = f"chatcmpl-sim{seq}" if protocol == "openai" else f"msg_sim{seq}"
    if protocol == "openai":
        payload["created"] = int(received)
    if fault == Fault.TRUNCATED:
        text = json.dumps(payload, ensure_ascii=False)
        response = web.Response(text=text[: len(text) // 2], content_type="application/json")
    elif fault in _MALFORMED:
        response = _MALFORMED[fault](payload, protocol)
    else:
        response = web.json_response(payload, dumps=lambda v: json.dumps(v, ensure_ascii=False))
    response.headers.update(
        limits.headers(protocol, state.window, time.time(), config.rpm, config.tpm)
    )
    return _finish(state, seq, response)


def _error(
    state: SimState,
    seq: int,
    protocol: str,
    error: SimError,
    *,
    exhausted: str | None = None,
    reset_s: float | None = None,
) -> web.StreamResponse:
    config = state.config
    now = time.time()
    sent = limits.headers(protocol, state.window, now, config.rpm, config.tpm, exhausted)
    if reset_s is not None and exhausted is not None and protocol == "openai":
        sent[f"x-ratelimit-reset-{exhausted}"] = f"{reset_s:.3f}s"
    sent.update(error.headers)
    request_id = sent.get("request-id") or sent.get("x-request-id", "")
    response = web.json_response(error.body(protocol, request_id), status=error.status)
    response.headers.update(sent)
    state.note(seq, error={"type": error.type, "code": error.code})
    return _finish(state, seq, response)


def _emptied(payload: dict[str, Any], protocol: str) -> web.Response:
    if protocol == "openai":
        return web.json_response({**payload, "choices": []})
    return web.json_response({**payload, "content": []})


def _mistyped(payload: dict[str, Any], protocol: str) -> web.Response:
    if protocol == "openai":
        wrong = {**payload, "choices": [{"index": "0", "message": "not an object"}]}
        return web.json_response({**wrong, "usage": {"prompt_tokens": "many"}})
    return web.json_response({**payload, "content": "not a list", "usage": None})


_MALFORMED: dict[Fault, Callable[[dict[str, Any], str], web.Response]] = {
    Fault.GARBAGE: lambda _p, _proto: web.Response(
        text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
    ),
    Fault.EMPTY: lambda _p, _proto: web.Response(body=b"", content_type="application/json"),
    Fault.SHAPELESS: lambda _p, _proto: web.json_response({"unexpected": True, "answer": 42}),
    Fault.NO_CHOICES: _emptied,
    Fault.WRONG_TYPES: _mistyped,
}


def _finish(state: SimState, seq: int, response: web.StreamResponse) -> web.StreamResponse:
    with state.lock:
        state.statuses[str(response.status)] += 1
    state.note(seq, status=response.status)
    return response


class Simulator:
    """The server on a background thread: ``with Simulator() as sim: sim.openai_base_url``."""

    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0):
        self.state = SimState(config or SimConfig())
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.records)

    def wait_for_requests(self, count: int = 1, timeout: float = 10.0) -> None:
        """Return once ``count`` model requests have arrived; AssertionError after ``timeout``."""
        if not self.state.wait_for_requests(count, timeout):
            raise AssertionError(f"{count} request(s) expected within {timeout} s")

    def configure(self, **changes: Any) -> None:
        merged = {**self.state.config.model_dump(), **changes}
        self.state.configure(SimConfig.model_validate(merged))

    def reset(self) -> None:
        self.state.reset()

    def start(self) -> Simulator:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            self._runner = web.AppRunner(build_app(self.state), access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
            ready.set()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="llm-sim", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the LLM simulator did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
