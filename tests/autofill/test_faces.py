"""Lazy package faces: every name shown resolves, nothing loads before it is used, and a
function named like a module of its package keeps meaning the function."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from autofill.faces import exports

ROOT = Path(__file__).resolve().parents[2]
LAZY = [
    "autofill.db",
    "autofill.fills",
    "autofill.llm",
    "autofill.llm.providers",
    "autofill.prompts",
    "autofill.schemas",
    "autofill.services",
]


def _init(package: str) -> Path:
    return ROOT / package.replace(".", "/") / "__init__.py"


@pytest.mark.parametrize("package", LAZY)
def test_each_name_shown_is_listed_and_resolves(package: str) -> None:
    module = importlib.import_module(package)
    table = exports(_init(package), package)
    assert set(table) == set(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        source, attribute = table[name]
        expected = importlib.import_module(source)
        assert value is (expected if attribute is None else getattr(expected, attribute))
    with pytest.raises(AttributeError, match="no attribute 'nothing_like_this'"):
        module.nothing_like_this  # noqa: B018


def _loaded_after(code: str) -> set[str]:
    found = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(found.stdout.split())


def test_importing_a_face_loads_none_of_its_modules() -> None:
    loaded = _loaded_after("import autofill.llm, autofill.services, autofill.fills")
    assert not {m for m in loaded if m.startswith(("autofill.llm.", "autofill.services."))}
    assert not {"openai", "anthropic", "tiktoken", "sqlalchemy"} & loaded


def test_a_command_over_the_store_loads_no_sdk_tokenizer_or_alembic() -> None:
    loaded = _loaded_after("import cli.workspace, cli.common")
    assert not {"openai", "anthropic", "tiktoken", "alembic", "celery", "flask"} & loaded


def test_a_function_named_like_its_module_stays_the_function() -> None:
    out = _loaded_after(
        "import autofill.llm.catalogue, autofill.services.preview, autofill.prompts.defuse\n"
        "import autofill.llm, autofill.services, autofill.prompts\n"
        "assert callable(autofill.llm.catalogue) and autofill.llm.catalogue().get('sim:sim-1')\n"
        "assert autofill.services.preview.__module__ == 'autofill.services.preview'\n"
        "assert autofill.prompts.defuse('x') is not None"
    )
    assert "autofill.llm.catalogue" in out


def test_a_route_to_one_provider_loads_only_its_sdk() -> None:
    loaded = _loaded_after(
        "from autofill.llm import current_providers\ncurrent_providers().route('sim:sim-1')"
    )
    assert "openai" in loaded
    assert "anthropic" not in loaded
