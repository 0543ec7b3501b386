from __future__ import annotations

import pytest

from autofill.columns import AIConfig
from autofill.db.models import Property
from autofill.errors import InvalidInput
from autofill.kinds import Task
from autofill.services.ai_columns import check_no_cycles


def ai(pid: str, *inputs: str) -> Property:
    config = AIConfig(task=Task.SUMMARY, inputs=inputs, model="sim:sim-1")
    return Property(id=pid, name=pid.upper(), name_key=pid, type="ai", position=0, ai=config)


def test_chains_and_diamonds_are_fine() -> None:
    check_no_cycles([ai("a", "content"), ai("b", "a"), ai("c", "a", "b"), ai("d", "b", "c")], "x")


def test_cycle_is_named_in_order() -> None:
    with pytest.raises(InvalidInput) as info:
        check_no_cycles(
            [ai("a", "content"), ai("b", "a", "d"), ai("c", "b"), ai("d", "c")], "inputs"
        )
    assert "B → D → C → B" in info.value.message
    assert set(info.value.fields) == {"inputs"}
