"""Package faces whose names load on first use (PEP 562).

A package's ``__init__`` names what it shows in ``__all__`` and imports those names under
``if TYPE_CHECKING:``, as it would eagerly. At run time nothing is imported until a name is
asked for: ``__getattr__ = lazy_face(__name__, __file__)`` reads those imports once from the
``__init__``'s source and, on the first use of a name, imports the one module behind it.

Why: the domain's packages reach far (the model SDKs, tiktoken, SQLAlchemy's ORM), and a
command or process that needs one function of a package should not pay seconds and hundreds of
megabytes for the others (issue 21: `autofill workspace list` took 5 s, all of it imports).
The imports under ``TYPE_CHECKING`` stay the one list of what a package shows: mypy reads them,
the boundary tests read them, and so does this module.
"""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any


def exports(init_file: str | Path, package: str) -> dict[str, tuple[str, str | None]]:
    """name shown → (module, attribute in it; None when the name is a submodule), read from
    the ``from … import …`` statements under ``if TYPE_CHECKING:`` in ``init_file``."""
    tree = ast.parse(Path(init_file).read_text(encoding="utf-8"))
    found: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom) or statement.module is None:
                continue
            for alias in statement.names:
                shown = alias.asname or alias.name
                if statement.module == package:  # `from package import submodule`
                    found[shown] = (f"{package}.{alias.name}", None)
                else:
                    found[shown] = (statement.module, alias.name)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Face(types.ModuleType):
    """A package whose face shows a function named like one of its modules (``catalogue``
    from ``autofill.llm.catalogue``). Importing that module makes the import system bind it
    on the package under the same name, hiding the function; an eager ``__init__`` re-bound the
    function right after. Here that binding is skipped, so the name keeps meaning the function
    (``sys.modules`` still holds the module)."""

    _shadowed: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._shadowed and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def lazy_face(package: str, init_file: str) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: each name it shows, imported on first use
    and then kept in the package's namespace (later look-ups do not come here)."""
    table = exports(init_file, package)
    modules = {path.stem for path in Path(init_file).parent.iterdir()}
    shadowed = frozenset(
        name for name, (_, attribute) in table.items() if attribute is not None and name in modules
    )
    if shadowed:
        face = sys.modules[package]
        face.__class__ = _Face
        face._shadowed = shadowed  # type: ignore[attr-defined]

    def __getattr__(name: str) -> Any:
        found = table.get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, attribute = found
        module = import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
