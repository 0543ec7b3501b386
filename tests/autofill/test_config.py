"""Settings: the one reader of the environment, and what it says when a variable is wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import AliasChoices

from autofill.config import (
    Settings,
    SettingsError,
    compat_servers,
    drop_empty_sdk_variables,
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


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # What `OPENAI_BASE_URL: ${OPENAI_BASE_URL:-}` in a compose file passes when the shell has
    # none: the SDK must fall back to its own default, not call "" (issue 22).
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", " ")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdefgh")
    monkeypatch.setenv("AUTOFILL_REDIS_URL", "")
    monkeypatch.setenv("AUTOFILL_DEBOUNCE_S", "")
    settings = read_settings()
    assert settings.openai_base_url is None and settings.anthropic_base_url is None
    assert settings.redis_url is None
    assert settings.debounce_s == Settings.model_fields["debounce_s"].default
    assert "OPENAI_BASE_URL" not in os.environ and "ANTHROPIC_BASE_URL" not in os.environ
    assert os.environ["OPENAI_API_KEY"] == "sk-test-abcdefgh"  # set ones stay
    import openai

    client = openai.OpenAI(api_key="sk-test-abcdefgh")  # reads the environment as it is now
    assert str(client.base_url) == "https://api.openai.com/v1/"


def test_drop_empty_sdk_variables_touches_only_the_providers_empty_ones() -> None:
    environ = {"OPENAI_BASE_URL": "", "ANTHROPIC_API_KEY": "", "HOME": "", "OPENAI_ORG": "x"}
    assert sorted(drop_empty_sdk_variables(environ)) == ["ANTHROPIC_API_KEY", "OPENAI_BASE_URL"]
    assert environ == {"HOME": "", "OPENAI_ORG": "x"}


def test_a_data_directory_this_user_cannot_write_is_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    settings = Settings(data_dir=blocked / "data")
    for resolve in (settings.resolved_secret_key, settings.resolved_database_url):
        with pytest.raises(SettingsError, match="AUTOFILL_DATA_DIR: cannot write to"):
            resolve()
