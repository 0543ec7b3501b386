"""``{Property name}`` references inside an AI column's instruction.

``{{`` and ``}}`` stand for literal braces, so an instruction can show JSON. A lone brace is kept
as text. Property names cannot contain braces (see autofill.schemas), which keeps this unambiguous.
"""

from __future__ import annotations

import re

from autofill.text import fold

# One alternation so escapes are consumed before a reference can start inside them.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]{1,200})\}")


def find_references(instruction: str) -> list[str]:
    """Referenced names in order of first appearance, stripped, without duplicates."""
    names: list[str] = []
    for match in _TOKEN.finditer(instruction):
        name = match.group(1)
        if name is not None and name.strip() and name.strip() not in names:
            names.append(name.strip())
    return names


def rename_reference(instruction: str, old_key: str, new_name: str) -> str:
    """Rewrite every reference whose folded name equals ``old_key`` to ``{new_name}``."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is not None and fold(name) == old_key:
            return "{" + new_name + "}"
        return match.group(0)

    return _TOKEN.sub(replace, instruction)
