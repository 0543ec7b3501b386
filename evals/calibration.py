"""Judges checked against people: each judge's calibration set (``evals/calibration/<judge>.yaml``,
answers a person labelled good or bad, in several languages) is graded by a judge model, and its
agreement with the labels decides whether that judge, on that model, may grade for the gate.

``autofill evals calibrate-judges --judge-model M`` writes the figures to
``evals/calibration/results.json`` (commit it): per judge version and model, the true-positive
rate (good answers it passes), the true-negative rate (bad answers it fails) and the agreement
(both together). A judge agreeing less than ``MIN_AGREEMENT``, or passing fewer than
``MIN_RATE`` of either kind, is refused: its model-graded checks are "not judged".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from autofill.llm import FillFailed
from evals.cases_schema import Case
from evals.judges import Judge, Judging, judges_file

CALIBRATION_DIR = Path(__file__).resolve().parent / "calibration"
RESULTS = CALIBRATION_DIR / "results.json"
MIN_AGREEMENT = 0.8
MIN_RATE = 0.7  # of good answers passed, and of bad answers failed


class LabelledAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    task: str
    language: str = Field(pattern=r"^[a-z]{2}$")
    content: str | None = None
    request: str | None = None
    target_language: str | None = None
    answer: str
    label: Literal["good", "bad"]

    def case(self) -> Case:
        return Case.model_validate(
            {
                "id": f"calibration-{self.id}",
                "task": self.task,
                "language": self.language,
                "content": self.content,
                "request": self.request,
                "target_language": self.target_language,
            }
        )


class CalibrationSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    judge: str
    items: list[LabelledAnswer] = Field(min_length=4)


@dataclass(frozen=True)
class Calibration:
    judge: str
    version: int
    model: str
    true_positive: int  # good answers it passed
    good: int
    true_negative: int  # bad answers it failed
    bad: int
    errors: int  # answers it did not grade (the call failed)

    @property
    def tpr(self) -> float:
        return self.true_positive / self.good if self.good else 0.0

    @property
    def tnr(self) -> float:
        return self.true_negative / self.bad if self.bad else 0.0

    @property
    def agreement(self) -> float:
        total = self.good + self.bad
        return (self.true_positive + self.true_negative) / total if total else 0.0

    @property
    def trusted(self) -> bool:
        return (
            self.errors == 0
            and self.agreement >= MIN_AGREEMENT
            and self.tpr >= MIN_RATE
            and self.tnr >= MIN_RATE
        )


def load_set(judge: Judge, directory: Path = CALIBRATION_DIR) -> CalibrationSet:
    path = directory / f"{judge.id}.yaml"
    data = CalibrationSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    if data.judge != judge.id:
        raise ValueError(f"{path}: judge is {data.judge!r}, expected {judge.id!r}")
    return data


def calibrate(judging: Judging, directory: Path = CALIBRATION_DIR) -> list[Calibration]:
    """Each judge's agreement with its labelled answers, on ``judging``'s model."""
    found = []
    for judge in judges_file().judges:
        labelled = load_set(judge, directory)
        tp = tn = errors = 0
        for item in labelled.items:
            try:
                choice = judging.ask_judge(judge, item.case(), item.answer)
            except FillFailed:
                errors += 1
                continue
            if item.label == "good" and choice == "pass":
                tp += 1
            elif item.label == "bad" and choice == "fail":
                tn += 1
        good = sum(1 for i in labelled.items if i.label == "good")
        found.append(
            Calibration(
                judge.id,
                judge.version,
                judging.model,
                tp,
                good,
                tn,
                len(labelled.items) - good,
                errors,
            )
        )
    return found


def _key(judge: str, version: int, model: str) -> str:
    return f"{judge}@v{version}|{model}"


def save_calibrations(found: list[Calibration], path: Path = RESULTS) -> None:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for item in found:
        data[_key(item.judge, item.version, item.model)] = asdict(item)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def stored_calibration(judge: Judge, model: str, path: Path = RESULTS) -> Calibration | None:
    """The stored figures for this judge's current version on ``model``, if any."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get(_key(judge.id, judge.version, model))
    return Calibration(**entry) if isinstance(entry, dict) else None
