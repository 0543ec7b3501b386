from __future__ import annotations

import json
from pathlib import Path

import pytest

from autofill.llm.catalogue import ModelRefused, load_catalogue


def test_known_models_and_provider_defaults() -> None:
    catalogue = load_catalogue()
    assert catalogue.get("openai:gpt-4.1-mini").context_window == 1047576
    assert catalogue.get("compat:llama").input == 0
    with pytest.raises(ModelRefused, match="not in the model catalogue"):
        catalogue.get("acme:model")


@pytest.mark.parametrize("model", ["openai:some-future-model", "anthropic:claude-next"])
def test_unknown_models_are_refused_not_priced_by_a_guess(model: str) -> None:
    """The old catalogue priced any openai:* at gpt-4o's rates and any anthropic:* at
    Sonnet's: up to 30x off for a small model."""
    with pytest.raises(ModelRefused) as info:
        load_catalogue().get(model)
    assert info.value.code == "unknown_model"
    assert "AUTOFILL_MODEL_CATALOGUE" in info.value.message


def test_cost_prices_cached_and_written_tokens_apart() -> None:
    sonnet = load_catalogue().get("anthropic:claude-opus-5")
    # 10k prompt tokens of which 6k read from cache and 2k written to it, 500 out.
    expected = (2_000 * 5.0 + 6_000 * 0.5 + 2_000 * 6.25 + 500 * 25.0) / 1e6
    assert sonnet.cost(10_000, 500, cached_tokens=6_000, cache_write=2_000) == pytest.approx(
        expected
    )
    assert sonnet.cost(10_000, 500) > sonnet.cost(10_000, 500, cached_tokens=9_000)


def test_override_file(tmp_path: Path) -> None:
    override = tmp_path / "models.json"
    override.write_text(
        json.dumps(
            {
                "compat:llama": {
                    "context_window": 32768,
                    "max_output_tokens": 2048,
                    "tokenizer": "estimate",
                    "input": 0.0,
                    "cached_input": 0.0,
                    "output": 0.0,
                }
            }
        )
    )
    catalogue = load_catalogue(str(override))
    assert catalogue.get("compat:llama").context_window == 32768
    assert catalogue.get("compat:other").context_window == 8192


def test_bad_override_names_the_entry(tmp_path: Path) -> None:
    override = tmp_path / "models.json"
    override.write_text(json.dumps({"openai:x": {"context_window": -1}}))
    with pytest.raises(ValueError, match="'openai:x'"):
        load_catalogue(str(override))


def test_every_entry_names_its_sources_and_when_they_were_read() -> None:
    for reference, info in load_catalogue().entries.items():
        assert info.sources, reference
        assert info.checked is not None, reference


def test_current_families_of_both_providers_are_listed() -> None:
    catalogue = load_catalogue()
    reasoning = catalogue.get("openai:gpt-6.1-sol")
    assert reasoning.reasons_at_lowest and reasoning.lowest_effort == "low"
    assert reasoning.temperature == "reasoning_off"
    optional = catalogue.get("openai:gpt-6-luna")
    assert optional.lowest_effort == "none" and not optional.reasons_at_lowest
    plain = catalogue.get("openai:gpt-4.1-mini")
    assert plain.reasoning == "none" and plain.temperature == "always"
    newest = catalogue.get("anthropic:claude-opus-5-5")
    assert newest.structured_output == "output_format" and not newest.forced_tool_use
    assert newest.reasoning == "always" and newest.effort_param == "output_config.effort"
    previous = catalogue.get("anthropic:claude-haiku-4-5")
    assert previous.reasoning == "on_request" and previous.effort_param is None
    assert previous.min_cacheable_tokens == 4096
    # The newer Claude tokenizer counts about 30 % more than the one before it.
    assert newest.token_factor == pytest.approx(previous.token_factor * 1.3)


def test_retired_models_are_refused_with_a_replacement() -> None:
    with pytest.raises(ModelRefused) as info:
        load_catalogue().get("openai:o1")
    assert info.value.code == "model_retired"
    assert "retired on 2026-10-23" in info.value.message
    assert "use openai:gpt-6.1-sol instead" in info.value.message


def test_deprecated_models_work_and_warn() -> None:
    info = load_catalogue().get("openai:gpt-4.1-mini")
    assert info.status == "deprecated"
    assert info.warning("openai:gpt-4.1-mini") == (
        "openai:gpt-4.1-mini is deprecated and will stop working on 2027-01-14; "
        "move to openai:gpt-6-luna"
    )
    assert load_catalogue().get("openai:gpt-6-luna").warning("openai:gpt-6-luna") is None


def test_a_dated_snapshot_is_its_alias() -> None:
    catalogue = load_catalogue()
    assert catalogue.get("anthropic:claude-haiku-4-5-20251001") is catalogue.get(
        "anthropic:claude-haiku-4-5"
    )


def test_a_model_past_its_shutdown_date_is_retired(tmp_path: Path) -> None:
    override = tmp_path / "models.json"
    override.write_text(
        json.dumps({"openai:gpt-4.1-mini": {"status": "deprecated", "retires_on": "2020-01-01"}})
    )
    with pytest.raises(ModelRefused) as info:
        load_catalogue(str(override)).get("openai:gpt-4.1-mini")
    assert info.value.code == "model_retired" and "openai:gpt-6-luna" in info.value.message


def test_an_operator_adds_a_model_on_a_family(tmp_path: Path) -> None:
    override = tmp_path / "models.json"
    override.write_text(
        json.dumps(
            {
                "models": {
                    "openai:gpt-6-luna-2026-12-01": {
                        "family": "gpt-6",
                        "input": 0.08,
                        "cached_input": 0.008,
                        "output": 0.4,
                        "sources": ["our contract with OpenAI"],
                    }
                }
            }
        )
    )
    info = load_catalogue(str(override)).get("openai:gpt-6-luna-2026-12-01")
    assert info.input == 0.08 and info.context_window == 1050000
    assert info.efforts[0] == "none" and info.sources == ["our contract with OpenAI"]
