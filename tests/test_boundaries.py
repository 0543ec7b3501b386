"""The layers, enforced on the import graph, read statically from the sources (no module is
imported to check them).

    leaf modules     config, errors, ids, text, values, references, kinds, validation,
                     outputs, columns, redaction, logs, language, clock: import only each other
    llm              the model layer: leaf modules only (no schemas, prompts, storage or fills)
    db               storage: leaf modules only (it knows nothing of fills)
    schemas          request and response shapes: leaf modules and llm (model references)
    prompts          leaf modules and llm
    fills            leaf modules, llm, db, prompts
    services         everything of the domain
    api              views call services: not fills, llm or prompts
    autofill         imports none of api, worker, cli, evals, nor Flask, Celery or Werkzeug

And one seam for configuration: no module of autofill but autofill.config reads the environment
(everything asks the current settings, which the CLI and tests install).

The README's "Architecture" section draws the same picture.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("autofill", "api", "worker", "cli", "evals")
LEAF = {
    "config",
    "errors",
    "ids",
    "text",
    "values",
    "references",
    "kinds",
    "validation",
    "outputs",
    "columns",
    "redaction",
    "logs",
    "language",
    "clock",
}
# What each part of autofill may import of autofill, besides itself and the leaf modules.
ALLOWED = {
    "leaf": set(),
    "llm": set(),
    "db": set(),
    "migrations": {"db"},
    "schemas": {"llm"},
    "prompts": {"llm"},
    "fills": {"llm", "db", "prompts"},
    "services": {"llm", "db", "prompts", "fills", "schemas"},
}
# The views' own rule: services (and the shapes, kinds and errors they speak in).
API_FORBIDDEN = {"fills", "llm", "prompts"}
FRAMEWORKS = {"flask", "celery", "werkzeug", "kombu"}


def modules() -> Iterator[tuple[str, Path]]:
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from autofill import fills` imports autofill.fills: name what is imported.
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def part(module: str) -> str:
    """Which layer of autofill a module belongs to."""
    name = module.split(".")[1] if module.count(".") else ""
    return "leaf" if name in LEAF else name


def graph() -> dict[str, list[str]]:
    return {module: list(imports(path)) for module, path in modules()}


def violations(edges: dict[str, list[str]]) -> list[str]:
    found = []
    for module, imported_modules in edges.items():
        top = module.split(".")[0]
        for imported in imported_modules:
            target = imported.split(".")[0]
            if top == "autofill":
                if target in OURS[1:] or target in FRAMEWORKS:
                    found.append(f"{module} imports {imported}")
                if target != "autofill" or module == "autofill" or part(imported) == "":
                    continue
                source, destination = part(module), part(imported)
                if destination == source or destination == "leaf":
                    continue
                if destination not in ALLOWED.get(source, set()):
                    found.append(f"{module} ({source}) imports {imported} ({destination})")
            elif top == "api" and target == "autofill" and imported.count("."):
                if part(imported) in API_FORBIDDEN:
                    found.append(f"{module} (a view) imports {imported}: call a service")
            elif top == "evals" and target in ("api", "worker", "cli"):
                found.append(f"{module} imports {imported}")
    return found


def test_the_layers_hold() -> None:
    assert violations(graph()) == []


def test_the_check_sees_every_module_and_catches_each_kind_of_breach() -> None:
    edges = graph()
    assert len([m for m in edges if m.startswith("autofill.")]) > 60
    assert "autofill.fills.cell_state" in edges["autofill.fills.changes"]
    breaches = {
        "autofill.db.session": ["autofill.fills.events"],  # storage knowing fills
        "autofill.llm.types": ["autofill.schemas.properties"],  # the model layer and schemas
        "autofill.llm.simulator.answers": ["autofill.prompts.render"],
        "autofill.fills.fill": ["autofill.services.cells"],  # a layer importing upward
        "autofill.kinds": ["autofill.db.models"],  # a leaf module that is not one
        "autofill.services.rows": ["flask"],  # the domain and a web framework
        "api.routes.cells": ["autofill.fills.outbox"],  # a view past the services
        "evals.runner": ["api.app"],
    }
    assert len(violations(breaches)) == len(breaches)
    fine = {
        "autofill.services.rows": ["autofill.fills.outbox", "autofill.kinds"],
        "autofill.fills.fill": ["autofill.prompts.prepare", "autofill.db.models"],
        "api.routes.cells": ["autofill.services.cells", "autofill.schemas"],
    }
    assert violations(fine) == []


def environment_reads(path: Path) -> list[int]:
    """Lines that read ``os.environ`` or call ``getenv`` (setting a variable for a library that
    reads it, as the tokenizer does for tiktoken, is not a read)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    written = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
    }
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"))
        and id(node) not in written
    )


def test_only_the_configuration_reads_the_environment() -> None:
    readers = {
        module: lines
        for module, path in modules()
        if module.startswith("autofill.") and module != "autofill.config"
        if (lines := environment_reads(path))
    }
    assert readers == {}


def test_the_environment_check_sees_reads_and_lets_writes_be(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "import os\nos.environ['TIKTOKEN_CACHE_DIR'] = '/x'\na = os.environ.get('A')\n"
        "b = os.getenv('B')\nfor k in os.environ: pass\n"
    )
    assert environment_reads(source) == [3, 4, 5]
