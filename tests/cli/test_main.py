"""The command list `autofill --help` shows without importing the commands."""

from __future__ import annotations

import subprocess
import sys

import click

from cli.main import COMMANDS, main
from tests.cli.conftest import Run


def test_every_command_is_listed_with_its_own_help_line() -> None:
    ctx = click.Context(main)
    for name, (_, _, short) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=100) == short, name


def test_help_imports_no_command(run: Run) -> None:
    shown = run("--help")
    assert shown.returncode == 0, shown.stderr
    for name in COMMANDS:
        assert name in shown.stdout
    probe = (
        "import sys; from click.testing import CliRunner; from cli.main import main; "
        "CliRunner().invoke(main, ['--help']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('openai', 'anthropic', 'sqlalchemy', 'tiktoken', 'autofill') or m.startswith('cli.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "['cli.main']"


def test_an_unknown_command_is_a_usage_error(run: Run) -> None:
    wrong = run("fil")
    assert wrong.returncode == 2 and "No such command 'fil'" in wrong.stderr
