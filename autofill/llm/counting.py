"""How many input tokens a prompt is, and how that figure was obtained.

- ``tiktoken``: exact; the model's own tokenizer (OpenAI's models, the simulator).
- ``count_tokens``: exact; Anthropic counted it (``POST /v1/messages/count_tokens``). Used where
  a person reads the figure before anything is sent (a prompt preview) and an
  ``ANTHROPIC_API_KEY`` is set; each distinct prompt is counted once per process.
- ``estimate``: o200k counts × the model family's factor (catalogue ``token_factor``), a
  deliberate over-estimate. Budgets always use it for Claude (a fill does not wait on a
  counting call; the provider reports the exact figure with the answer).

Every token figure shown before a call says which of the three it is.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Literal

from autofill.llm import registry
from autofill.llm.catalogue import ModelInfo, catalogue
from autofill.llm.errors import ProviderError
from autofill.llm.plan import plan_call
from autofill.llm.registry import NotConfigured
from autofill.llm.typed import is_structured
from autofill.llm.types import LLMRequest
from autofill.logs import get_logger

TokenSource = Literal["tiktoken", "count_tokens", "estimate"]
_MEMO_SIZE = 4096
_COUNT_TIMEOUT_S = 10.0

log = get_logger(__name__)
_memo: OrderedDict[str, int] = OrderedDict()
_lock = threading.Lock()


def source_of(info: ModelInfo) -> TokenSource:
    return "estimate" if info.estimated_counts else "tiktoken"


def provider_count(request: LLMRequest) -> int | None:
    """The prompt's input tokens as its provider counts them, where the provider can be asked
    (Anthropic, with a key); None otherwise, or when asking failed (logged)."""
    info = catalogue().get(request.model)
    if info.provider != "anthropic":
        return None
    try:
        target = registry.current().route(request.model)
    except NotConfigured:  # no key: the estimate is all there is, and that is no failure
        return None
    except ProviderError as exc:
        log.warning("count_tokens failed; the figure shown is an estimate", error=exc.message)
        return None
    key = _key(request)
    with _lock:
        if key in _memo:
            _memo.move_to_end(key)
            return _memo[key]
    # Imported here: the adapter imports the anthropic SDK, which only a process that counts
    # an Anthropic prompt needs.
    from autofill.llm.providers.anthropic_messages import AnthropicProvider

    try:
        if not isinstance(target.provider, AnthropicProvider):
            return None
        plan = plan_call(
            info,
            request.max_output_tokens,
            request.temperature,
            typed=is_structured(request.output),
        )
        counted = target.provider.count_tokens(request, target.model, plan, _COUNT_TIMEOUT_S)
    except ProviderError as exc:
        log.warning("count_tokens failed; the figure shown is an estimate", error=exc.message)
        return None
    with _lock:
        _memo[key] = counted
        while len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return counted


def _key(request: LLMRequest) -> str:
    raw = json.dumps(
        [
            request.model,
            request.output.model_dump(mode="json"),
            [[m.role, m.content, m.cache_boundary] for m in request.messages],
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(raw.encode()).hexdigest()
