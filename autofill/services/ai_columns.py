"""Turning an AI column's configuration into its stored form, and checking it against its table.

Stored inputs are property ids (or ``content``) so renames never break a column; the instruction
keeps names, and renames rewrite it (see properties.rename).
"""

from __future__ import annotations

from autofill.columns import AIConfig
from autofill.db import Property
from autofill.errors import InvalidInput
from autofill.kinds import CONTENT_INPUT, PropertyType, Task
from autofill.references import find_references
from autofill.schemas import AIConfigIn
from autofill.text import fold


class PropertyIndex:
    """A database's properties, found by id or by folded name."""

    def __init__(self, properties: list[Property]) -> None:
        self.by_id = {prop.id: prop for prop in properties}
        self.by_key = {prop.name_key: prop for prop in properties}

    def find(self, ref: str) -> Property | None:
        return self.by_id.get(ref) or self.by_key.get(fold(ref))


def resolve_ai_config(
    config: AIConfigIn, prop_id: str, index: PropertyIndex, *, default_model: str, path: str
) -> AIConfig:
    """Validate references and return the stored configuration, or raise InvalidInput.

    ``path`` prefixes the field names in errors (e.g. ``ai`` or ``properties[2].ai``).
    """
    referenced = find_references(config.instruction or "")
    ref_ids = [_resolve(name, prop_id, index, f"{path}.instruction") for name in referenced]

    explicit: list[str] | None = None
    if config.inputs is not None:
        explicit = []
        for position, name in enumerate(config.inputs):
            resolved = _resolve(name, prop_id, index, f"{path}.inputs[{position}]")
            if resolved not in explicit:
                explicit.append(resolved)

    if explicit is not None:
        base = explicit
    elif config.task == Task.CUSTOM and ref_ids:
        base = []  # a custom prompt over named properties reads just those
    else:
        base = [CONTENT_INPUT]
    inputs = list(dict.fromkeys([*base, *ref_ids]))
    if not inputs:
        raise InvalidInput.field(f"{path}.inputs", "an AI column needs at least one input")

    assert config.output is not None  # AIConfigIn fills the default
    return AIConfig(
        task=config.task,
        instruction=config.instruction,
        explicit_inputs=tuple(explicit) if explicit is not None else None,
        inputs=tuple(inputs),
        target_language=config.target_language,
        output=config.output,
        model=config.model or default_model,
        auto_update=config.auto_update,
        max_input_tokens=config.max_input_tokens,
    )


def _resolve(name: str, prop_id: str, index: PropertyIndex, field: str) -> str:
    if fold(name) == CONTENT_INPUT:
        return CONTENT_INPUT
    prop = index.find(name)
    if prop is None:
        raise InvalidInput.field(field, f"no property named {name!r} in this database")
    if prop.id == prop_id:
        raise InvalidInput.field(field, f"an AI column cannot read itself ({prop.name!r})")
    return prop.id


def config_input(stored: AIConfig) -> AIConfigIn:
    """The stored configuration as a client would send it (inputs by id), for PATCH merges."""
    return AIConfigIn.model_validate(
        {
            "task": stored.task,
            "instruction": stored.instruction,
            "inputs": list(stored.explicit_inputs) if stored.explicit_inputs is not None else None,
            "target_language": stored.target_language,
            "output": stored.output.model_dump(mode="json"),
            "model": stored.model,
            "auto_update": stored.auto_update,
            "max_input_tokens": stored.max_input_tokens,
        }
    )


def check_no_cycles(properties: list[Property], field: str) -> None:
    """Raise InvalidInput naming the loop if AI columns read each other in a cycle."""
    ai = {p.id: p.ai for p in properties if p.type == PropertyType.AI.value and p.ai is not None}
    graph = {pid: [i for i in config.inputs if i in ai] for pid, config in ai.items()}
    done: set[str] = set()
    for start in graph:
        stack: list[str] = []
        if _visit(start, graph, done, stack, set()):
            by_id = {p.id: p for p in properties}
            names = " → ".join(by_id[pid].name for pid in stack)
            raise InvalidInput.field(field, f"AI columns would read each other in a cycle: {names}")


def _visit(
    node: str, graph: dict[str, list[str]], done: set[str], stack: list[str], on_stack: set[str]
) -> bool:
    if node in on_stack:
        stack[:] = [*stack[stack.index(node) :], node]
        return True
    if node in done:
        return False
    stack.append(node)
    on_stack.add(node)
    for upstream in graph[node]:
        if _visit(upstream, graph, done, stack, on_stack):
            return True
    stack.pop()
    on_stack.discard(node)
    done.add(node)
    return False


def dependents_of(prop_id: str, properties: list[Property]) -> list[Property]:
    """AI columns that read ``prop_id`` directly."""
    return [
        p
        for p in properties
        if p.type == PropertyType.AI.value and p.ai is not None and p.ai.reads(prop_id)
    ]
