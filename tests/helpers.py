"""Building blocks for API tests."""

from __future__ import annotations

from typing import Any

INTERVIEWS: dict[str, Any] = {
    "name": "Interviews",
    "properties": [
        {"name": "Name", "type": "title"},
        {"name": "Status", "type": "select", "options": ["Open", "Done"]},
        {"name": "Tags", "type": "multi_select", "options": ["bug", "idea", "praise"]},
        {"name": "Score", "type": "number"},
        {"name": "Due", "type": "date"},
        {"name": "Paid", "type": "checkbox"},
        {"name": "Link", "type": "url"},
        {"name": "Notes", "type": "text"},
    ],
}

SENTIMENT: dict[str, Any] = {
    "name": "Sentiment",
    "type": "ai",
    "ai": {
        "task": "classify",
        "inputs": ["content"],
        "output": {"type": "select", "options": ["Positive", "Neutral", "Negative"]},
    },
}


def make_database(api: Any, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/v1/databases", json=spec or INTERVIEWS)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def add_property(api: Any, database_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"/v1/databases/{database_id}/properties", json=spec)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def add_row(api: Any, database_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"/v1/databases/{database_id}/rows", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def prop_id(database: dict[str, Any], name: str) -> str:
    return str(next(p["id"] for p in database["properties"] if p["name"] == name))
