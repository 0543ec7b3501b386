"""The providers' batch interfaces, simulated: OpenAI's Batch API and Anthropic's Message Batches.

Every rule here is the provider's own, with its source:

OpenAI (openai/openai-openapi openapi.json 2.3.0: ``createFile``, ``CreateFileRequest``,
``CreateBatchRequest``, ``Batch``, ``BatchRequestCounts``, ``BatchError``; openai-python 3.51.0
``types/batch.py``, ``types/batch_create_params.py``, ``types/file_object.py``):
- a batch's input is a JSONL file uploaded with ``purpose=batch``; the Batch API takes ``.jsonl``
  files of up to 200 MB (``createFile`` summary: refused at upload, as OpenAI answers "Invalid
  file format for Batch API. Must be .jsonl", quoted in BerriAI/litellm#37527) and up to
  50,000 requests (``CreateBatchRequest.input_file_id``);
- ``completion_window`` is ``24h`` only; each line names ``custom_id`` (unique in the file),
  ``url`` equal to the batch's ``endpoint`` and a ``body`` for that endpoint; one model per
  file (platform.openai.com/docs/guides/batch, "Preparing your batch file"). A file that breaks
  these fails the batch in ``validating`` (status ``failed``, ``errors.data`` of ``BatchError``:
  ``code``, ``line``, ``message``, ``param``). The codes are the ones OpenAI reports —
  ``invalid_json_line``, ``duplicate_custom_id``, ``url_mismatch``, ``model_mismatch``,
  ``empty_file``, ``too_many_tasks``, ``missing_required_parameter`` with its ``param`` — as
  quoted from real responses (community.openai.com/t/batch-api-is-now-available/718416;
  stdapi-ai/stdapi.ai#240): the API reference documents only BatchError's fields;
- statuses ``validating`` → ``in_progress`` → ``finalizing`` → ``completed``; ``expired`` when
  the window ends first; ``cancelling`` → ``cancelled``;
- results: ``output_file_id`` (requests that succeeded) and ``error_file_id`` (the rest), one
  ``BatchRequestOutput`` per line: ``{"id", "custom_id", "response": {"status_code",
  "request_id", "body"} | null, "error": {"code", "message"} | null}`` (OpenAPI 2.3.0
  ``BatchRequestOutput``); a request the window left undone has the error code
  ``batch_expired`` and the message below (platform.openai.com/docs/guides/batch, "Batch
  expiration", whose example line this copies).

Anthropic (anthropic 2.10.0 ``resources/messages/batches.py``, ``types/messages/*.py``;
platform.claude.com/docs/en/build-with-claude/batch-processing):
- ``POST /v1/messages/batches`` with ``requests: [{custom_id, params}]``: at most 100,000
  requests or 256 MB, whichever comes first (past the bytes: 413 ``request_too_large``,
  platform.claude.com/docs/en/api/errors); ``custom_id`` unique in the batch, matching
  ``^[a-zA-Z0-9_-]{1,64}$`` (platform.claude.com/docs/en/api/csharp/messages/batches:
  ``requests`` minItems 1, maxItems 100000; ``custom_id`` minLength 1, maxLength 64, that
  pattern);
- ``processing_status`` ``in_progress`` → ``ended`` (``canceling`` between a cancel and the
  end); ``request_counts`` stay ``processing`` until the whole batch ends ("Requests start as
  processing and move to one of the other statuses only once processing of the entire batch
  ends", ``message_batch_request_counts.py``); ``expires_at`` is 24 hours after creation;
- results are JSONL at ``results_url``, each ``{"custom_id", "result": {"type": "succeeded",
  "message"} | {"type": "errored", "error"} | {"type": "canceled"} | {"type": "expired"}}``, in
  any order; params are checked per request, so a bad request is an ``errored`` result.

What the simulator adds, as settings (``SimConfig``): ``batch_delay_s`` until a batch ends,
faults per request (``batch_error_rates``: ``500`` an errored request, ``invalid``, ``refusal``,
``length`` as in live calls, ``expired`` a request the window left undone), and whether batch
requests read the prompt cache (``batch_cache``).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from autofill.llm.simulator import errors
from autofill.llm.simulator.config import Fault, SimConfig
from autofill.llm.simulator.errors import SimError
from autofill.llm.simulator.personas import persona
from autofill.llm.simulator.rules import check_anthropic, check_openai, prompt_tokens
from autofill.llm.simulator.wire import (
    PrefixCache,
    anthropic_answer,
    openai_answer,
    request_texts,
)

OPENAI_MAX_REQUESTS = 50_000
OPENAI_MAX_FILE_BYTES = 200 * 1024 * 1024
OPENAI_ENDPOINTS = ("/v1/chat/completions",)  # the one the simulator answers
ANTHROPIC_MAX_REQUESTS = 100_000
ANTHROPIC_MAX_BYTES = 256 * 1024 * 1024
ANTHROPIC_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
WINDOW_S = 24 * 3600
# Faults a batch request can be given (the rest of Fault concerns live HTTP calls).
BATCH_FAULTS = (
    Fault.OK,
    Fault.SERVER_ERROR,
    Fault.OVERLOADED,
    Fault.BAD_REQUEST,
    Fault.INVALID,
    Fault.REFUSAL,
    Fault.LENGTH,
    Fault.BLANK,
    Fault.EXPIRED,
)


@dataclass
class SimFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            # "By default, files with purpose=batch expire after 30 days" (openai-python
            # 3.51.0 resources/files.py, expires_after); OpenAPI OpenAIFile: an integer.
            "expires_at": self.created_at + 30 * 86_400,
        }


@dataclass
class SimBatch:
    id: str
    protocol: str  # openai | anthropic
    requests: list[dict[str, Any]]  # openai: the input lines; anthropic: {custom_id, params}
    created: float
    endpoint: str = ""
    input_file_id: str = ""
    metadata: dict[str, str] | None = None
    model: str | None = None
    cancel_at: float | None = None
    ended: float | None = None
    failed_errors: list[dict[str, Any]] | None = None  # openai: validation failed
    results: list[dict[str, Any]] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    expired: bool = False


class BatchBook:
    """The simulator's files and batches, and the clock that moves them on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[str, SimFile] = {}
        self.batches: dict[str, SimBatch] = {}
        self.order: list[str] = []  # batch ids, oldest first

    # --- files -------------------------------------------------------------------------------
    def add_file(self, filename: str, purpose: str, content: bytes) -> SimFile:
        made = SimFile(_id("file-"), filename, purpose, content, int(time.time()))
        with self.lock:
            self.files[made.id] = made
        return made

    def file(self, file_id: str) -> SimFile | None:
        with self.lock:
            return self.files.get(file_id)

    def delete_file(self, file_id: str) -> bool:
        with self.lock:
            return self.files.pop(file_id, None) is not None

    # --- batches -----------------------------------------------------------------------------
    def add(self, batch: SimBatch) -> None:
        with self.lock:
            self.batches[batch.id] = batch
            self.order.append(batch.id)

    def get(self, batch_id: str) -> SimBatch | None:
        with self.lock:
            return self.batches.get(batch_id)

    def listed(self, protocol: str) -> list[SimBatch]:
        with self.lock:
            return [
                self.batches[i]
                for i in reversed(self.order)
                if self.batches[i].protocol == protocol
            ]


