"""What a new coordinator met: Delphi bands that did not fit a 0-10 scale, rounds of one
Delphi that could not be compared, validate messages that named no allowed value or
reported the consequences of one typo as mistakes of their own, and schedules described
in fractions of an hour."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.planning import describe_schedule
from flows.loader import Problem
from flows.model import Schedule
from flows.steps.delphi import DelphiScale
from flows.validate import validate_paths


def _flow(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    return validate_paths([path])[0]


def _delphi_flow(name: str, round_number: int, extra: str = "", items: str = "[waiting, phone]") -> str:
    return (
        f"flow: {name}\nsteps:\n  - id: rate\n    type: delphi\n    delphi: community\n"
        f"    round: {round_number}\n    items: {items}\n{extra}"
        "  - id: bye\n    type: end\n    text: Thank you.\n"
    )


def _study(tmp_path: Path, round1: str, round2: str) -> list[Problem]:
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.yaml").write_text(
        "study: s\ntitle: S\nlanguages: [en]\njoin:\n  start_flow: round1\n  keyword: JOIN\n"
        "flows: [round1.yaml, round2.yaml]\nschedule:\n  - flow: round2\n    after: 14d\n",
        encoding="utf-8",
    )
    (folder / "round1.yaml").write_text(round1, encoding="utf-8")
    (folder / "round2.yaml").write_text(round2, encoding="utf-8")
    return validate_paths([folder])[0]


# ----------------------------------------------------------------------------- Delphi scales


@pytest.mark.parametrize(("given", "low", "high"), [
    ({}, (1, 3), (7, 9)),
    ({"min": 0, "max": 10}, (0, 3), (7, 10)),
    ({"min": 1, "max": 5}, (1, 2), (4, 5)),
    ({"max": 10}, (1, 4), (7, 10)),
    ({"min": 0, "max": 10, "low": "0-2"}, (0, 2), (7, 10)),
])
def test_bands_left_out_are_the_scales_bottom_and_top_thirds(
    given: dict[str, object], low: tuple[int, int], high: tuple[int, int]
) -> None:
    scale = DelphiScale.model_validate(given)
    assert (scale.low, scale.high) == (low, high)


def test_bands_that_leave_an_end_of_the_scale_out_are_warned_of(tmp_path: Path) -> None:
    problems = _flow(tmp_path, _delphi_flow("f", 1, "    scale: {min: 0, max: 10, low: 1-3, high: 7-9}\n"))
    messages = [(p.severity, p.message, p.hint) for p in problems]
    assert ("warning", "step 'rate' scores 0-10, but its low band 1-3 leaves 0 in no band", "write 'low: 0-3'") in messages
    assert ("warning", "step 'rate' scores 0-10, but its high band 7-9 leaves 10 in no band", "write 'high: 7-10'") in messages
    assert len(problems) == 2


def test_rounds_of_one_delphi_on_different_scales_are_warned_of(tmp_path: Path) -> None:
    problems = _study(tmp_path, _delphi_flow("round1", 1), _delphi_flow("round2", 2, "    scale: {min: 0, max: 10}\n"))
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].severity == "warning" and problems[0].file.endswith("round2.yaml")
    assert "round 2 of Delphi 'community' scores 0-10 (bands 0-3 and 7-10), but round 1" in problems[0].message


def test_an_item_renamed_between_rounds_is_warned_of(tmp_path: Path) -> None:
    problems = _study(tmp_path, _delphi_flow("round1", 1), _delphi_flow("round2", 2, items="[wait, phone]"))
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert "has the item 'wait', which round 1 (flow 'round1') does not" in problems[0].message
    assert problems[0].hint.startswith("did you mean 'waiting'?")


def test_rounds_that_match_raise_nothing(tmp_path: Path) -> None:
    assert _study(tmp_path, _delphi_flow("round1", 1), _delphi_flow("round2", 2, items="[waiting]")) == []


# ----------------------------------------------------------------------------- messages


def test_a_near_miss_of_an_allowed_word_is_named_and_corrected(tmp_path: Path) -> None:
    problems = _flow(tmp_path, _delphi_flow("f", 1, "    ask_reason: extremes\n"))
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].message == "'ask_reason' should be true or false or 'extreme', not 'extremes'"
    assert problems[0].hint == "did you mean 'extreme'?"


def test_a_next_that_names_no_step_is_the_only_problem_reported(tmp_path: Path) -> None:
    text = """flow: f
steps:
  - id: a
    type: open
    text: Anything?
  - id: b
    type: yesno
    text: Again?
    next:
      - {if: "answer == 'yes'", goto: a}
      - goto: cc
  - id: c
    type: end
    text: Thank you.
"""
    problems = _flow(tmp_path, text)
    assert [p.message for p in problems] == ["step 'b' goes to 'cc', which is not a step of this flow"]
    assert problems[0].hint == "did you mean 'c'?"


# ----------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(("after", "said"), [
    (timedelta(minutes=1), "1 minute"),
    (timedelta(hours=2), "2 hours"),
    (timedelta(days=28), "28 days"),
    (timedelta(weeks=6), "6 weeks"),
    (timedelta(hours=2, minutes=30), "2 hours 30 minutes"),
    (timedelta(days=1, hours=12), "1 day 12 hours"),
])
def test_schedules_are_described_in_words(after: timedelta, said: str) -> None:
    assert describe_schedule(0, Schedule(flow="later", after=after)) == f"schedule 1 (later, {said} after enrolment)"
