"""The provider registry: kinds register a route factory; the service's kinds come from the
settings; a Completer routes through the registry it was given, else the process's."""

from __future__ import annotations

import pytest

from autofill.config import CompatServer, Settings
from autofill.llm import registry
from autofill.llm.errors import FillFailed, ProviderError
from autofill.llm.providers.clients import openai_client
from autofill.llm.providers.openai_chat import OpenAIChatProvider
from autofill.llm.registry import NotConfigured, Providers, Route
from autofill.llm.simulator import Simulator
from tests.conftest import Configure
from tests.providers import completer, request


def _team_kind(sim: Simulator) -> Providers:
    """A registry with one more kind: `team:<model>`, a team's own gateway (the simulator)."""
    providers = Providers.from_settings(Settings())
    client = openai_client(sim.openai_base_url, "team-key")

    def team(name: str) -> Route:
        return Route(OpenAIChatProvider(client, name="team"), f"gateway/{name}", "team:one")

    providers.register("team", team)
    return providers


def test_a_registered_kind_serves_its_references(sim: Simulator) -> None:
    providers = _team_kind(sim)
    assert providers.kinds == ("openai", "anthropic", "compat", "sim", "team")
    routed = providers.route("team:sim-1")
    assert routed.model == "gateway/sim-1" and routed.limit_key == "team:one"


def test_a_completer_routes_through_the_registry_it_was_given(sim: Simulator) -> None:
    providers = Providers()
    client = openai_client(sim.openai_base_url, "gateway-key")
    # sim: references served under another name, as a gateway in front of a model might.
    providers.register(
        "sim", lambda name: Route(OpenAIChatProvider(client), f"{name}-gw", "gateway:one")
    )
    result = completer(providers=providers).complete(request("sim:sim-1"))
    assert result.value.startswith("[sim]")
    assert sim.requests[-1]["body"]["model"] == "sim-1-gw"


def test_the_process_registry_is_the_one_installed(sim: Simulator) -> None:
    team = _team_kind(sim)
    registry.use(team)  # undone after the test (tests/conftest.py)
    assert registry.current() is team
    registry.use(None)
    assert "team" not in registry.current().kinds  # back to the settings' own


def test_the_settings_registry_follows_the_settings(configure: Configure) -> None:
    configure(sim_url="http://127.0.0.1:9/v1")
    first = registry.current()
    assert registry.current() is first  # built once per settings
    configure(sim_url="http://127.0.0.1:10/v1")
    assert registry.current() is not first


def test_references_that_cannot_be_routed_say_why(configure: Configure) -> None:
    configure(openai_api_key=None, compat={})
    providers = registry.current()
    with pytest.raises(NotConfigured, match="OPENAI_API_KEY is not set"):
        providers.route("openai:gpt-4.1-mini")
    with pytest.raises(NotConfigured, match="AUTOFILL_COMPAT_LLAMA_3_BASE_URL is not set"):
        providers.route("compat:llama-3")
    with pytest.raises(ProviderError, match="unknown provider 'bedrock'"):
        providers.route("bedrock:titan")
    with pytest.raises(ProviderError, match="not a model reference"):
        providers.route("gpt-4.1-mini")


def test_an_unroutable_model_fails_the_fill_without_a_call(
    sim: Simulator, configure: Configure
) -> None:
    configure(openai_api_key=None)
    with pytest.raises(FillFailed, match="OPENAI_API_KEY is not set") as info:
        completer().complete(request("openai:gpt-4.1-mini"))
    assert info.value.calls == 0 and sim.requests == []


def test_compat_servers_come_from_their_settings(configure: Configure) -> None:
    server = CompatServer(
        base_url="http://127.0.0.1:11434/v1", model="llama3.1:8b", token_param="both"
    )
    configure(compat={"LLAMA_3": server})
    routed = registry.current().route("compat:llama-3")
    assert routed.model == "llama3.1:8b"
    assert routed.token_fields == ("max_tokens", "max_completion_tokens")
    assert routed.limit_key.startswith("compat:") and "not-needed" not in routed.limit_key


def test_a_simulated_default_model_is_said_at_start() -> None:
    notice = registry.answers_notice(Settings(sim_url="http://llm-sim:8089/v1"))
    assert notice is not None
    assert "sim:sim-1" in notice and "SIMULATED" in notice
    assert "http://llm-sim:8089/v1" in notice and "autofill llm-sim" in notice
    assert registry.answers_notice(Settings(default_model="openai:gpt-4.1-mini")) is None
