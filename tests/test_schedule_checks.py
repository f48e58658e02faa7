"""`chorus validate` on schedules that cannot work as written (flows/validate.py): a Delphi's
rounds timed so that a later one may fall due first, a send window inside the quiet hours, a
flow nothing sends, a flow scheduled twice for the same people, and an ``at:`` or ``closes:``
date already past (named, so the coordinator can see which)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.loader import Problem
from flows.validate import validate_paths

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
STUDY = """study: panel
title: The panel
languages: [en]
quiet_hours: "21:00-08:00"
groups: [patient, staff]
join:
  start_flow: {start}
  keyword: PANEL
flows: [{flows}round1.yaml, round2.yaml]
schedule:
{schedule}"""
WELCOME = "flow: welcome\nsteps:\n  - id: hello\n    type: message\n    text: Welcome to the panel.\n"
ROUND = """flow: round{n}
steps:
  - id: rate
    type: delphi
    delphi: care
    round: {n}
    items: [Shorter waits, Kinder staff]
  - id: done
    type: end
    text: Thank you.
"""


def _check(tmp_path: Path, schedule: str, start: str = "welcome") -> list[Problem]:
    folder = tmp_path / "panel"
    folder.mkdir(exist_ok=True)
    flows = "welcome.yaml, " if start == "welcome" else ""
    (folder / "study.yaml").write_text(STUDY.format(start=start, schedule=schedule, flows=flows), encoding="utf-8")
    (folder / "welcome.yaml").write_text(WELCOME, encoding="utf-8")
    for n in (1, 2):
        (folder / f"round{n}.yaml").write_text(ROUND.format(n=n), encoding="utf-8")
    return validate_paths([folder], now=NOW)[0]


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


# ----------------------------------------------------------------------------- Delphi rounds


def test_rounds_timed_the_same_way_in_order_are_fine(tmp_path: Path) -> None:
    assert _check(tmp_path, "  - flow: round1\n    after: 1d\n  - flow: round2\n    after: 14d\n") == []
    assert _check(tmp_path, "  - flow: round2\n    at: 2026-06-15T09:00\n", start="round1") == [], "round 1 on joining, round 2 on a date"


def test_a_round_at_a_date_after_one_counted_from_joining_is_warned_of(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, "  - flow: round1\n    at: 2026-06-01T09:00\n  - flow: round2\n    after: 14d\n"))
    assert (Path(problem.file).name, problem.line, problem.column, problem.severity) == ("study.yaml", 14, 12, "warning")
    assert problem.message == ("round 2 (flow 'round2') of Delphi 'care' is counted from joining, but round 1 (flow 'round1') "
                               "is sent at a date: someone who joins long before that date is due it first")
    assert "time every round of a Delphi the same way" in problem.hint


def test_rounds_in_the_wrong_order_are_warned_of(tmp_path: Path) -> None:
    dated = _only(_check(tmp_path, "  - flow: round1\n    at: 2026-06-15T09:00\n  - flow: round2\n    at: 2026-06-01T09:00\n"))
    assert "round 2 (flow 'round2') of Delphi 'care' opens 2026-06-01 09:00, no later than round 1" in dated.message
    counted = _only(_check(tmp_path, "  - flow: round1\n    after: 14d\n  - flow: round2\n    after: 7d\n"))
    assert counted.message == "round 2 (flow 'round2') of Delphi 'care' is sent no later after joining than round 1 (flow 'round1')"
    joining = _only(_check(tmp_path, "  - flow: round1\n    after: 7d\n", start="round2"))
    assert "is sent on joining, but round 1 (flow 'round1') only later, by a schedule" in joining.message
    assert (joining.line, joining.column) == (7, 15)


# ----------------------------------------------------------------------------- windows and flows


def test_a_window_inside_the_quiet_hours_is_an_error(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, "  - flow: round1\n    after: 1d\n    window: \"22:00-07:00\"\n"
                                     "  - flow: round2\n    after: 14d\n"))
    assert (problem.line, problem.column, problem.severity) == (13, 13, "error")
    assert problem.message == ("the window 22:00-07:00 of the flow 'round1' lies wholly inside the quiet hours 21:00-08:00, "
                               "so there is no time it could be sent")


@pytest.mark.parametrize("window", ["\"07:00-09:00\"", "\"20:00-23:00\"", "\"09:00-17:00\""])
def test_a_window_partly_outside_the_quiet_hours_is_fine(tmp_path: Path, window: str) -> None:
    assert _check(tmp_path, f"  - flow: round1\n    after: 1d\n    window: {window}\n  - flow: round2\n    after: 14d\n") == []


def test_a_flow_nothing_sends_is_warned_of_where_it_is_listed(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, "  - flow: round1\n    after: 1d\n"))
    assert (Path(problem.file).name, problem.line, problem.column, problem.severity) == ("study.yaml", 9, 36, "warning")
    assert problem.message == ("the flow 'round2' is never sent: it is not the start_flow, no join route names it "
                               "and no schedule sends it")


def test_a_flow_scheduled_twice_for_the_same_people_is_warned_of(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, "  - flow: round1\n    after: 1d\n  - flow: round2\n    after: 14d\n"
                                     "  - flow: round1\n    after: 3d\n"))
    assert (problem.line, problem.column, problem.severity) == (15, 11, "warning")
    assert problem.message == ("the flow 'round1' is scheduled twice (first on line 11) for the same people, "
                               "so they would be sent it twice")


def test_one_flow_scheduled_for_different_groups_is_fine(tmp_path: Path) -> None:
    schedule = ("  - flow: round1\n    after: 1d\n    groups: [patient]\n  - flow: round1\n    after: 3d\n    groups: [staff]\n"
                "  - flow: round2\n    after: 14d\n")
    assert _check(tmp_path, schedule) == []


# ----------------------------------------------------------------------------- dates already past


def test_an_at_or_closes_date_already_past_is_warned_of_by_its_date(tmp_path: Path) -> None:
    problems = _check(tmp_path, "  - flow: round2\n    at: 2026-04-01T09:00\n    closes: 2026-04-20T17:00\n", start="round1")
    assert [(p.line, p.severity) for p in problems] == [(12, "warning"), (13, "warning")]
    assert problems[0].message == ("the flow 'round2' is sent at 2026-04-01 09:00, which has passed: everyone enrolled who "
                                   "has not had it, and everyone who joins, is sent it straight away")
    assert problems[1].message == ("the flow 'round2' closes 2026-04-20 17:00, which has passed: nobody who has not had it "
                                   "yet will be sent it")


def test_an_open_round_whose_closing_is_still_to_come_only_warns_of_its_opening(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, "  - flow: round2\n    at: 2026-04-01T09:00\n    closes: 2026-05-20T17:00\n", start="round1"))
    assert "sent at 2026-04-01 09:00, which has passed" in problem.message


def test_the_clock_is_read_when_no_time_is_given(tmp_path: Path) -> None:
    folder = tmp_path / "panel"
    _check(tmp_path, "  - flow: round2\n    at: 2020-04-01T09:00\n", start="round1")
    assert any("which has passed" in p.message for p in validate_paths([folder])[0])
    (folder / "study.yaml").write_text(STUDY.format(start="round1", schedule="  - flow: round2\n    at: 2099-04-01T09:00\n", flows=""))
    assert validate_paths([folder])[0] == []
