"""A row write moves exactly the cells whose inputs' hash changed, without hashing the page."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from autofill.columns import AIConfig
from autofill.db import Cell, Property, Row
from autofill.fills import changes
from autofill.kinds import CONTENT_INPUT, CellStatus, Task

# Property values as stored: JSON scalars and lists, with the pairs JSON tells apart and
# Python's == does not (1 and 1.0, 1 and true, 0 and false).
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 1.0, 0.0, 2]),
    st.text(max_size=3),
    st.lists(st.sampled_from(["a", "b"]), max_size=2),
)
PLAIN = ["p_a", "p_b"]
INPUTS = st.lists(st.sampled_from([CONTENT_INPUT, *PLAIN, "ai_x"]), min_size=1, unique=True)


def _column(inputs: list[str]) -> Property:
    ai = AIConfig(task=Task.SUMMARY, inputs=inputs, model="sim:sim-1", auto_update=True)
    return Property(id="ai_col", name="Col", name_key="col", type="ai", position=9, ai=ai)


@settings(max_examples=400, deadline=None)
@given(
    inputs=INPUTS,
    before=st.dictionaries(st.sampled_from(PLAIN), VALUES),
    after=st.dictionaries(st.sampled_from(PLAIN), VALUES),
    before_content=st.sampled_from(["", "Page.", "Page. "]),
    after_content=st.sampled_from(["", "Page.", "Page. "]),
)
def test_a_cell_moves_exactly_when_its_input_hash_changes(
    inputs: list[str],
    before: dict[str, Any],
    after: dict[str, Any],
    before_content: str,
    after_content: str,
) -> None:
    column = _column(inputs)
    assert column.ai is not None
    other = Cell(row_id="r", property_id="ai_x", status=CellStatus.FILLED.value, value="kept")
    cell = Cell(row_id="r", property_id="ai_col", status=CellStatus.FILLED.value, value="v")
    row = Row(id="r", database_id="d", values=after, content=after_content, version=2)
    row.cells = [other, cell]
    ai_values = {"ai_x": "kept", "ai_col": "v"}

    due = changes.mark_inputs_changed(row, [column], before, before_content)

    hashes = {
        changes.input_hash(column.ai, values, content, ai_values)
        for values, content in ((before, before_content), (after, after_content))
    }
    assert (due == [cell]) == (len(hashes) == 2)
    assert cell.status == (CellStatus.PENDING if due else CellStatus.FILLED).value