def _id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


# --- OpenAI ----------------------------------------------------------------------------------


def openai_create(
    book: BatchBook, body: Any, config: SimConfig, now: float
) -> tuple[SimBatch | None, SimError | None]:
    """``POST /v1/batches``: checked as the API reference says; the file's lines are checked
    when the batch is validated (a bad file fails the batch, not the call)."""
    if not isinstance(body, dict):
        return None, errors.invalid("The request body is not valid JSON.")
    file_id = body.get("input_file_id")
    endpoint = body.get("endpoint")
    window = body.get("completion_window")
    if window != "24h":
        return None, errors.invalid(
            "Invalid value for 'completion_window': only '24h' is supported.",
            param="completion_window",
        )
    if endpoint not in (
        "/v1/responses",
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/completions",
        "/v1/moderations",
        "/v1/images/generations",
        "/v1/images/edits",
        "/v1/videos",
    ):
        return None, errors.invalid(f"Invalid endpoint {endpoint!r}.", param="endpoint")
    source = book.file(str(file_id)) if isinstance(file_id, str) else None
    if source is None:
        return None, errors.invalid(f"No such File object: {file_id}", param="input_file_id")
    if source.purpose != "batch":
        return None, errors.invalid(
            f"File {file_id} was not uploaded with purpose 'batch'.", param="input_file_id"
        )
    metadata = body.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict)
        or len(metadata) > 16
        or any(len(str(k)) > 64 or len(str(v)) > 512 for k, v in metadata.items())
    ):
        return None, errors.invalid(
            "metadata: at most 16 pairs, keys of 64 characters, values of 512", param="metadata"
        )
    lines, problems, model = _openai_lines(source, str(endpoint))
    batch = SimBatch(
        id=_id("batch_"),
        protocol="openai",
        requests=lines,
        created=now,
        endpoint=str(endpoint),
        input_file_id=source.id,
        metadata=metadata,
        model=model,
        failed_errors=problems or None,
    )
    book.add(batch)
    return batch, None


