"""Planning a study's schedule for one participant (bot/planning.py): pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.planning import (
    CLOSE,
    FOLLOW_UP,
    REMINDER,
    Person,
    PlannedTask,
    after_sending,
    participant_date,
    plan_check,
    plan_person,
)
from flows.model import Study

LONDON = ZoneInfo("Europe/London")


def study(*schedule: dict[str, Any], **extra: Any) -> Study:
    return Study.model_validate({
        "study": "s", "title": "S", "timezone": "Europe/London", "quiet_hours": "21:00-08:00",
        "groups": ["patient", "staff"], "join": {"start_flow": "welcome"}, "schedule": list(schedule), **extra,
    })


def person(enrolled: datetime, group: str | None = "patient", **fields: Any) -> Person:
    return Person("p-1", "s", enrolled, group, fields)


def wall(moment: datetime, zone: ZoneInfo = LONDON) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def only(plan_tasks: list[PlannedTask]) -> PlannedTask:
    assert len(plan_tasks) == 1, plan_tasks
    return plan_tasks[0]


def test_a_follow_up_due_at_nine_stays_at_nine_across_the_spring_change() -> None:
    enrolled = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 09:00 GMT
    task = only(plan_person(study({"flow": "evaluate", "after": "28d"}), person(enrolled), enrolled).tasks)
    assert task.kind == FOLLOW_UP
    assert wall(task.due_at) == "2026-04-07 09:00 BST"
    assert task.due_at == datetime(2026, 4, 7, 8, 0, tzinfo=UTC)


def test_a_weekly_pulse_stays_at_nine_across_the_autumn_change() -> None:
    s = study({"flow": "pulse", "every": "7d", "groups": ["staff"], "window": "09:00-17:00"})
    enrolled = datetime(2026, 10, 16, 8, 0, tzinfo=UTC)  # Friday 09:00 BST
    staff = person(enrolled, "staff")
    first = only(plan_person(s, staff, enrolled).tasks)
    second = only(after_sending(s, first, staff, first.due_at, session_id=7))
    third = only(after_sending(s, second, staff, second.due_at, session_id=8))
    assert [wall(t.due_at) for t in (first, second, third)] == [
        "2026-10-23 09:00 BST", "2026-10-30 09:00 GMT", "2026-11-06 09:00 GMT",
    ]
    assert [t.payload["occurrence"] for t in (first, second, third)] == [1, 2, 3]
    assert len({t.key for t in (first, second, third)}) == 3


def test_a_follow_up_is_moved_into_its_window_and_out_of_quiet_hours() -> None:
    enrolled = datetime(2026, 6, 1, 20, 30, tzinfo=UTC)  # 21:30 BST, quiet
    s = study({"flow": "evaluate", "after": "7d", "window": "09:00-19:00"})
    assert wall(only(plan_person(s, person(enrolled), enrolled).tasks).due_at) == "2026-06-09 09:00 BST"
    no_window = study({"flow": "evaluate", "after": "7d"})
    assert wall(only(plan_person(no_window, person(enrolled), enrolled).tasks).due_at) == "2026-06-09 08:00 BST"


def test_staff_contact_hours_are_respected() -> None:
    enrolled = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
    s = study({"flow": "pulse", "every": "7d", "window": "09:00-17:00"})
    picky = person(enrolled, "staff", contact_hours="13:00-15:00")
    assert wall(only(plan_person(s, picky, enrolled).tasks).due_at) == "2026-06-08 13:00 BST"
    broken = person(enrolled, "staff", contact_hours="whenever")
    assert wall(only(plan_person(s, broken, enrolled).tasks).due_at) == "2026-06-08 09:00 BST"


def test_contact_hours_that_leave_no_time_give_way_to_the_window() -> None:
    enrolled = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    s = study({"flow": "pulse", "after": "1d", "window": "09:00-12:00"})
    night_owl = person(enrolled, "staff", contact_hours="22:00-23:00")
    assert wall(only(plan_person(s, night_owl, enrolled).tasks).due_at) == "2026-06-02 09:00 BST"


def test_the_participants_time_zone_wins_over_the_studys() -> None:
    enrolled = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    s = study({"flow": "evaluate", "after": "1d", "window": "09:00-10:00"})
    abroad = person(enrolled, timezone="America/New_York")
    task = only(plan_person(s, abroad, enrolled).tasks)
    assert wall(task.due_at, ZoneInfo("America/New_York")) == "2026-06-02 09:00 EDT"


def test_a_follow_up_counts_from_a_date_the_participant_gave() -> None:
    s = study({"flow": "fft", "after": "28d", "relative_to": "participant.discharge_date", "window": "09:00-19:00"})
    enrolled = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    task = only(plan_person(s, person(enrolled, discharge_date="3/3/2026"), enrolled).tasks)
    assert wall(task.due_at) == "2026-03-31 09:00 BST"
    waiting = plan_person(s, person(enrolled), enrolled)
    assert not waiting.tasks and "waiting for participant.discharge_date" in waiting.waiting[0]
    nonsense = plan_person(s, person(enrolled, discharge_date="last tuesday"), enrolled)
    assert not nonsense.tasks and "is not a date" in nonsense.skipped[0]


def test_a_follow_up_long_past_its_date_is_not_sent_late() -> None:
    s = study({"flow": "fft", "after": "28d", "relative_to": "participant.discharge_date", "grace": "2d"})
    enrolled = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    plan = plan_person(s, person(enrolled, discharge_date="2026-03-01"), enrolled)
    assert not plan.tasks and "past the grace of 2 days" in plan.skipped[0]


@pytest.mark.parametrize(("given", "expected"), [
    ("2026-03-03", "2026-03-03 09:00 GMT"),
    ("3/3/2026", "2026-03-03 09:00 GMT"),
    ("03-04-26", "2026-04-03 09:00 BST"),
    ("3rd March 2026", "2026-03-03 09:00 GMT"),
    ("14 Hydref 2026", "2026-10-14 09:00 BST"),
    ("2026-03-03T15:30", "2026-03-03 15:30 GMT"),
])
def test_participant_dates_are_read_as_written_in_the_uk(given: str, expected: str) -> None:
    found = participant_date(given, LONDON)
    assert found is not None and wall(found) == expected


def test_schedules_for_other_groups_are_skipped_and_unknown_groups_wait() -> None:
    s = study({"flow": "pulse", "every": "7d", "groups": ["staff"]})
    enrolled = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert "only for staff" in plan_person(s, person(enrolled, "patient"), enrolled).skipped[0]
    unknown = person(enrolled, None)
    plan = plan_person(s, unknown, enrolled)
    assert not plan.tasks and "waiting for the participant's group" in plan.waiting[0]
    check = plan_check(unknown, plan, enrolled)
    assert check is not None and check.due_at > enrolled


def test_a_round_opens_at_its_date_and_late_joiners_get_it_until_it_closes() -> None:
    s = study({"flow": "round2", "at": "2026-04-01T09:00", "closes": "2026-04-15T17:00"})
    early = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    assert wall(only(plan_person(s, person(early), early).tasks).due_at) == "2026-04-01 09:00 BST"
    late = datetime(2026, 4, 3, 11, 0, tzinfo=UTC)
    assert only(plan_person(s, person(late), late).tasks).due_at == late
    too_late = datetime(2026, 4, 20, 11, 0, tzinfo=UTC)
    assert "closed" in plan_person(s, person(too_late), too_late).skipped[0]


def test_sending_plans_reminders_in_the_window_and_the_closing() -> None:
    s = study({"flow": "evaluate", "after": "7d", "window": "09:00-19:00", "reminders": ["2d", "4d"], "closes": "5d"})
    enrolled = datetime(2026, 6, 1, 17, 30, tzinfo=UTC)  # 18:30 BST
    task = only(plan_person(s, person(enrolled), enrolled).tasks)
    follow_on = after_sending(s, task, person(enrolled), task.due_at, session_id=42)
    kinds = [(t.kind, wall(t.due_at), t.session_id) for t in follow_on]
    assert kinds == [
        (REMINDER, "2026-06-10 18:30 BST", 42), (REMINDER, "2026-06-12 18:30 BST", 42), (CLOSE, "2026-06-13 18:30 BST", 42),
    ]
    short = study({"flow": "evaluate", "after": "7d", "reminders": ["3d"], "closes": "2d"})
    first = only(plan_person(short, person(enrolled), enrolled).tasks)
    assert [t.kind for t in after_sending(short, first, person(enrolled), first.due_at, 1)] == [CLOSE]


def test_planning_twice_gives_the_same_keys() -> None:
    s = study({"flow": "a", "after": "7d"}, {"flow": "b", "every": "7d"})
    enrolled = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    once = [t.key for t in plan_person(s, person(enrolled), enrolled).tasks]
    again = [t.key for t in plan_person(s, person(enrolled), enrolled + timedelta(hours=3)).tasks]
    assert once == again == ["s0:a:1", "s1:b:1"]
