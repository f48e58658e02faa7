"""`chorus validate` warns of when flows are sent (flows/timing_checks.py): a schedule's window
that never meets the contact hours a step of the study offers (nor outside the quiet hours),
so whoever picks them gets the flow outside its window; and two flows due at the same moment
for the same people, so one waits for the other. Warnings, not errors: such a study still
publishes. Windows that overlap, other groups and other dates are not warned of. The desk's
validate page runs the same checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.planning import Person, placed
from flows.loader import Problem, load_study
from flows.validate import validate_paths
from tests.desk_helpers import Desk, desk_app

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STUDY = """study: ward
title: Ward rounds
languages: [en]
timezone: Europe/London
{quiet}groups: [nurse, visitor]
join:
  start_flow: hello
  keyword: WARD
  routes:
    - keyword: WARDNURSE
      group: nurse
      flow: {nurse_flow}
flows: [hello.yaml, nurses.yaml, checkin.yaml, feedback.yaml]
schedule:
{schedule}"""
HELLO = """flow: hello
steps:
  - id: hi
    type: message
    text: Hello from the ward team.
  - id: discharged
    type: open
    text: Which day did you go home?
    save_to: participant.went_home
  - id: bye
    type: end
    text: Thank you.
"""
NURSES = """flow: nurses
steps:
  - id: shifts
    type: choice
    text: When may we message you?
    options:
{options}    save_to: participant.contact_hours
  - id: bye
    type: end
    text: Thanks, we will keep to those hours.
