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
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from autofill.llm.simulator.config import Fault, FaultPicker, SimConfig
from autofill.llm.simulator.wire import (
    PrefixCache,
    anthropic_answer,
    anthropic_error,
    openai_answer,
    openai_error,
)

Answer = Callable[[dict[str, Any], PrefixCache, bool], dict[str, Any]]
Error = Callable[[int, str], dict[str, Any]]
_SECRET_HEADERS = {"authorization", "x-api-key", "api-key"}


class SimState:
    def __init__(self, config: SimConfig) -> None:
        self.lock = threading.Lock()
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
            self.accepted: deque[float] = deque()  # times of requests inside the rpm window
            self.cache = PrefixCache()
            self.sequence = 0
            self.latency_total = 0.0  # seconds slept, over the requests that slept
            self.latency_count = 0

    def admit(self, now: float) -> float | None:
        """None if the rpm limit lets this request in, else seconds until it would."""
        rpm = self.config.rpm
        if rpm is None:
            return None
        with self.lock:
            while self.accepted and self.accepted[0] <= now - 60:
                self.accepted.popleft()
            if len(self.accepted) >= rpm:
                return max(self.accepted[0] + 60 - now, 0.001)
            self.accepted.append(now)
            return None

    def remaining(self, now: float) -> tuple[int, float]:
        rpm = self.config.rpm or 0
        with self.lock:
            live = [t for t in self.accepted if t > now - 60]
        reset = (live[0] + 60 - now) if live else 0.0
        return max(rpm - len(live), 0), reset

    def record(self, entry: dict[str, Any]) -> int:
        with self.lock:
            self.sequence += 1
            entry["seq"] = self.sequence
            self.records.append(entry)
            return self.sequence


def build_app(state: SimState) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def openai(request: web.Request) -> web.StreamResponse:
        return await _handle(request, state, "openai", openai_answer, openai_error)

    async def anthropic(request: web.Request) -> web.StreamResponse:
        return await _handle(request, state, "anthropic", anthropic_answer, anthropic_error)

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

    app.router.add_post("/v1/chat/completions", openai)
    app.router.add_post("/chat/completions", openai)
    app.router.add_post("/v1/messages", anthropic)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/_sim/requests", requests)
    app.router.add_get("/_sim/stats", stats)
    app.router.add_post("/_sim/config", configure)
    app.router.add_post("/_sim/reset", reset)
    return app


async def _handle(
    request: web.Request, state: SimState, protocol: str, answer: Answer, error: Error
) -> web.StreamResponse:
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
    if not isinstance(body, dict):
        return _finish(state, seq, web.json_response(error(400, "body is not JSON"), status=400))

    with state.lock:
        fault = state.picker.next_fault()
        latency = state.picker.latency_s()
        # What this request was given: a "200" can still be no answer (too late, truncated).
        state.records[seq - 1]["fault"] = fault.value
    wait = state.admit(received)
    if wait is not None:
        return _finish(state, seq, _rate_limited(error, wait))
    with state.lock:
        # Benchmarks compare throughput with in-flight ÷ the latency actually served.
        state.latency_total += latency
        state.latency_count += 1
    await asyncio.sleep(latency)

    if fault == Fault.RATE_LIMIT:
        return _finish(state, seq, _rate_limited(error, state.config.retry_after_s))
    if fault.value.isdigit():  # every other status fault: an error body with that status
        status = int(fault.value)
        message = f"simulated {status}"
        if status == 401:
            # As careless providers do: the key that was sent, quoted back in full.
            sent = request.headers.get("authorization", "") or request.headers.get("x-api-key", "")
            message = f"simulated 401: incorrect API key provided: {sent.removeprefix('Bearer ')}"
        return _finish(state, seq, web.json_response(error(status, message), status=status))
    if fault == Fault.TIMEOUT:
        await asyncio.sleep(state.config.timeout_s)
    if fault == Fault.DROP:
        if request.transport is not None:
            request.transport.close()
        return _finish(state, seq, web.Response(status=499))

    payload = answer(body, state.cache, fault == Fault.INVALID)
    payload["id"] = f"sim-{seq}"
    if protocol == "openai":
        payload["created"] = int(received)
    if fault == Fault.TRUNCATED:
        text = json.dumps(payload, ensure_ascii=False)
        response = web.Response(text=text[: len(text) // 2], content_type="application/json")
    elif fault in _MALFORMED:
        response = _MALFORMED[fault](payload, protocol)
    else:
        response = web.json_response(payload, dumps=lambda v: json.dumps(v, ensure_ascii=False))
    _rate_headers(response, state, protocol)
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


def _rate_limited(error: Error, wait: float) -> web.Response:
    response = web.json_response(error(429, "simulated rate limit"), status=429)
    response.headers["retry-after"] = str(max(1, round(wait + 0.499)))
    response.headers["retry-after-ms"] = str(int(wait * 1000))
    return response


def _rate_headers(response: web.StreamResponse, state: SimState, protocol: str) -> None:
    if state.config.rpm is None:
        return
    remaining, reset = state.remaining(time.time())
    if protocol == "openai":
        response.headers["x-ratelimit-limit-requests"] = str(state.config.rpm)
        response.headers["x-ratelimit-remaining-requests"] = str(remaining)
        response.headers["x-ratelimit-reset-requests"] = f"{reset:.3f}s"
    else:
        at = datetime.now(UTC) + timedelta(seconds=reset)
        response.headers["anthropic-ratelimit-requests-limit"] = str(state.config.rpm)
        response.headers["anthropic-ratelimit-requests-remaining"] = str(remaining)
        response.headers["anthropic-ratelimit-requests-reset"] = at.isoformat().replace(
            "+00:00", "Z"
        )


def _finish(state: SimState, seq: int, response: web.StreamResponse) -> web.StreamResponse:
    with state.lock:
        state.statuses[str(response.status)] += 1
        state.records[seq - 1]["status"] = response.status
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