def _openai_lines(
    source: SimFile, endpoint: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    problems: list[dict[str, Any]] = []

    def problem(code: str, line: int | None, message: str, param: str | None = None) -> None:
        problems.append({"code": code, "line": line, "message": message, "param": param})

    lines: list[dict[str, Any]] = []
    seen: set[str] = set()
    models: set[str] = set()
    for number, raw in enumerate(source.content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            problem("invalid_json_line", number, "This line is not parseable as valid JSON.")
            continue
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            problem(
                "missing_required_parameter",
                number,
                "Missing required parameter: 'custom_id'.",
                param="custom_id",
            )
            continue
        if line["custom_id"] in seen:
            problem("duplicate_custom_id", number, "The custom_id for this request is a duplicate.")
        seen.add(line["custom_id"])
        if line.get("url") != endpoint:
            problem("url_mismatch", number, f"The url must be the batch's endpoint {endpoint}.")
        body = line.get("body")
        if not isinstance(body, dict):
            problem(
                "missing_required_parameter",
                number,
                "Missing required parameter: 'body'.",
                param="body",
            )
            continue
        models.add(str(body.get("model", "")))
        lines.append(line)
    if len(lines) > OPENAI_MAX_REQUESTS:
        problem("too_many_tasks", None, "A batch holds at most 50,000 requests.")
    if len(models) > 1:
        problem("model_mismatch", None, "Every request in a batch must use the same model.")
    if not lines and not problems:
        problem("empty_file", None, "The input file has no requests.")
    return lines, problems, next(iter(models), None)


def openai_status(batch: SimBatch, now: float) -> str:
    if batch.failed_errors:
        return "failed"
    if batch.ended is not None:
        if batch.cancel_at is not None:
            return "cancelled"
        return "expired" if batch.expired else "completed"
    if batch.cancel_at is not None:
        return "cancelling"
    return "validating" if now - batch.created < 0.2 else "in_progress"


def openai_object(batch: SimBatch, now: float, delay_s: float) -> dict[str, Any]:
    status = openai_status(batch, now)
    total = len(batch.requests)
    if batch.ended is not None:
        failed = sum(1 for r in batch.results if r.get("error") or _status(r) != 200)
        completed = len(batch.results) - failed
    else:
        span = max(delay_s, 1e-9)
        completed = min(int(total * (now - batch.created) / span), total)
        failed = 0
    stamp = int(batch.created)
    ended = int(batch.ended) if batch.ended is not None else None
    # Fields with no value yet are left out: OpenAPI 2.3.0 ``Batch`` types them without null
    # and requires only id, object, endpoint, input_file_id, completion_window, status and
    # created_at (the SDK's ``Batch`` makes the rest Optional).
    shown = {
        "id": batch.id,
        "object": "batch",
        "endpoint": batch.endpoint,
        "model": batch.model,
        "errors": (
            {"object": "list", "data": batch.failed_errors} if batch.failed_errors else None
        ),
        "input_file_id": batch.input_file_id,
        "completion_window": "24h",
        "status": status,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "created_at": stamp,
        "in_progress_at": stamp if status != "validating" and not batch.failed_errors else None,
        "expires_at": stamp + WINDOW_S,
        "finalizing_at": ended if status in ("completed", "expired") else None,
        "completed_at": ended if status == "completed" else None,
        "failed_at": stamp if status == "failed" else None,
        "expired_at": ended if status == "expired" else None,
        "cancelling_at": int(batch.cancel_at) if batch.cancel_at is not None else None,
        "cancelled_at": ended if status == "cancelled" else None,
        "request_counts": {
            "total": 0 if batch.failed_errors else total,
            "completed": 0 if batch.failed_errors else completed,
            "failed": failed,
        },
        "metadata": batch.metadata,
    }
    return {key: value for key, value in shown.items() if value is not None}


def _status(result: dict[str, Any]) -> int:
    response = result.get("response") or {}
    return int(response.get("status_code") or 0)


# --- Anthropic -------------------------------------------------------------------------------


def anthropic_create(
    book: BatchBook, body: Any, size: int, config: SimConfig, now: float
) -> tuple[SimBatch | None, SimError | None]:
    if size > ANTHROPIC_MAX_BYTES:
        return None, SimError(
            413, "request_too_large", "Request exceeds the maximum size of 256 MB"
        )
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        return None, errors.invalid("requests: Field required")
    requests = body["requests"]
    if not requests:
        return None, errors.invalid("requests: List should have at least 1 item")
    if len(requests) > ANTHROPIC_MAX_REQUESTS:
        return None, errors.invalid("requests: a batch holds at most 100,000 requests")
    seen: set[str] = set()
    for index, item in enumerate(requests):
        custom_id = item.get("custom_id") if isinstance(item, dict) else None
        if not isinstance(custom_id, str) or not ANTHROPIC_CUSTOM_ID.match(custom_id):
            return None, errors.invalid(
                f"requests.{index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            )
        if custom_id in seen:
            return None, errors.invalid(
                f"requests.{index}.custom_id: Duplicate custom_id {custom_id!r}; each "
                "request in a batch needs a unique custom_id"
            )
        seen.add(custom_id)
        if not isinstance(item.get("params"), dict):
            return None, errors.invalid(f"requests.{index}.params: Field required")
    batch = SimBatch(
        id=_id("msgbatch_"),
        protocol="anthropic",
        requests=requests,
        created=now,
    )
    book.add(batch)
    return batch, None


def anthropic_object(batch: SimBatch, now: float, base_url: str) -> dict[str, Any]:
    ended = batch.ended is not None
    counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    if ended:
        for result in batch.results:
            kind = result["result"]["type"]
            counts[{"canceled": "canceled"}.get(kind, kind)] += 1
    else:
        counts["processing"] = len(batch.requests)
    status = "ended" if ended else ("canceling" if batch.cancel_at is not None else "in_progress")
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": counts,
        "created_at": _iso(batch.created),
        "expires_at": _iso(batch.created + WINDOW_S),
        "ended_at": _iso(batch.ended) if ended and batch.ended is not None else None,
        "cancel_initiated_at": _iso(batch.cancel_at) if batch.cancel_at is not None else None,
        "archived_at": None,
        "results_url": (f"{base_url}/v1/messages/batches/{batch.id}/results" if ended else None),
    }


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")


# --- moving batches on -----------------------------------------------------------------------


class BatchRunner:
    """Ends batches when their time comes (``batch_delay_s`` after their creation, as the
    setting is when they are looked at): each request answered as a live call would be
    (the same rules and answers), or given the fault the settings draw for it."""

    def __init__(self, book: BatchBook, cache: PrefixCache, record: Any, count_cached: Any) -> None:
        self.book = book
        self.cache = cache
        self.record = record  # SimState.record: batch requests are logged like live ones
        self.count_cached = count_cached  # and their cache reads counted like live ones

    def advance(self, config: SimConfig, now: float) -> None:
        for batch in list(self.book.batches.values()):
            if batch.ended is not None or batch.failed_errors:
                continue
            if batch.cancel_at is not None and now >= batch.cancel_at + config.batch_cancel_s:
                self._end(batch, config, now, cancelled=True)
            elif batch.cancel_at is None and now >= batch.created + config.batch_delay_s:
                self._end(batch, config, now, cancelled=False)

    def _end(self, batch: SimBatch, config: SimConfig, now: float, *, cancelled: bool) -> None:
        picker = random.Random(f"{config.seed}:{batch.id}")
        schedule = list(config.batch_schedule)
        answered: list[dict[str, Any] | None] = []
        any_expired = False
        for request in batch.requests:
            fault = schedule.pop(0) if schedule else _draw(picker, config.batch_error_rates)
            if cancelled:
                fault = Fault.EXPIRED  # not processed: reported as canceled below
            any_expired |= fault == Fault.EXPIRED and not cancelled
            if batch.protocol == "openai":
                answered.append(self._openai_result(batch, request, fault, config, cancelled))
            else:
                answered.append(self._anthropic_result(batch, request, fault, config, cancelled))
        results = [r for r in answered if r is not None]
        with self.book.lock:
            batch.results = results
            batch.expired = any_expired
            batch.ended = now
        if batch.protocol == "openai":
            good = [r for r in results if r.get("error") is None and _status(r) == 200]
            bad = [r for r in results if r not in good]
            if good:
                batch.output_file_id = self._jsonl(f"{batch.id}_output.jsonl", good)
            if bad:
                batch.error_file_id = self._jsonl(f"{batch.id}_error.jsonl", bad)

    def _jsonl(self, name: str, lines: list[dict[str, Any]]) -> str:
        content = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        return self.book.add_file(name, "batch_output", content.encode()).id

    def _openai_result(
        self,
        batch: SimBatch,
        line: dict[str, Any],
        fault: Fault,
        config: SimConfig,
        cancelled: bool,
    ) -> dict[str, Any] | None:
        custom_id = line["custom_id"]
        if cancelled:
            return None  # a cancelled batch's undone requests are in neither file
        if fault == Fault.EXPIRED:
            return {
                "id": _id("batch_req_"),
                "custom_id": custom_id,
                "response": None,
                "error": {
                    "code": "batch_expired",
                    "message": "This request could not be executed before the completion "
                    "window expired.",
                },
            }
        status, body = self._answer("openai", line["body"], fault, config, batch.id)
        return {
            "id": _id("batch_req_"),
            "custom_id": custom_id,
            "response": {"status_code": status, "request_id": _id("req_"), "body": body},
            "error": None,
        }

    def _anthropic_result(
        self,
        batch: SimBatch,
        item: dict[str, Any],
        fault: Fault,
        config: SimConfig,
        cancelled: bool,
    ) -> dict[str, Any]:
        custom_id = item["custom_id"]
        if cancelled:
            return {"custom_id": custom_id, "result": {"type": "canceled"}}
        if fault == Fault.EXPIRED:
            return {"custom_id": custom_id, "result": {"type": "expired"}}
        status, body = self._answer("anthropic", item["params"], fault, config, batch.id)
        if status != 200:
            return {"custom_id": custom_id, "result": {"type": "errored", "error": body}}
        body["id"] = _id("msg_")
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": body}}

    def _answer(
        self, protocol: str, body: dict[str, Any], fault: Fault, config: SimConfig, batch_id: str
    ) -> tuple[int, dict[str, Any]]:
        self.record(
            {
                "protocol": protocol,
                "path": "batch",
                "batch_id": batch_id,
                "headers": {},
                "body": body,
                "received_at": time.time(),
                "fault": fault.value,
            }
        )
        model = str(body.get("model", ""))
        who = persona(protocol, model)
        request_id = _id("req_")
        if who.kind == "missing":
            return 404, errors.model_missing(protocol, model).body(protocol, request_id)
        texts = request_texts(protocol, body)
        check = check_openai if protocol == "openai" else check_anthropic
        broken = check(body, who, prompt_tokens(texts))
        if broken is not None:
            return broken.status, broken.body(protocol, request_id)
        if fault.value.isdigit():
            refused = errors.by_status(protocol, int(fault.value), model, "")
            return refused.status, refused.body(protocol, request_id)
        cache = self.cache if config.batch_cache else PrefixCache()
        build = openai_answer if protocol == "openai" else anthropic_answer
        payload = build(body, who, cache, fault, config)
        self.count_cached(protocol, payload)
        if protocol == "openai":
            payload["id"] = _id("chatcmpl-")
            payload["created"] = int(time.time())
        return 200, payload


def _draw(picker: random.Random, rates: dict[Fault, float]) -> Fault:
    draw = picker.random()
    for fault, rate in rates.items():
        if draw < rate:
            return fault
        draw -= rate
    return Fault.OK
