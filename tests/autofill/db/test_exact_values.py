"""Cell values round-trip exactly on both databases (issue 24): SQLite once stored a bare
number's JSON with NUMERIC affinity, so a 23-digit integer came back rounded and a 400-digit
one as Inf. Big integers, decimals and text that looks like a number come back as written;
a non-finite number is refused, naming the field; row properties (a JSON object) too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Caller, assert_error
from tests.helpers import add_property, add_row, make_database

EXACT = [
    12345678901234567890123,
    int("9" * 400),
    -(2**70),
    0.1,
    19.99,
    1.5e-300,
    -123.456,
    "12345678901234567890123",
    "1e400",
    0,
]


@pytest.fixture
def number_cell(api: Caller) -> tuple[str, str]:
    database = make_database(api)
    prop = add_property(
        api,
        database["id"],
        {
            "name": "Estimate",
            "type": "ai",
            "ai": {"task": "custom", "instruction": "x", "output": {"type": "number"}},
        },
    )
    row = add_row(api, database["id"], {"properties": {"Name": "Big"}, "content": ""})
    return row["id"], prop["id"]


@pytest.mark.parametrize("value", [v for v in EXACT if not isinstance(v, str)])
def test_a_persons_number_in_an_ai_cell_comes_back_exactly(
    api: Caller, number_cell: tuple[str, str], value: Any
) -> None:
    row_id, property_id = number_cell
    written = api.put(f"/v1/rows/{row_id}/cells/{property_id}", json={"value": value})
    assert written.status_code == 200, written.get_json()
    read = api.get(f"/v1/rows/{row_id}").get_json()["cells"]["Estimate"]["value"]
    assert read == value and type(read) is type(value)


def test_numbers_and_numeric_looking_text_in_row_properties_come_back_exactly(
    api: Caller,
) -> None:
    database = make_database(api)
    for value in EXACT:
        score = value if not isinstance(value, str) else None
        notes = value if isinstance(value, str) else str(value)
        row = add_row(api, database["id"], {"properties": {"Score": score, "Notes": notes}})
        read = api.get(f"/v1/rows/{row['id']}").get_json()["properties"]
        assert read["Score"] == score and type(read["Score"]) is type(score)
        assert read["Notes"] == notes


def test_a_non_finite_number_is_refused_and_nothing_is_written(
    api: Caller, number_cell: tuple[str, str]
) -> None:
    row_id, property_id = number_cell
    # 1e400 is valid JSON; Python reads it as infinity.
    response = api.client.put(
        f"/v1/rows/{row_id}/cells/{property_id}",
        data='{"value": 1e400}',
        content_type="application/json",
        headers=api.headers,
    )
    error = assert_error(response, 422, "validation_error", "value")
    assert "finite" in error["fields"]["value"]
    assert api.get(f"/v1/rows/{row_id}").get_json()["cells"]["Estimate"]["status"] == "pending"
