"""Settings: the one reader of the environment, and what it says when a variable is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import AliasChoices

from autofill.config import (
    Settings,
    SettingsError,
    compat_servers,
    get_settings,
    read_settings,
    use_settings,
)


def test_compat_servers_are_grouped_by_name() -> None:
    environ = {
        "AUTOFILL_COMPAT_LOCAL_LLAMA_BASE_URL": "http://127.0.0.1:11434/v1",
        "AUTOFILL_COMPAT_LOCAL_LLAMA_MODEL": "llama3.1:8b",
        "AUTOFILL_COMPAT_VLLM_API_KEY": "token-abc123",
        "AUTOFILL_COMPAT_VLLM_BASE_URL": "http://vllm:8000/v1",
        "AUTOFILL_DEBOUNCE_S": "2",
    }
    assert compat_servers(environ) == {
        "LOCAL_LLAMA": {"base_url": "http://127.0.0.1:11434/v1", "model": "llama3.1:8b"},
        "VLLM": {"api_key": "token-abc123", "base_url": "http://vllm:8000/v1"},
    }


def test_provider_variables_keep_their_sdk_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # The environment is the configuration's to read: this is its test.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdefgh")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AUTOFILL_COMPAT_VLLM_BASE_URL", "http://vllm:8000/v1")
    monkeypatch.setenv("AUTOFILL_COMPAT_VLLM_TOKEN_PARAM", "Max_Completion_Tokens")
    settings = read_settings()
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-test-abcdefgh"
    assert "sk-test" not in repr(settings)  # secrets stay out of logs and tracebacks
    assert settings.anthropic_base_url == "http://127.0.0.1:9"
    assert settings.compat["VLLM"].token_param == "max_completion_tokens"
    assert "sk-test-abcdefgh" in settings.secret_values()


def test_invalid_settings_name_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOFILL_DEBOUNCE_S", "-1")
    monkeypatch.setenv("AUTOFILL_COMPAT_VLLM_TOKEN_PARAM", "lots")
    monkeypatch.setenv("AUTOFILL_HTTP_TIMEOUT", "soon")
    with pytest.raises(SettingsError) as info:
        read_settings()
    message = str(info.value)
    assert "AUTOFILL_DEBOUNCE_S: Input should be greater than or equal to 0 (got '-1')" in message
    assert "AUTOFILL_COMPAT_VLLM_TOKEN_PARAM: Input should be 'max_tokens'" in message
    assert "AUTOFILL_HTTP_TIMEOUT" in message


def test_installed_settings_are_the_process_settings() -> None:
    mine = Settings(debounce_s=0.25)
    use_settings(mine)  # undone after the test (tests/conftest.py)
    assert get_settings() is mine
    use_settings(None)
    assert get_settings() is not mine and get_settings() is get_settings()


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    undocumented = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        variables = (
            [str(choice) for choice in alias.choices if str(choice).isupper()]
            if isinstance(alias, AliasChoices)
            else [f"AUTOFILL_{name.upper()}"]
        )
        if name == "compat":
            variables = ["AUTOFILL_COMPAT_<NAME>_BASE_URL", "AUTOFILL_COMPAT_<NAME>_TOKEN_PARAM"]
        undocumented += [v for v in variables if f"`{v}`" not in readme]
    assert undocumented == []


def test_the_default_api_rate_limit_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    # It is not validated when read (validate_default=False keeps `limits` out of every
    # process's imports), so it is checked here; a value set in the environment is checked.
    from limits import parse

    default = Settings.model_fields["api_rate_limit"].default
    assert parse(default).amount == 1200
    monkeypatch.setenv("AUTOFILL_API_RATE_LIMIT", "many per fortnight")
    with pytest.raises(SettingsError, match="AUTOFILL_API_RATE_LIMIT"):
        read_settings()
