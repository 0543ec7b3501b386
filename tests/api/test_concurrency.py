"""Concurrent writers: no lost update, no duplicate, no corrupted order (both databases)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Caller
from tests.helpers import add_row, make_database

WRITERS = 12


def test_concurrent_patches_of_one_row_lose_nothing(api: Caller) -> None:
    spec = {
        "name": "Wide",
        "properties": [{"name": f"N{i}", "type": "number"} for i in range(WRITERS)],
    }
    database = make_database(api, spec)
    row = add_row(api, database["id"], {})

    def write(i: int) -> int:
        client = api.client.application.test_client()
        response = client.patch(
            f"/v1/rows/{row['id']}", json={"properties": {f"N{i}": i}}, headers=api.headers
        )
        return int(response.status_code)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(write, range(WRITERS)))
    assert statuses == [200] * WRITERS
    final = api.get(f"/v1/rows/{row['id']}").get_json()
    assert final["properties"] == {f"N{i}": i for i in range(WRITERS)}
    assert final["version"] == 1 + WRITERS


def test_concurrent_property_adds(api: Caller) -> None:
    database = make_database(api, {"name": "Race"})

    def add(i: int) -> tuple[int, Any]:
        client = api.client.application.test_client()
        name = "Same" if i % 2 == 0 else f"Other {i}"
        response = client.post(
            f"/v1/databases/{database['id']}/properties",
            json={"name": name, "type": "text"},
            headers=api.headers,
        )
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(add, range(WRITERS)))
    same = [status for (status, _), i in zip(results, range(WRITERS), strict=True) if i % 2 == 0]
    assert sorted(same) == [201] + [409] * (WRITERS // 2 - 1)
    assert all(
        status == 201 for (status, _), i in zip(results, range(WRITERS), strict=True) if i % 2
    )
    props = api.get(f"/v1/databases/{database['id']}").get_json()["properties"]
    assert len(props) == 1 + WRITERS // 2
    assert [p["position"] for p in props] == list(range(len(props)))
