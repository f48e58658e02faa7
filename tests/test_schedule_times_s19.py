"""A repeating schedule with an end: ``times: 6`` (how many sends in all) and ``until:`` (a
date, a date and time, or a span after enrolment such as ``12w``). ``every: 7d`` used to go on
for as long as the study ran: "weekly for 6 weeks" could not be written, and an evaluation's
follow-ups went on until the study was changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.evaluation import followups
from bot.planning import Person, PlannedTask, after_sending, describe_schedule, plan_person
from flows.loader import Problem
from flows.model import Schedule, Study
from flows.validate import validate_paths
from storage.database import Database
from tests.test_schedule_replan import JOINED, _clinic

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _study(**entry: Any) -> Study:
    return Study.model_validate({"study": "s", "title": "S", "timezone": "Europe/London", "join": {"start_flow": "hello"},
                                 "schedule": [{"flow": "pulse", **entry}]})


def _sends(study: Study, enrolled: datetime = NOW, limit: int = 30) -> list[PlannedTask]:
    """Every send the schedule makes, each planned when the one before it is sent."""
    who = Person("p-1", "s", enrolled)
    plan = plan_person(study, who, enrolled)
    sent: list[PlannedTask] = []
    task = plan.tasks[0] if plan.tasks else None
    while task is not None and len(sent) < limit:
        sent.append(task)
        task = next((t for t in after_sending(study, task, who, task.due_at, None) if t.kind == "follow_up"), None)
    return sent


# ----------------------------------------------------------------------------- planning


def test_times_sends_the_flow_that_many_times_and_then_stops() -> None:
    sends = _sends(_study(every="7d", times=6))
    assert [task.payload["occurrence"] for task in sends] == [1, 2, 3, 4, 5, 6]
    assert sends[-1].due_at.date() == date(2026, 4, 13), "the sixth week after joining"
    assert len(_sends(_study(every="7d"))) == 30, "without an end it goes on"


def test_until_a_span_counts_from_enrolment_and_includes_its_last_week() -> None:
    sends = _sends(_study(every="7d", until="12w"))
    assert len(sends) == 12
    assert sends[-1].due_at.date() == date(2026, 5, 25)


def test_until_a_span_counts_from_the_date_field_the_schedule_counts_from() -> None:
    study = _study(every="7d", until="3w", relative_to="participant.discharge_date")
    who = Person("p-1", "s", NOW, fields={"discharge_date": "2026-04-01"})
    task: PlannedTask | None = plan_person(study, who, NOW).tasks[0]
    sent = []
    while task is not None:
        sent.append(task.due_at.date())
        task = next((t for t in after_sending(study, task, who, task.due_at, None) if t.kind == "follow_up"), None)
    assert sent == [date(2026, 4, 8), date(2026, 4, 15), date(2026, 4, 22)]


def test_until_a_date_keeps_sends_due_on_that_day_in_the_studys_zone() -> None:
    # monthly (30 days) from 2 March: 1 April, 1 May; 31 May is after 'until'
    assert [t.due_at.date() for t in _sends(_study(every="30d", until="2026-05-01"))] == [date(2026, 4, 1), date(2026, 5, 1)]
    assert [t.due_at.date() for t in _sends(_study(every="30d", until="2026-04-30"))] == [date(2026, 4, 1)]
    # a date and time is that moment: 10:00 BST on 1 May is 09:00 UTC, when the send falls due
    assert len(_sends(_study(every="30d", until="2026-05-01T09:59"))) == 1
    assert len(_sends(_study(every="30d", until="2026-05-01T10:00"))) == 2


def test_with_times_and_until_the_first_to_come_ends_it() -> None:
    assert len(_sends(_study(every="7d", times=3, until="12w"))) == 3
    assert len(_sends(_study(every="7d", times=10, until="2026-03-20"))) == 2


def test_someone_who_joins_after_the_until_date_is_sent_nothing_and_told_why() -> None:
    study = _study(every="7d", until="2026-03-05")
    plan = plan_person(study, Person("p-1", "s", NOW), NOW)
    assert plan.tasks == []
    assert plan.skipped == ["schedule 1 (pulse, every 7 days from enrolment, until 2026-03-05): ended: it repeats only until 2026-03-05"]


def test_sends_missed_past_their_grace_count_towards_times() -> None:
    study = _study(every="7d", times=4)
    who = Person("p-1", "s", NOW)
    late = NOW + timedelta(days=23)  # weeks 1 to 3 missed (Chorus was down): week 4 is the last
    [task] = plan_person(study, who, late).tasks
    assert task.payload["occurrence"] == 4
    assert [t for t in after_sending(study, task, who, task.due_at, None) if t.kind == "follow_up"] == []
    assert plan_person(study, who, NOW + timedelta(days=40)).skipped == [
        "schedule 1 (pulse, every 7 days from enrolment, 4 times): ended after 4 sends (times: 4)"]


def test_the_schedule_is_described_with_its_end() -> None:
    assert describe_schedule(0, Schedule(flow="pulse", every="7d", times=6)) == "schedule 1 (pulse, every 7 days from enrolment, 6 times)"
    assert describe_schedule(0, Schedule(flow="pulse", every="7d", until="12w")) == "schedule 1 (pulse, every 7 days from enrolment, for 12 weeks)"


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(("entry", "said"), [
    ({"after": "7d", "times": 6}, "'times' ends a flow sent again and again, but this schedule sends it once"),
    ({"at": "2026-04-01T09:00", "until": "2026-05-01"}, "'until' ends a flow sent again and again"),
    ({"every": "7d", "times": 0}, "times: 0 would never send the flow"),
    ({"every": "7d", "times": -2}, "times: -2 would never send the flow"),
    ({"every": "7d", "times": True}, "times: true is not a number of sends"),
    ({"every": "7d", "times": 2.5}, "times: 2.5 is not a number of sends"),
    ({"every": "7d", "until": "5d"}, "until: 5 days ends before the first send, 7 days after enrolment"),
    ({"every": "7d", "until": True}, "until: true is not a date or a duration"),
])
def test_an_end_that_cannot_work_is_an_error(entry: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError, match=said.replace("(", r"\(")):
        Schedule(flow="pulse", **entry)


def test_a_bare_date_string_is_a_date_and_a_duration_string_a_span() -> None:
    # as the study comes back from the database (JSON: dates are strings), so re-reading it changes nothing
    assert Schedule(flow="p", every="7d", until="2026-03-31").until == date(2026, 3, 31)
    assert Schedule(flow="p", every="7d", until="2w").until == timedelta(weeks=2)
    assert Schedule(flow="p", every="7d", until="2026-03-31T17:00").until == datetime(2026, 3, 31, 17, 0)


STUDY = """study: pulse
title: Pulse
languages: [en]
join:
  start_flow: welcome
  keyword: PULSE
