"""Model-graded checks with a scripted judge (an in-process fake Completer): binary verdicts,
their cache, and pairwise comparison that cancels position bias."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from autofill.llm.complete import Completer
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.types import Completion, LLMRequest, Usage
from evals.cache import DiskCache
from evals.calibration import Calibration, save_calibrations
from evals.cases_schema import Case
from evals.judges import Judging, judges_file


class ScriptedJudge(Completer):
    """Answers every judge request with ``choose(user message)``; counts the calls."""

    def __init__(self, choose: Callable[[str], str]) -> None:
        super().__init__(limiter=RateLimiter({}, None))
        self.choose = choose
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest) -> Completion:
        self.requests.append(request)
        assert request.temperature == 0.0
        choice = self.choose(request.messages[-1].content)
        return Completion(choice, f'{{"value": "{choice}"}}', Usage(), 0.0, 0.0, 1, 1, "fake")


CASE = Case(
    id="j",
    task="summary",
    language="en",
    content="The export times out above 50k rows.",
)


def _calibrated(tmp_path: Path, model: str) -> Path:
    """A results file in which every judge on ``model`` agreed with every label."""
    path = tmp_path / "calibration.json"
    save_calibrations(
        [Calibration(j.id, j.version, model, 4, 4, 4, 4, 0) for j in judges_file().judges], path
    )
    return path


def test_a_failing_judge_fails_the_check_and_its_verdict_is_cached(tmp_path: Path) -> None:
    judge = ScriptedJudge(lambda text: "fail" if "invented" in text else "pass")
    judging = Judging("fake:judge", judge, DiskCache(tmp_path), _calibrated(tmp_path, "fake:judge"))
    verdicts = {v.check: v for v in judging.judge(CASE, "Exports time out; invented detail.")}
    assert set(verdicts) == {"judge:faithful@v1", "judge:reasonable_summary@v1"}
    assert not verdicts["judge:faithful@v1"].passed
    assert "said fail" in verdicts["judge:faithful@v1"].reason
    calls = len(judge.requests)
    judging.judge(CASE, "Exports time out; invented detail.")
    assert len(judge.requests) == calls  # same judge version and output: from the cache
    good = judging.judge(CASE, "Exports above 50k rows time out.")
    assert all(v.passed for v in good)
    # The page and answer reach the judge as delimited data.
    user = judge.requests[0].messages[-1].content
    assert "<page>" in user and "<answer>" in user


def test_pairwise_asks_both_orders_and_a_position_bias_is_a_tie(tmp_path: Path) -> None:
    always_a = ScriptedJudge(lambda text: "A")
    judging = Judging("fake:judge", always_a, DiskCache(tmp_path / "a"))
    assert judging.compare(CASE, "new answer", "old answer") == "tie"
    assert len(always_a.requests) == 2

    def prefers_short(text: str) -> str:
        a = text.split("<answer_a>")[1].split("</answer_a>")[0]
        b = text.split("<answer_b>")[1].split("</answer_b>")[0]
        return "A" if len(a) < len(b) else "B"

    fair = Judging("fake:judge", ScriptedJudge(prefers_short), DiskCache(tmp_path / "b"))
    assert fair.compare(CASE, "Short.", "A much longer answer.") == "win"
    assert fair.compare(CASE, "A much longer answer.", "Short.") == "loss"
