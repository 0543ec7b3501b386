"""Cut the schemas a chat completion request and its answer (and a batch of them) need out of
OpenAI's OpenAPI document, for tests/contract (run by hand when the document moves on):

    python -m tests.contract.slice_openapi /path/to/openai-openapi/openapi.json [COMMIT]

The slice is written to tests/contract/data/openai-chat-completions.json with the source
repository, path, commit and version it came from; nothing in it is edited.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOTS = [
    "CreateChatCompletionRequest",
    "CreateChatCompletionResponse",
    "ErrorResponse",
    "CreateBatchRequest",
    "Batch",
    "OpenAIFile",
    "ListBatchesResponse",
]
OUT = Path(__file__).with_name("data") / "openai-chat-completions.json"


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(refs(item) for item in node)) if node else set()
    return set()


def main(path: str, commit: str | None = None) -> None:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    wanted, todo = set(), list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(refs(schemas[name]))
    commit = (
        commit
        or subprocess.run(
            ["git", "-C", str(Path(path).parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    )
    OUT.write_text(
        json.dumps(
            {
                "_source": {
                    "repository": "https://github.com/openai/openai-openapi",
                    "path": "openapi.json",
                    "commit": commit or "unknown",
                    "version": document["info"]["version"],
                    "roots": ROOTS,
                },
                "components": {"schemas": {name: schemas[name] for name in sorted(wanted)}},
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