flows: [welcome.yaml, pulse.yaml]
schedule:
  - flow: pulse
    every: 7d
{end}"""


def _validate(tmp_path: Path, end: str) -> list[Problem]:
    folder = tmp_path / "pulse"
    folder.mkdir(exist_ok=True)
    (folder / "study.yaml").write_text(STUDY.format(end=end), encoding="utf-8")
    (folder / "welcome.yaml").write_text("flow: welcome\nsteps:\n  - id: hi\n    type: message\n    text: Hello.\n", encoding="utf-8")
    (folder / "pulse.yaml").write_text("flow: pulse\nsteps:\n  - id: ok\n    type: yesno\n    text: All well?\n", encoding="utf-8")
    return validate_paths([folder], now=datetime(2026, 5, 1, tzinfo=UTC))[0]


def test_validate_points_at_the_line_of_a_bad_end(tmp_path: Path) -> None:
    [problem] = _validate(tmp_path, "    times: 0\n")
    assert (problem.line, problem.severity) == (11, "error") and "times: 0 would never send" in problem.message
    assert "times: 6" in problem.hint


def test_validate_warns_of_an_until_date_already_past(tmp_path: Path) -> None:
    [problem] = _validate(tmp_path, "    until: 2026-04-30\n")
    assert (problem.line, problem.severity) == (11, "warning")
    assert problem.message == "the flow 'pulse' repeats until 2026-04-30, which has passed: nobody will be sent it again"
    [later] = _validate(tmp_path, "    until: 2026-05-01\n    times: 6\n")
    assert "has passed" not in later.message, "the whole day of 1 May is still to come"
    assert "nobody who joins from now on will be sent it" in later.message, "but a week after joining is past it"


def test_an_until_with_no_unit_is_seconds_so_ends_before_the_first_send(tmp_path: Path) -> None:
    problems = _validate(tmp_path, "    until: 12\n")
    assert any("until: 12 seconds ends before the first send" in p.message for p in problems), problems


def test_validate_warns_of_a_repeat_that_ends_after_its_first_send(tmp_path: Path) -> None:
    [once] = _validate(tmp_path, "    times: 1\n")
    assert (once.line, once.severity) == (11, "warning")
    assert once.message == ("the flow 'pulse' repeats every 7 days, but times: 1 ends it after the first send, "
                            "7 days after enrolment: it is sent once")
    assert "'after: 7d' instead of 'every:'" in once.hint
    [short] = _validate(tmp_path, "    until: 10d\n")
    assert (short.line, short.severity, "until: 10 days ends it") == (11, "warning", short.message.split(", but ")[1][:22])
    assert _validate(tmp_path, "    times: 2\n") == [] and _validate(tmp_path, "    until: 14d\n") == [], "two sends repeat"
    [late] = _validate(tmp_path, "    after: 21d\n    until: 25d\n")  # days 21 and 28: 28 is past the end
    assert "21 days after enrolment: it is sent once" in late.message and "remove 'every:'" in late.hint


# ----------------------------------------------------------------------------- sending, on both databases


def test_the_scheduler_stops_after_times_and_the_evaluation_counts_only_real_sends(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    every: 7d\n    times: 3\n")
    pid = clinic.join("+447700900501")
    for week in range(1, 7):
        clinic.tick_at(JOINED + timedelta(days=7 * week, hours=1))
    assert clinic.sessions(pid, "check") == 3
    assert [t.payload["occurrence"] for t in clinic.follow_ups(pid, "check")] == [1, 2, 3], "nothing planned after the third"
    [everyone] = [row for row in followups(database, "clinic").responses if row["group"] == "all"]
    assert (everyone["asked"], everyone["people"]) == (3, 1), "three sends, none counted that was never going to happen"
    assert (everyone["not_answered_replaced"], everyone["not_answered_open"]) == (2, 1)


def test_publishing_an_end_drops_the_sends_past_it_and_raising_it_sends_on(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    every: 7d\n")
    pid = clinic.join("+447700900502")
    for week in (1, 2):
        clinic.tick_at(JOINED + timedelta(days=7 * week, hours=1))
    assert clinic.sessions(pid, "check") == 2
    report = clinic.publish("  - flow: check\n    every: 7d\n    times: 2\n")
    assert report is not None and (report.retimed, report.added, report.dropped) == (0, 0, 1)
    third = [t for t in clinic.follow_ups(pid, "check") if t.payload["occurrence"] == 3]
    assert len(third) == 1 and third[0].done and (third[0].error or "").startswith("dropped: the schedule changed: ended after 2 sends")
    clinic.tick_at(JOINED + timedelta(days=21, hours=1))
    assert clinic.sessions(pid, "check") == 2
    # the third week has passed (past its grace of a day): raising the end to 4 sends the fourth
    clinic.clock.now = JOINED + timedelta(days=24)
    report = clinic.publish("  - flow: check\n    every: 7d\n    times: 4\n")
    assert report is not None and (report.added, report.dropped) == (1, 0)
    clinic.tick_at(JOINED + timedelta(days=28, hours=1))
    clinic.tick_at(JOINED + timedelta(days=35, hours=1))
    assert clinic.sessions(pid, "check") == 3
    sent = [t.payload["occurrence"] for t in clinic.follow_ups(pid, "check") if t.done and not t.error]
    assert sent == [1, 2, 4]


def test_raising_the_end_before_the_dropped_send_was_due_sends_it_after_all(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    every: 7d\n")
    pid = clinic.join("+447700900503")
    clinic.tick_at(JOINED + timedelta(days=7, hours=1))
    clinic.tick_at(JOINED + timedelta(days=14, hours=1))
    report = clinic.publish("  - flow: check\n    every: 7d\n    times: 2\n")
    assert report is not None and report.dropped == 1, "the third week's send is dropped"
    clinic.clock.now = JOINED + timedelta(days=16)
    report = clinic.publish("  - flow: check\n    every: 7d\n    until: 3w\n")
    assert report is not None and report.added == 1, "and planned again, though a task with its key was dropped"
    clinic.tick_at(JOINED + timedelta(days=21, hours=1))
    clinic.tick_at(JOINED + timedelta(days=28, hours=1))
    assert clinic.sessions(pid, "check") == 3
    assert [t.due_at.date() for t in clinic.follow_ups(pid, "check") if t.done and not t.error] == [
        date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]


def test_a_series_that_ended_naturally_goes_on_when_its_end_is_removed(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    every: 7d\n    times: 1\n")
    pid = clinic.join("+447700900504")
    clinic.tick_at(JOINED + timedelta(days=7, hours=1))
    assert [t.payload["occurrence"] for t in clinic.follow_ups(pid, "check")] == [1]
    report = clinic.publish("  - flow: check\n    every: 7d\n")
    assert report is not None and report.added == 1
    clinic.tick_at(JOINED + timedelta(days=14, hours=1))
    assert clinic.sessions(pid, "check") == 2
