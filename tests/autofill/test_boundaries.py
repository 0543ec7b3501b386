"""The domain package must not depend on the web or job frameworks (see autofill/__init__.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import autofill


def test_domain_imports_neither_flask_nor_celery() -> None:
    modules = sorted(
        "autofill."
        + ".".join(path.relative_to(Path(autofill.__file__).parent).with_suffix("").parts)
        for path in Path(autofill.__file__).parent.rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.parts
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "frameworks = ('flask', 'celery', 'werkzeug')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in frameworks)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert len(modules) > 10
    assert result.stdout.strip() == ""
