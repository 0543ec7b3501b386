"""From a model reference to the provider that serves it, configured from the environment.

| reference          | protocol  | configuration                                                  |
| openai:<model>     | OpenAI    | OPENAI_API_KEY, OPENAI_BASE_URL (optional): the SDK's own      |
| anthropic:<model>  | Anthropic | ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (optional): the SDK's own |
| compat:<name>      | OpenAI    | AUTOFILL_COMPAT_<NAME>_BASE_URL, _API_KEY (optional), _MODEL,  |
|                    |           | _TOKEN_PARAM (optional: max_tokens, max_completion_tokens, both)|
| sim:<model>        | OpenAI    | AUTOFILL_SIM_URL (default http://127.0.0.1:8089/v1)            |

``<NAME>`` is the name upper-cased with non-alphanumerics as ``_`` (``compat:llama-3`` →
``AUTOFILL_COMPAT_LLAMA_3_BASE_URL``).

The output limit of an OpenAI-compatible server goes in ``max_tokens`` by default: Ollama's and
llama-cpp-python's OpenAI endpoints read only that field and generate on when given
``max_completion_tokens`` (docs.ollama.com/api/openai-compatibility, "Supported request fields");
vLLM reads both. ``_TOKEN_PARAM`` chooses per server.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from autofill.llm.errors import ProviderError
from autofill.llm.plan import TokenField
from autofill.llm.providers.anthropic_messages import AnthropicProvider
from autofill.llm.providers.base import Provider
from autofill.llm.providers.clients import anthropic_client, openai_client
from autofill.llm.providers.openai_chat import OpenAIChatProvider

DEFAULT_SIM_URL = "http://127.0.0.1:8089/v1"


@dataclass(frozen=True)
class Route:
    provider: Provider
    model: str  # the name the provider knows the model by
    limit_key: str  # rate limits are shared per provider endpoint and key
    token_fields: tuple[TokenField, ...] | None = None  # None: as the catalogue says


def route(reference: str) -> Route:
    kind, _, name = reference.partition(":")
    if not name:
        raise ProviderError(f"{reference!r} is not a model reference like 'openai:gpt-4.1-mini'")
    if kind == "openai":
        key = _required("OPENAI_API_KEY", reference)
        base = os.environ.get("OPENAI_BASE_URL") or None
        return Route(
            OpenAIChatProvider(openai_client(base, key)), name, _limit_key(kind, base, key)
        )
    if kind == "anthropic":
        key = _required("ANTHROPIC_API_KEY", reference)
        base = os.environ.get("ANTHROPIC_BASE_URL") or None
        return Route(
            AnthropicProvider(anthropic_client(base, key)), name, _limit_key(kind, base, key)
        )
    if kind == "compat":
        prefix = "AUTOFILL_COMPAT_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
        base = _required(f"{prefix}_BASE_URL", reference)
        key = os.environ.get(f"{prefix}_API_KEY") or "not-needed"
        model = os.environ.get(f"{prefix}_MODEL") or name
        provider = OpenAIChatProvider(openai_client(base, key), name=f"compat:{name}")
        fields = _token_fields(os.environ.get(f"{prefix}_TOKEN_PARAM"), f"{prefix}_TOKEN_PARAM")
        return Route(provider, model, _limit_key(kind, base, key), fields)
    if kind == "sim":
        base = os.environ.get("AUTOFILL_SIM_URL") or DEFAULT_SIM_URL
        provider = OpenAIChatProvider(openai_client(base, "sim"), name="simulator")
        return Route(provider, name, _limit_key(kind, base, "sim"))
    raise ProviderError(f"unknown provider {kind!r} in {reference!r}")


_TOKEN_PARAMS: dict[str, tuple[TokenField, ...]] = {
    "max_tokens": ("max_tokens",),
    "max_completion_tokens": ("max_completion_tokens",),
    "both": ("max_tokens", "max_completion_tokens"),
}


def _token_fields(value: str | None, variable: str) -> tuple[TokenField, ...] | None:
    if not value:
        return None
    try:
        return _TOKEN_PARAMS[value.strip().lower()]
    except KeyError:
        raise ProviderError(
            f"{variable}={value!r}: use one of {', '.join(_TOKEN_PARAMS)}"
        ) from None


def _required(variable: str, reference: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ProviderError(f"{variable} is not set, so {reference} cannot be called")
    return value


def _limit_key(kind: str, base_url: str | None, api_key: str) -> str:
    # The key itself never leaves this process: only a short digest names the limit.
    digest = hashlib.sha256(f"{base_url or ''}|{api_key}".encode()).hexdigest()[:16]
    return f"{kind}:{digest}"
