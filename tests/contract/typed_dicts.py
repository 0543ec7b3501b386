"""Checking a JSON value against an SDK's request TypedDicts, closed: a key the type does not
declare is an error, as is a missing required one, a wrong literal or a wrong scalar type.

The anthropic SDK's request types (``anthropic/types/*_param.py``) are generated from
Anthropic's API specification; they are the published contract of the Messages API. pydantic
cannot forbid extra keys of a TypedDict it does not own, so the walk is done here.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, NotRequired, Required, Union, get_args, get_origin

from pydantic import BaseModel
from typing_extensions import get_type_hints, is_typeddict

_UNIONS = (Union, types.UnionType)
_LISTS = (list, Iterable, Sequence)


def problems(value: Any, kind: Any, path: str = "$") -> list[str]:
    """Every way ``value`` breaks ``kind`` (empty: it fits)."""
    origin = get_origin(kind)
    if kind is Any or kind is object:
        return []
    if origin in (Required, NotRequired, Annotated):
        return problems(value, get_args(kind)[0], path)
    if is_typeddict(kind):
        return _typed_dict(value, kind, path)
    if origin in _UNIONS:
        arms = [problems(value, arm, path) for arm in get_args(kind)]
        if any(not found for found in arms):
            return []
        return [f"{path}: fits none of {kind}: {min(arms, key=len)[0]}"]
    if origin is Literal:
        return [] if value in get_args(kind) else [f"{path}: {value!r} not in {get_args(kind)}"]
    if origin in _LISTS or kind in _LISTS:
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        (item,) = get_args(kind) or (Any,)
        return [p for i, v in enumerate(value) for p in problems(v, item, f"{path}[{i}]")]
    if origin in (dict, Mapping) or kind in (dict, Mapping):
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        args = get_args(kind)
        item = args[1] if args else Any
        return [p for k, v in value.items() for p in problems(v, item, f"{path}.{k}")]
    if kind is type(None):
        return [] if value is None else [f"{path}: expected null"]
    if kind is bool:
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean"]
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number"]
    if kind is str:
        return [] if isinstance(value, str) else [f"{path}: expected a string, got {value!r}"]
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        # A response object the SDK accepts back (e.g. a TextBlock): never a JSON body's dict.
        return [f"{path}: a {kind.__name__} object, not JSON"]
    raise TypeError(f"{path}: no check for {kind!r}")


def _typed_dict(value: Any, kind: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected an object ({kind.__name__})"]
    hints = get_type_hints(kind, include_extras=True)
    found = [f"{path}.{key}: not a field of {kind.__name__}" for key in value if key not in hints]
    for key, hint in hints.items():
        wrapper: Any = get_origin(hint)
        required = wrapper is Required or (kind.__total__ and wrapper is not NotRequired)
        if key not in value:
            if required:
                found.append(f"{path}.{key}: required by {kind.__name__}")
            continue
        found += problems(value[key], hint, f"{path}.{key}")
    return found
