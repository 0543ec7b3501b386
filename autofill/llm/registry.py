"""From a model reference to the provider that serves it: a registry kinds register into.

A reference is ``<kind>:<name>``. Each kind registers a factory that turns the name into a
``Route`` (the provider, the model's name there, the key its rate limits share). The service's
registry is built from the settings (autofill.config), which read these variables:

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

Another kind (a new provider, or a test's fake) is one ``register`` call away; a process, the
CLI or a test installs a whole registry with ``use``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from autofill.config import Settings, compat_name, get_settings
from autofill.llm.errors import ProviderError
from autofill.llm.plan import TokenField

if TYPE_CHECKING:
    from autofill.llm.providers.base import Provider
    from autofill.llm.providers.batches import BatchAPI

# The adapters are imported by the route factories, when a route to their provider is first
# built: each imports its SDK (1-2 s and tens of megabytes), which a process that never calls
# that provider, or a command that calls none, should not load.

DEFAULT_SIM_URL = "http://127.0.0.1:8089/v1"


@dataclass(frozen=True)
class Route:
    provider: Provider
    model: str  # the name the provider knows the model by
    limit_key: str  # rate limits are shared per provider endpoint and key
    token_fields: tuple[TokenField, ...] | None = None  # None: as the catalogue says
    # The provider's batch interface (economy fills); None where it has none (compat servers).
    batches: BatchAPI | None = None


class NotConfigured(ProviderError):
    """The provider a reference names has no key or address configured here."""


RouteFactory = Callable[[str], Route]  # the name after ``<kind>:`` → its route


class Providers:
    """The provider kinds this process can call, by the prefix of a model reference."""

    def __init__(self) -> None:
        self._kinds: dict[str, RouteFactory] = {}

    def register(self, kind: str, factory: RouteFactory) -> None:
        """Serve ``<kind>:<name>`` references with ``factory(name)``; replaces an earlier one."""
        self._kinds[kind] = factory

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def route(self, reference: str) -> Route:
        kind, _, name = reference.partition(":")
        if not name:
            raise ProviderError(
                f"{reference!r} is not a model reference like 'openai:gpt-4.1-mini'"
            )
        factory = self._kinds.get(kind)
        if factory is None:
            raise ProviderError(f"unknown provider {kind!r} in {reference!r}")
        return factory(name)

    @classmethod
    def from_settings(cls, settings: Settings) -> Providers:
        """The four kinds the service ships, configured by ``settings``."""
        providers = cls()
        providers.register("openai", lambda name: _openai(settings, name))
        providers.register("anthropic", lambda name: _anthropic(settings, name))
        providers.register("compat", lambda name: _compat(settings, name))
        providers.register("sim", lambda name: _sim(settings.sim_url or DEFAULT_SIM_URL, name))
        return providers


def _openai(settings: Settings, name: str) -> Route:
    from autofill.llm.providers.clients import openai_client
    from autofill.llm.providers.openai_batches import OpenAIBatches
    from autofill.llm.providers.openai_chat import OpenAIChatProvider

    key = _required(settings.openai_api_key, "OPENAI_API_KEY", f"openai:{name}")
    base = settings.openai_base_url or None
    client = openai_client(base, key)
    return Route(
        OpenAIChatProvider(client),
        name,
        _limit_key("openai", base, key),
        None,
        OpenAIBatches(client),
    )


def _anthropic(settings: Settings, name: str) -> Route:
    from autofill.llm.providers.anthropic_batches import AnthropicBatches
    from autofill.llm.providers.anthropic_messages import AnthropicProvider
    from autofill.llm.providers.clients import anthropic_client

    key = _required(settings.anthropic_api_key, "ANTHROPIC_API_KEY", f"anthropic:{name}")
    base = settings.anthropic_base_url or None
    client = anthropic_client(base, key)
    return Route(
        AnthropicProvider(client),
        name,
        _limit_key("anthropic", base, key),
        None,
        AnthropicBatches(client),
    )


def _compat(settings: Settings, name: str) -> Route:
    from autofill.llm.providers.clients import openai_client
    from autofill.llm.providers.openai_chat import OpenAIChatProvider

    prefix = f"AUTOFILL_COMPAT_{compat_name(name)}"
    server = settings.compat.get(compat_name(name))
    if server is None or not server.base_url:
        raise NotConfigured(f"{prefix}_BASE_URL is not set, so compat:{name} cannot be called")
    key = server.api_key.get_secret_value() if server.api_key else "not-needed"
    provider = OpenAIChatProvider(openai_client(server.base_url, key), name=f"compat:{name}")
    fields = _TOKEN_PARAMS[server.token_param] if server.token_param else None
    return Route(provider, server.model or name, _limit_key("compat", server.base_url, key), fields)


def _sim(base: str, name: str) -> Route:
    from autofill.llm.providers.clients import openai_client
    from autofill.llm.providers.openai_batches import OpenAIBatches
    from autofill.llm.providers.openai_chat import OpenAIChatProvider

    client = openai_client(base, "sim")
    return Route(
        OpenAIChatProvider(client, name="simulator"),
        name,
        _limit_key("sim", base, "sim"),
        None,
        OpenAIBatches(client, name="simulator"),
    )


_TOKEN_PARAMS: dict[str, tuple[TokenField, ...]] = {
    "max_tokens": ("max_tokens",),
    "max_completion_tokens": ("max_completion_tokens",),
    "both": ("max_tokens", "max_completion_tokens"),
}


def _required(value: SecretStr | None, variable: str, reference: str) -> str:
    if value is None or not value.get_secret_value():
        raise NotConfigured(f"{variable} is not set, so {reference} cannot be called")
    return value.get_secret_value()


def _limit_key(kind: str, base_url: str | None, api_key: str) -> str:
    # The key itself never leaves this process: only a short digest names the limit.
    digest = hashlib.sha256(f"{base_url or ''}|{api_key}".encode()).hexdigest()[:16]
    return f"{kind}:{digest}"


_installed: Providers | None = None
_built: tuple[Settings, Providers] | None = None
_lock = threading.Lock()


def current() -> Providers:
    """The registry installed with ``use``, else the one the current settings describe."""
    global _built
    with _lock:
        if _installed is not None:
            return _installed
        settings = get_settings()
        if _built is None or _built[0] is not settings:
            _built = (settings, Providers.from_settings(settings))
        return _built[1]


def use(providers: Providers | None) -> Providers | None:
    """Install ``providers`` for this process (None: back to the settings' own); returns the
    registry it replaces."""
    global _installed
    with _lock:
        previous, _installed = _installed, providers
        return previous


def route(reference: str) -> Route:
    return current().route(reference)


def answers_notice(settings: Settings) -> str | None:
    """What a person starting the service must know when AI columns that name no model get
    simulated answers (the default, ``sim:sim-1``): said at start by `autofill serve` and
    `autofill worker`, so a deployment with no key does not look like one with a real model."""
    if not settings.default_model.startswith("sim:"):
        return None
    where = settings.sim_url or DEFAULT_SIM_URL
    return (
        f"AI columns that name no model use {settings.default_model}: SIMULATED answers from the "
        f"LLM simulator at {where} (run `autofill llm-sim`, or point AUTOFILL_SIM_URL at one). "
        "For real answers set OPENAI_API_KEY or ANTHROPIC_API_KEY and AUTOFILL_DEFAULT_MODEL "
        "(e.g. openai:gpt-4.1-mini)."
    )


def preload_sdks(settings: Settings) -> None:
    """Import the SDKs ``settings`` may route calls to, without building a client (a client
    holds a connection pool, which must not be shared across a fork): for a process that
    forks its workers after loading what they all need (worker.supervisor). The OpenAI SDK
    always: it serves OpenAI, OpenAI-compatible servers and the simulator (the default
    model's); the Anthropic one when a key for it is set."""
    import autofill.llm.providers.openai_chat

    if settings.anthropic_api_key is not None:
        import autofill.llm.providers.anthropic_messages  # noqa: F401
