"""Keeping a structured-output schema within OpenAI's strict-mode limits.

https://developers.openai.com/api/docs/guides/structured-outputs#supported-schemas ("Objects have
limitations on nesting depth and size"): at most 5,000 object properties and 10 levels of
nesting; at most 1,000 enum values across the schema; the names of properties and definitions,
enum values and const values at most 120,000 characters in all; and a single string enum of more
than 250 values at most 15,000 characters.

A select column may have 500 options of 100 characters (50,000 characters): such a schema is
refused. It is then sent without its ``enum`` lists: the options stay in the prompt, the answer
is still a JSON object of the right shape, and Autofill's own check (autofill.llm.typed) refuses
a value that is not an option and re-asks.
"""

from __future__ import annotations

from typing import Any

MAX_ENUM_VALUES = 1000
MAX_TOTAL_CHARS = 120_000
LARGE_ENUM = 250
MAX_LARGE_ENUM_CHARS = 15_000
MAX_DEPTH = 10
MAX_PROPERTIES = 5000


def fits_strict(schema: dict[str, Any]) -> bool:
    enums: list[list[Any]] = []
    names: list[str] = []
    depth, properties = _walk(schema, enums, names, 1)
    values = sum(len(e) for e in enums)
    chars = sum(len(n) for n in names) + sum(len(str(v)) for e in enums for v in e)
    large = any(
        len(e) > LARGE_ENUM and sum(len(str(v)) for v in e) > MAX_LARGE_ENUM_CHARS for e in enums
    )
    return (
        values <= MAX_ENUM_VALUES
        and chars <= MAX_TOTAL_CHARS
        and not large
        and depth <= MAX_DEPTH
        and properties <= MAX_PROPERTIES
    )


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` if strict mode takes it, else the same schema without its enum lists."""
    return schema if fits_strict(schema) else _without_enums(schema)


def _walk(node: Any, enums: list[list[Any]], names: list[str], depth: int) -> tuple[int, int]:
    if not isinstance(node, dict):
        return depth, 0
    if isinstance(node.get("enum"), list):
        enums.append(node["enum"])
    if "const" in node:
        names.append(str(node["const"]))
    deepest, count = depth, 0
    props = node.get("properties")
    if isinstance(props, dict):
        count += len(props)
        names.extend(props)
        for child in props.values():
            d, c = _walk(child, enums, names, depth + 1)
            deepest, count = max(deepest, d), count + c
    for key in ("$defs", "definitions"):
        if isinstance(node.get(key), dict):
            names.extend(node[key])
            for child in node[key].values():
                d, c = _walk(child, enums, names, depth)
                deepest, count = max(deepest, d), count + c
    for key in ("items", "anyOf", "oneOf", "allOf"):
        children = node.get(key)
        for child in children if isinstance(children, list) else [children]:
            d, c = _walk(child, enums, names, depth)
            deepest, count = max(deepest, d), count + c
    return deepest, count


def _without_enums(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "enum":
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _without_enums(child) for name, child in value.items()}
        else:
            out[key] = _without_enums(value)
    return out