"""
SHORT = "flow: {name}\nsteps:\n  - id: how\n    type: scale\n    text: How are things, 1 to 5?\n    min: 1\n    max: 5\n"
DAY_SHIFTS = ('      - {value: "09:00-17:00", label: Nine to five}\n'
              '      - {value: "08:00-20:00", label: Eight till eight}\n')


def _check(tmp_path: Path, schedule: str, options: str = DAY_SHIFTS, quiet: str = "",
           nurse_flow: str = "nurses") -> list[Problem]:
    folder = tmp_path / "ward"
    folder.mkdir(exist_ok=True)
    study = STUDY.format(quiet=f'quiet_hours: "{quiet}"\n' if quiet else "", schedule=schedule, nurse_flow=nurse_flow)
    (folder / "study.yaml").write_text(study, encoding="utf-8")
    (folder / "hello.yaml").write_text(HELLO, encoding="utf-8")
    (folder / "nurses.yaml").write_text(NURSES.format(options=options), encoding="utf-8")
    for name in ("checkin", "feedback"):
        (folder / f"{name}.yaml").write_text(SHORT.format(name=name), encoding="utf-8")
    return validate_paths([folder], now=NOW)[0]


def _warnings(problems: list[Problem]) -> list[Problem]:
    assert all(p.severity == "warning" for p in problems), "\n".join(map(str, problems))
    return problems


def _line_of(tmp_path: Path, needle: str, occurrence: int = 1) -> int:
    lines = (tmp_path / "ward" / "study.yaml").read_text(encoding="utf-8").splitlines()
    return [number for number, line in enumerate(lines, 1) if needle in line][occurrence - 1]


# ----------------------------------------------------------------------------- windows and contact hours

EVERYONE = "  - flow: nurses\n    after: 1d\n"


def test_a_window_before_every_contact_hour_offered_is_warned_of_at_the_window(tmp_path: Path) -> None:
    schedule = EVERYONE + '  - flow: checkin\n    every: 7d\n    window: "06:00-08:00"\n  - flow: feedback\n    after: 30d\n'
    problems = _warnings(_check(tmp_path, schedule))
    assert len(problems) == 2, "\n".join(map(str, problems))
    first = problems[0]
    assert (Path(first.file).name, first.line) == ("study.yaml", _line_of(tmp_path, "06:00-08:00"))
    assert first.message == ("the window 06:00-08:00 of the flow 'checkin' never meets the contact hours 09:00-17:00 that "
                             "step 'shifts' offers (nurses.yaml, line 7): whoever chooses them is sent 'checkin' in their "
                             "contact hours instead, outside the window")
    assert first.hint.startswith('widen the window to meet them, e.g. window: "06:00-17:00"')
    assert "contact hours 08:00-20:00" in problems[1].message and '"06:00-20:00"' in problems[1].hint


def test_the_warning_agrees_with_where_planning_puts_the_flow(tmp_path: Path) -> None:
    """What validation warns of is what the planner then does: the flow goes in the contact hours."""
    schedule = EVERYONE + '  - flow: checkin\n    every: 7d\n    window: "06:00-08:00"\n  - flow: feedback\n    after: 30d\n'
    _check(tmp_path, schedule)
    study = load_study(tmp_path / "ward").study
    nurse = Person("p-1", "ward", NOW, "nurse", {"contact_hours": "09:00-17:00"})
    moment, note = placed(datetime(2026, 3, 9, 6, 30, tzinfo=UTC), study, study.schedule[1], nurse)
    assert note == "contact hours 09:00-17:00 never meet the window 06:00-08:00: sent in the contact hours"
    assert moment == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("window", ["08:00-12:00", "16:30-23:00", "07:00-09:30"])
def test_a_window_that_overlaps_the_contact_hours_offered_is_not_warned_of(tmp_path: Path, window: str) -> None:
    options = '      - {value: "09:00-17:00", label: Nine to five}\n'
    schedule = EVERYONE + f'  - flow: checkin\n    every: 7d\n    window: "{window}"\n  - flow: feedback\n    after: 30d\n'
    assert _check(tmp_path, schedule, options=options) == []


def test_night_contact_hours_wrapping_past_midnight_meet_an_early_window(tmp_path: Path) -> None:
    nights = '      - {value: "19:00-07:00", label: Nights}\n'
    schedule = EVERYONE + '  - flow: checkin\n    every: 7d\n    window: "06:00-08:00"\n  - flow: feedback\n    after: 30d\n'
    assert _check(tmp_path, schedule, options=nights) == [], "they meet from 06:00 to 07:00"
    late = schedule.replace("06:00-08:00", "07:30-18:00")
    problem = _warnings(_check(tmp_path, late, options=nights))[0]
    assert "never meets the contact hours 19:00-07:00" in problem.message


def test_a_window_that_meets_the_contact_hours_only_in_the_quiet_hours_is_warned_of(tmp_path: Path) -> None:
    evenings = '      - {value: "21:30-07:30", label: Overnight}\n'
    schedule = EVERYONE + '  - flow: checkin\n    every: 7d\n    window: "19:00-23:00"\n  - flow: feedback\n    after: 30d\n'
    problems = _warnings(_check(tmp_path, schedule, options=evenings, quiet="21:00-07:00"))
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].message.startswith("the window 19:00-23:00 of the flow 'checkin' meets the contact hours 21:30-07:30 "
                                          "that step 'shifts' offers (nurses.yaml, line 7) only in the quiet hours "
                                          "21:00-07:00, when nothing is sent")
    assert problems[0].hint == "move the window out of the quiet hours 21:00-07:00, or offer contact hours outside them"


def test_a_window_wholly_in_the_quiet_hours_is_only_the_error_it_was(tmp_path: Path) -> None:
    evenings = '      - {value: "21:30-07:30", label: Overnight}\n'
    schedule = EVERYONE + '  - flow: checkin\n    every: 7d\n    window: "22:00-06:00"\n  - flow: feedback\n    after: 30d\n'
    problems = _check(tmp_path, schedule, options=evenings, quiet="21:00-07:00")
    assert [p.severity for p in problems] == ["error"], "\n".join(map(str, problems))
    assert "lies wholly inside the quiet hours" in problems[0].message


def test_contact_hours_offered_wholly_in_the_quiet_hours_are_warned_of_at_the_option(tmp_path: Path) -> None:
    """Nothing is sent in the quiet hours, so whoever chooses such hours is messaged outside them."""
    late = '      - {value: "09:00-17:00", label: Days}\n      - {value: "22:00-23:30", label: Late evening}\n'
    schedule = EVERYONE + '  - flow: checkin\n    every: 7d\n  - flow: feedback\n    after: 30d\n'
    problems = _warnings(_check(tmp_path, schedule, options=late, quiet="21:00-07:00"))
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert (Path(problems[0].file).name, problems[0].line) == ("nurses.yaml", 8)
    assert problems[0].message == ("the contact hours 22:00-23:30 that step 'shifts' offers lie wholly in the study's quiet "
                                   "hours 21:00-07:00, when nothing is sent: whoever chooses them is messaged outside the "
                                   "hours they chose")
    assert problems[0].hint == 'offer hours outside the quiet hours (e.g. "07:00-21:00"), or narrow the quiet hours'
    partly = late.replace("22:00-23:30", "20:00-23:30")
    assert _check(tmp_path, schedule, options=partly, quiet="21:00-07:00") == []


def test_contact_hours_offered_only_to_other_people_are_not_compared(tmp_path: Path) -> None:
    """The hours question reaches nurses only (their join route); the early flow is for visitors."""
    schedule = ('  - flow: checkin\n    every: 7d\n    window: "06:00-08:00"\n    groups: [visitor]\n'
                "  - flow: feedback\n    after: 30d\n")
    assert _check(tmp_path, schedule) == []
    for_nurses = schedule.replace("groups: [visitor]", "groups: [nurse]")
    assert len(_warnings(_check(tmp_path, for_nurses))) == 2


# ----------------------------------------------------------------------------- flows due together


def test_two_flows_after_the_same_time_from_joining_are_warned_of(tmp_path: Path) -> None:
    schedule = EVERYONE + "  - flow: checkin\n    after: 14d\n  - flow: feedback\n    after: 14d\n"
    problem = _warnings(_check(tmp_path, schedule))
    assert len(problem) == 1, "\n".join(map(str, problem))
    assert (problem[0].line, problem[0].column) == (_line_of(tmp_path, "after: 14d", 2), 12)
    assert problem[0].message == (f"the flows 'checkin' (line {_line_of(tmp_path, 'flow: checkin')}) and 'feedback' are "
                                  "both sent 14 days after joining to the same people, so they fall due at the same "
                                  "moment: one is held until the other is finished or has gone a while without a "
                                  "reply")
    assert "'after: 15d'" in problem[0].hint


@pytest.mark.parametrize(("checkin", "feedback"), [
    ("after: 14d", "after: 15d"),
    ("after: 14d\n    groups: [visitor]", "after: 14d\n    groups: [nurse]"),
    ('after: 14d\n    window: "09:00-12:00"', 'after: 14d\n    window: "13:00-17:00"'),
    ("after: 14d", "after: 14d\n    relative_to: participant.went_home"),
    ("every: 7d", "after: 10d"),
    ("every: 7d\n    times: 2", "after: 21d"),
    ("every: 7d\n    until: 20d", "after: 21d"),
    ("at: 2026-06-01T09:00", "after: 14d"),
    ("at: 2026-06-01T09:00", "at: 2026-06-01T10:00"),
    ('at: 2026-06-01T09:00', 'at: 2026-06-01T09:00\n    window: "13:00-17:00"'),
])
def test_flows_that_cannot_fall_due_together_are_not_warned_of(tmp_path: Path, checkin: str, feedback: str) -> None:
    schedule = EVERYONE + f"  - flow: checkin\n    {checkin}\n  - flow: feedback\n    {feedback}\n"
    assert _check(tmp_path, schedule) == []


@pytest.mark.parametrize(("checkin", "feedback", "said"), [
    ("at: 2026-06-01T09:00", "at: 2026-06-01T09:00", "at 2026-06-01 09:00"),
    ('at: 2026-06-01T07:00\n    window: "09:00-12:00"', "at: 2026-06-01T09:00", "at 2026-06-01 09:00"),
    ("every: 7d", "every: 7d", "every 7 days from joining"),
    ("every: 7d", 'after: 7d\n    window: "10:00-16:00"', "7 days after joining"),
    ("after: 3d\n    relative_to: participant.went_home", "after: 3d\n    relative_to: participant.went_home",
     "3 days after participant.went_home"),
    ("after: 14d\n    groups: [nurse]", "after: 14d", "14 days after joining"),
    # a later send of a repeating schedule meets a one-off (a weekly pulse's 2nd and a 2-week follow-up)
    ("every: 7d", "after: 14d", "14 days after joining (the 2nd of 'checkin' every 7 days)"),
    ("every: 7d\n    times: 8", "after: 42d", "6 weeks after joining (the 6th of 'checkin' every 7 days)"),
    ("every: 7d", "every: 14d", "14 days after joining (the 2nd of 'checkin' every 7 days)"),
    ("every: 14d", "every: 21d", "6 weeks after joining (the 3rd of 'checkin' every 14 days and the 2nd of 'feedback' every 21 days)"),
])
def test_flows_due_at_the_same_moment_are_warned_of(tmp_path: Path, checkin: str, feedback: str, said: str) -> None:
    schedule = EVERYONE + f"  - flow: checkin\n    {checkin}\n  - flow: feedback\n    {feedback}\n"
    problems = _warnings(_check(tmp_path, schedule))
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert f"'feedback' are both sent {said} to the same people" in problems[0].message


# ----------------------------------------------------------------------------- the desk


def test_the_desks_validate_page_shows_the_warnings(tmp_path: Path) -> None:
    """Pasting a first flow that offers evening contact hours, against the example study's
    09:00-19:00 windows: a warning for each scheduled flow, and the flow may still be published."""
    pasted = ("flow: understand\nsteps:\n  - id: hours\n    type: choice\n    text: When may we message you?\n"
              "    options:\n      - {value: \"19:00-22:00\", label: Evenings}\n    save_to: participant.contact_hours\n"
              "  - id: bye\n    type: end\n    text: Thank you.\n")
    with desk_app(tmp_path) as desk:
        result = _validate(desk, pasted)
    assert result["ok"], result["problems"]
    warned = [p for p in result["problems"] if "contact hours 19:00-22:00" in p["message"]]
    assert {p["message"].split("'")[1] for p in warned} == {"vision", "codesign", "evaluate"}
    assert all(p["severity"] == "warning" and p["file"].endswith("study.yaml") for p in warned)


def _validate(desk: Desk, text: str) -> dict[str, Any]:
    desk.client.headers["Authorization"] = f"Bearer {desk.token('coordinator', ('ae-waiting',))}"
    response = desk.client.post("/api/v1/studies/ae-waiting/flows/validate", json={"yaml": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
