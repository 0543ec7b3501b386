from __future__ import annotations

import json
from pathlib import Path

import pytest

from autofill.errors import InvalidInput
from autofill.llm.catalogue import load_catalogue


def test_known_models_and_provider_defaults() -> None:
    catalogue = load_catalogue()
    assert catalogue.get("openai:gpt-4.1-mini").context_window == 1047576
    assert catalogue.get("openai:some-future-model").tokenizer == "o200k_base"
    assert catalogue.get("compat:llama").input == 0
    with pytest.raises(InvalidInput, match="not in the model catalogue"):
        catalogue.get("acme:model")


def test_cost_prices_cached_and_written_tokens_apart() -> None:
    sonnet = load_catalogue().get("anthropic:claude-sonnet-4-5")
    # 10k prompt tokens of which 6k read from cache and 2k written to it, 500 out.
    expected = (2_000 * 3.0 + 6_000 * 0.3 + 2_000 * 3.75 + 500 * 15.0) / 1e6
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
