"""The layers, enforced on the import graph, read statically from the sources (no module is
imported to check them).

    leaf modules     config, errors, ids, text, values, references, kinds, validation,
                     outputs, columns, redaction, logs, metrics, tracing, language,
                     language_names, segments, clock, faces: import only each other
    llm              the model layer: leaf modules only (no schemas, prompts, storage or fills)
    db               storage: leaf modules only (it knows nothing of fills)
    schemas          request and response shapes: leaf modules and llm (model references)
    prompts          leaf modules and llm
    fills            leaf modules, llm, db, prompts
    services         everything of the domain
    api              views call services: not fills, llm or prompts
    autofill         imports none of api, worker, cli, evals, nor Flask, Celery or Werkzeug

And one seam for configuration: no module of autofill but autofill.config reads the environment
(everything asks the current settings, which the CLI and tests install). One owner per state:
a cell's status is written only in autofill.fills.cell_state, an outbox entry's state only in
autofill.fills.outbox, a run's state only in autofill.fills.run_state, a provider batch's
only in autofill.fills.economy.batch_state. And each package shows one
face: another package imports from its ``__init__``, and only the names in its ``__all__``.

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
    "metrics",
    "tracing",
    "language",
    "language_names",
    "segments",
    "clock",
    "faces",
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


# Who may write which state: the attribute (or column) name, the model, the one module.
OWNERS = {
    ("status", "Cell"): "autofill.fills.cell_state",
    ("state", "OutboxEntry"): "autofill.fills.outbox",
    ("state", "FillRun"): "autofill.fills.run_state",
    ("state", "ProviderBatch"): "autofill.fills.economy.batch_state",
}
_STATE_NAMES = {name for name, _ in OWNERS}
_MODELS = {model for _, model in OWNERS}


def state_writes(path: Path) -> list[str]:
    """Every place a module writes a cell's status or an entry's or run's state: assignments
    to ``<obj>.status``/``<obj>.state`` (not ``self.``), ``update(Model).values(state=…)`` and
    ``Model(state=…)``. Each as "name@line" or "Model.name@line"."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in _STATE_NAMES
                    and not (isinstance(target.value, ast.Name) and target.value.id == "self")
                ):
                    found.append(f"{target.attr}@{node.lineno}")
        elif isinstance(node, ast.Call):
            written = {k.arg for k in node.keywords if k.arg in _STATE_NAMES}
            if not written:
                continue
            model = _model_of(node)
            if model is not None:
                found += [f"{model}.{name}@{node.lineno}" for name in sorted(written)]
    return sorted(found, key=lambda write: int(write.split("@")[1]))


def _model_of(call: ast.Call) -> str | None:
    """The model a call writes: ``Model(...)``, or ``update(Model)….values(...)``."""
    if isinstance(call.func, ast.Name) and call.func.id in _MODELS:
        return call.func.id
    if isinstance(call.func, ast.Attribute) and call.func.attr == "values":
        for inner in ast.walk(call.func.value):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id in ("update", "insert")
                and inner.args
                and isinstance(inner.args[0], ast.Name)
                and inner.args[0].id in _MODELS
            ):
                return inner.args[0].id
    return None


def _owner(write: str) -> set[str]:
    name = write.split("@")[0]
    if "." in name:
        model, column = name.split(".")
        return {OWNERS[(column, model)]} if (column, model) in OWNERS else set()
    return {module for (attr, _), module in OWNERS.items() if attr == name}


def test_each_state_has_one_owner() -> None:
    strays = {
        module: writes
        for module, path in modules()
        if module.startswith("autofill.") and not module.startswith("autofill.llm.simulator")
        if (writes := [w for w in state_writes(path) if module not in _owner(w)])
    }
    assert strays == {}


def test_the_state_check_sees_each_kind_of_write(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "cell.status = 'filled'\n"
        "run.state = 'done'\n"
        "session.execute(update(OutboxEntry).where(x).values(state='waiting'))\n"
        "FillRun(id='r', state='running')\n"
        "self.state = SimState()\n"
        "RunOut(state=view.state)\n"
    )
    assert state_writes(source) == [
        "status@1",
        "state@2",
        "OutboxEntry.state@3",
        "FillRun.state@4",
    ]


DOMAIN_PACKAGES = {"db", "fills", "llm", "prompts", "schemas", "services", "migrations"}


def package_of(module: str) -> str:
    """autofill.<package> for the domain's packages, the module itself for a leaf module, the
    top-level name for the adapters (api, worker, cli, evals)."""
    parts = module.split(".")
    if parts[0] != "autofill":
        return parts[0]
    if len(parts) >= 2 and parts[1] in DOMAIN_PACKAGES:
        return f"autofill.{parts[1]}"
    return module


def face(package: str) -> set[str] | None:
    """The names a package's ``__init__`` lists in ``__all__`` (None: not a package)."""
    init = ROOT / package.replace(".", "/") / "__init__.py"
    if not init.exists():
        return None
    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {ast.literal_eval(element) for element in node.value.elts}  # type: ignore[attr-defined]
    return set()


def past_faces(edges: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Imports (module → (imported module, name)) that reach behind another package's face."""
    found = []
    for module, imported in edges.items():
        for target, name in imported:
            if target.split(".")[0] not in OURS or target == "autofill":
                continue
            if package_of(target) == package_of(module) or target.startswith("autofill.migrat"):
                continue
            names = face(target)
            if names is None and package_of(target) == target:
                continue  # a leaf module: the module is its face
            if names is None or name not in names:
                found.append(f"{module} imports {name} from {target}")
    return found


def named_imports(path: Path) -> Iterator[tuple[str, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield from ((node.module, alias.name) for alias in node.names)


def test_each_package_shows_one_face() -> None:
    edges = {module: list(named_imports(path)) for module, path in modules()}
    assert past_faces(edges) == []


def test_the_face_check_catches_a_reach_past_it() -> None:
    assert past_faces({"api.routes.cells": [("autofill.services.cells", "override")]}) == [
        "api.routes.cells imports override from autofill.services.cells"
    ]
    assert past_faces({"cli.main": [("autofill.fills", "ledger")]}) == [
        "cli.main imports ledger from autofill.fills"  # a module the package does not show
    ]
    fine = {
        "api.routes.cells": [("autofill.services", "cells"), ("autofill.kinds", "CellStatus")],
        "autofill.fills.fill": [("autofill.fills.outbox", "start"), ("autofill.llm", "Completer")],
        "cli.demo": [("worker", "embedded")],
    }
    assert past_faces(fine) == []
