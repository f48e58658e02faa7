"""Friends and Family Test and System Usability Scale scoring, and tracking them over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.analysis.instruments import (
    ALL_GROUPS,
    FFT_ANSWERS,
    AnswerRecord,
    fft_code,
    fft_summary,
    sus_score,
    track,
)
from flows.loader import load_study

EVALUATION = Path(__file__).resolve().parent.parent / "flows" / "examples" / "evaluation"


def test_percentage_positive_counts_dont_know_in_the_total() -> None:
    answers = ["very_good"] * 5 + ["good"] * 3 + ["neither", "poor", "dont_know", "dont_know"]
    summary = fft_summary(answers)
    assert summary.responses == 12
    assert summary.percent_positive == pytest.approx(100 * 8 / 12)  # not 8/10
    assert summary.percent_negative == pytest.approx(100 * 1 / 12)
    assert summary.counts["dont_know"] == 2


def test_fft_accepts_labels_and_ignores_skips() -> None:
    summary = fft_summary(["Very good", "Don't know", "don’t know", None, "", "Neither good nor poor", "banana"])
    assert summary.responses == 4
    assert summary.percent_positive == pytest.approx(25.0)
    assert fft_code("VERY_POOR") == "very_poor"


def test_no_responses_give_no_percentage() -> None:
    summary = fft_summary([None, "skip"])
    assert summary.responses == 0 and summary.percent_positive is None


def test_the_example_fft_flow_has_the_six_answers_in_order_and_current_wording() -> None:
    loaded = load_study(EVALUATION)
    step = loaded.flows["fft"].flow.step("fft")
    assert [option.value for option in step.options] == list(FFT_ANSWERS)  # type: ignore[attr-defined]
    assert [option.label for option in step.options] == [  # type: ignore[attr-defined]
        "Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know",
    ]
    assert str(step.text).endswith("overall how was your experience of our service?")
    assert str(step.text).startswith("Thinking about ")


@pytest.mark.parametrize(("answers", "expected"), [
    ([5, 1, 5, 1, 5, 1, 5, 1, 5, 1], 100.0),
    ([1, 5, 1, 5, 1, 5, 1, 5, 1, 5], 0.0),
    ([3] * 10, 50.0),
    ([4, 2, 5, 1, 4, 2, 5, 1, 4, 2], 85.0),  # (3+3+4+4+3+3+4+4+3+3) x 2.5
])
def test_sus_scores_odd_items_up_and_even_items_down(answers: list[int], expected: float) -> None:
    assert sus_score(answers) == expected
    assert sus_score(dict(enumerate(answers, start=1))) == expected


@pytest.mark.parametrize("bad", [[3] * 9, [3] * 9 + [6], [3] * 9 + [0], [3] * 9 + [2.5]])
def test_sus_refuses_an_incomplete_or_out_of_range_response(bad: list[int]) -> None:
    with pytest.raises(ValueError):
        sus_score(bad)


def test_the_example_sus_flow_has_ten_items_from_one_to_five() -> None:
    flow = load_study(EVALUATION).flows["sus"].flow
    items = [s for s in flow.steps if s.id.startswith("sus_")]
    assert [s.id for s in items] == [f"sus_{n}" for n in range(1, 11)]
    assert all((s.min, s.max) == (1, 5) for s in items)  # type: ignore[attr-defined]


def _sus(pid: str, group: str, session: int, answers: list[int], at: datetime) -> list[AnswerRecord]:
    return [AnswerRecord(pid, group, "sus", f"sus_{n}", value, at + timedelta(minutes=n), session)
            for n, value in enumerate(answers, start=1)]


def test_tracking_gives_fft_and_mean_sus_per_group_per_month() -> None:
    march, april = datetime(2026, 3, 10, 12, tzinfo=UTC), datetime(2026, 4, 10, 12, tzinfo=UTC)
    records = [
        AnswerRecord("p-1", "patient", "fft", "fft", "very_good", march, 1),
        AnswerRecord("p-2", "patient", "fft", "fft", "dont_know", march, 2),
        AnswerRecord("p-3", "staff", "fft", "fft", "poor", march, 3),
        AnswerRecord("p-1", "patient", "fft", "fft", "good", april, 4),
        AnswerRecord("p-1", "patient", "fft", "fft_why", "lovely", april, 4),
        *_sus("p-1", "patient", 5, [5, 1, 5, 1, 5, 1, 5, 1, 5, 1], march),
        *_sus("p-2", "patient", 6, [3] * 10, march),
        *_sus("p-3", "staff", 7, [3] * 9, march),  # incomplete: not counted
    ]
    rows = {(r.group, r.period): r for r in track(records, "month")}
    patient_march = rows[("patient", "2026-03")]
    assert patient_march.fft.responses == 2 and patient_march.fft.percent_positive == pytest.approx(50.0)
    assert patient_march.sus_responses == 2 and patient_march.sus_mean == pytest.approx(75.0)
    assert rows[("staff", "2026-03")].sus_responses == 0 and rows[("staff", "2026-03")].sus_mean is None
    assert rows[("patient", "2026-04")].fft.percent_positive == pytest.approx(100.0)
    everyone = rows[(ALL_GROUPS, "2026-03")]
    assert everyone.fft.responses == 3 and everyone.fft.percent_positive == pytest.approx(100 / 3)


def test_a_changed_answer_counts_once_with_its_last_value() -> None:
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    records = [
        AnswerRecord("p-1", "patient", "fft", "fft", "poor", at, 1),
        AnswerRecord("p-1", "patient", "fft", "fft", "very_good", at + timedelta(minutes=1), 1),
    ]
    (patient, _everyone) = track(records, "week")
    assert patient.period == "2026-03-09", "the week from Monday 9 March"
    assert patient.fft.responses == 1 and patient.fft.percent_positive == 100.0
