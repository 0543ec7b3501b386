"""Contract tests for economy fills: what we send to the batch interfaces, checked against the
providers' own sources (OpenAI's OpenAPI document, slice in data/; the anthropic SDK's request
types), and what the simulator answers, checked against the SDKs' response models in strict
mode and the OpenAPI document — not against each other.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2
import openai
import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages import MessageBatch, MessageBatchIndividualResponse
from anthropic.types.messages.batch_create_params import Request as AnthropicRequest
from openai.types import Batch, FileObject
from openai.types.chat import ChatCompletion

from autofill.fills.economy.build import batch_line
from autofill.llm import catalogue, registry
from autofill.llm.providers.batches import ENDPOINT
from autofill.llm.providers.openai_batches import OpenAIBatches
from autofill.llm.simulator import Simulator
from tests.contract import openapi
from tests.contract.test_requests import ANTHROPIC_FAMILIES, OPENAI_FAMILIES, OUTPUTS
from tests.contract.typed_dicts import problems
from tests.providers import request

# OpenAI's batch input line (platform.openai.com/docs/guides/batch, "Preparing your batch
# file"): these four keys; Anthropic's custom_id pattern (the Message Batches API reference).
OPENAI_LINE_KEYS = {"custom_id", "method", "url", "body"}
ANTHROPIC_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
CUSTOM_ID = "12-g3-0123456789abcdef"  # the shape autofill.fills.economy.build gives


def _line(model: str, output: Any) -> dict[str, Any]:
    route = registry.current().route(model)
    line, _ = batch_line(route, catalogue().get(model), CUSTOM_ID, request(model, output))
    return json.loads(line)  # type: ignore[no-any-return]


@pytest.mark.parametrize("model", [m for m in OPENAI_FAMILIES if not m.startswith("compat:")])
def test_openai_batch_lines_follow_the_document(providers: Simulator, model: str) -> None:
    for output in OUTPUTS:
        line = _line(model, output)
        assert set(line) == OPENAI_LINE_KEYS
        assert (line["method"], line["url"]) == ("POST", ENDPOINT)
        assert openapi.errors("CreateChatCompletionRequest", line["body"]) == [], (model, output)


@pytest.mark.parametrize("model", ANTHROPIC_FAMILIES)
def test_anthropic_batch_requests_follow_the_sdk_types(providers: Simulator, model: str) -> None:
    for output in OUTPUTS:
        line = _line(model, output)
        assert ANTHROPIC_CUSTOM_ID.match(line["custom_id"])
        assert problems(line, AnthropicRequest) == []
        assert problems(line["params"], MessageCreateParamsNonStreaming) == [], (model, output)


def test_the_create_call_follows_the_document(providers: Simulator) -> None:
    """The batches.create body, taken from the wire, against OpenAPI ``CreateBatchRequest``;
    the file upload names purpose ``batch`` and a ``.jsonl`` file (``createFile``)."""
    sent: list[httpx2.Request] = []
    client = openai.OpenAI(
        api_key="sk-test",
        base_url=providers.openai_base_url,
        max_retries=0,
        http_client=openai.DefaultHttpxClient(event_hooks={"request": [sent.append]}),
    )
    line = json.dumps(_line("openai:gpt-4.1-mini", OUTPUTS[0])).encode()
    OpenAIBatches(client).submit([line], "bat_test")
    upload, create = sent
    upload.read()
    assert upload.url.path.endswith("/files")
    assert b'name="purpose"\r\n\r\nbatch' in upload.content
    assert b'filename="autofill-bat_test.jsonl"' in upload.content
    body = json.loads(create.read())
    assert create.url.path.endswith("/batches")
    assert openapi.errors("CreateBatchRequest", body) == []
    assert body["metadata"] == {"autofill_batch": "bat_test"}


def _get(url: str) -> Any:
    response = httpx2.get(url, headers={"Authorization": "Bearer sk-test", "x-api-key": "k"})
    assert response.status_code == 200, response.text
    return response


def test_the_simulators_openai_batch_objects_fit_the_sdk_and_the_document(sim: Simulator) -> None:
    sim.configure(batch_delay_s=0.0, batch_schedule=["ok", "500", "expired"])
    client = openai.OpenAI(api_key="sk-test", base_url=sim.openai_base_url, max_retries=0)
    lines = [json.dumps({**_line_for_sim(n), "custom_id": f"c{n}"}).encode() for n in range(3)]
    batch_id, file_id = OpenAIBatches(client).submit(lines, "bat_objects")
    assert file_id is not None
    info = _get(f"{sim.openai_base_url}/files/{file_id}").json()
    FileObject.model_validate(info, strict=True)
    assert openapi.errors("OpenAIFile", info) == []
    seen = _get(f"{sim.openai_base_url}/batches/{batch_id}").json()
    Batch.model_validate(seen, strict=True)
    assert openapi.errors("Batch", seen) == []
    assert seen["status"] == "expired"  # one request was left undone by the window
    listed = _get(f"{sim.openai_base_url}/batches?limit=5").json()
    assert openapi.errors("ListBatchesResponse", listed) == []
    outputs = []
    for key in ("output_file_id", "error_file_id"):
        content = _get(f"{sim.openai_base_url}/files/{seen[key]}/content").text
        outputs += [json.loads(raw) for raw in content.splitlines()]
    assert sorted(o["custom_id"] for o in outputs) == ["c0", "c1", "c2"]
    for output in outputs:
        assert set(output) == {"id", "custom_id", "response", "error"}  # BatchRequestOutput
        if output["response"] and output["response"]["status_code"] == 200:
            ChatCompletion.model_validate(output["response"]["body"], strict=True)
    expired = next(o for o in outputs if o["custom_id"] == "c2")
    assert expired["error"]["code"] == "batch_expired" and expired["response"] is None


def _line_for_sim(n: int) -> dict[str, Any]:
    return {
        "custom_id": f"c{n}",
        "method": "POST",
        "url": ENDPOINT,
        "body": {
            "model": "sim-1",
            "messages": [{"role": "user", "content": f"<document>Page {n}</document>"}],
            "max_completion_tokens": 50,
        },
    }


def test_the_simulators_message_batches_fit_the_sdk(sim: Simulator) -> None:
    sim.configure(batch_delay_s=0.0, batch_schedule=["ok", "500", "expired"])
    requests = [
        {
            "custom_id": f"r{n}",
            "params": {
                "model": "claude-haiku-4-5",
                "max_tokens": 100,
                "messages": [{"role": "user", "content": f"<document>Page {n}</document>"}],
            },
        }
        for n in range(3)
    ]
    created = httpx2.post(
        f"{sim.base_url}/v1/messages/batches",
        json={"requests": requests},
        headers={"x-api-key": "k"},
    ).json()
    MessageBatch.model_validate(created, strict=False)  # datetimes arrive as strings
    seen = _get(f"{sim.base_url}/v1/messages/batches/{created['id']}").json()
    parsed = MessageBatch.model_validate(seen)
    assert parsed.processing_status == "ended" and parsed.results_url
    counts = parsed.request_counts
    assert (counts.succeeded, counts.errored, counts.expired, counts.processing) == (1, 1, 1, 0)
    lines = _get(parsed.results_url).text.splitlines()
    kinds = {}
    for raw in lines:
        item = MessageBatchIndividualResponse.model_validate_json(raw, strict=True)
        kinds[item.custom_id] = item.result.type
    assert kinds == {"r0": "succeeded", "r1": "errored", "r2": "expired"}


def test_the_simulator_refuses_what_the_providers_refuse(sim: Simulator) -> None:
    """Not vacuous: the providers' limits and rules, enforced."""
    duplicate = [{"custom_id": "same", "params": {}}] * 2
    refused = httpx2.post(f"{sim.base_url}/v1/messages/batches", json={"requests": duplicate})
    assert refused.status_code == 400 and "Duplicate custom_id" in refused.text
    spaced = [{"custom_id": "has space", "params": {}}]
    refused = httpx2.post(f"{sim.base_url}/v1/messages/batches", json={"requests": spaced})
    assert refused.status_code == 400 and "pattern" in refused.text
    client = openai.OpenAI(api_key="sk-test", base_url=sim.openai_base_url, max_retries=0)
    mixed = [
        json.dumps(_line_for_sim(0)).encode(),
        json.dumps({**_line_for_sim(1), "url": "/v1/embeddings"}).encode(),
    ]
    batch_id, _ = OpenAIBatches(client).submit(mixed, "bat_bad")
    failed = _get(f"{sim.openai_base_url}/batches/{batch_id}").json()
    assert failed["status"] == "failed"
    assert failed["errors"]["data"][0]["code"] == "url_mismatch"
    assert failed["errors"]["data"][0]["line"] == 2
    with pytest.raises(openai.BadRequestError, match=r"Must be \.jsonl"):
        client.files.create(file=("requests.json", b"{}"), purpose="batch")
    with pytest.raises(openai.BadRequestError, match="completion_window"):
        client.batches.create(
            input_file_id="file-x",
            endpoint="/v1/chat/completions",
            completion_window="48h",  # type: ignore[arg-type]
        )
