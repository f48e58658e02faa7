"""Snoozes: 'in 2 hours', 'tonight', 'tomorrow', 'later 30 mins', 'after 5pm', on the
participant's clock and out of quiet hours, through flows/snooze.py and the engine."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from flows.engine import Engine, Resume, TextInput
from flows.events import ScheduleTask
from flows.loader import load_study
from flows.model import TimeWindow
from flows.snooze import add_local, describe, next_allowed, parse_snooze, zone_of

LONDON = zone_of("Europe/London")
LATER = ["later", "not now", "busy", "snooze", "remind me later", "wedyn"]
EVALUATION = Path(__file__).resolve().parent.parent / "flows" / "examples" / "evaluation"


def local(moment: datetime) -> tuple[int, int, int, int]:
    at = moment.astimezone(LONDON)
    return at.month, at.day, at.hour, at.minute


def snooze(text: str, now: datetime, strict: bool = False, free_text: bool = False) -> datetime | None:
    found = parse_snooze(text, now, LONDON, LATER, strict=strict, free_text=free_text)
    return None if found is None else found.until


@pytest.mark.parametrize(("text", "expected"), [
    ("in 2 hours", (3, 10, 16, 10)),
    ("LATER 30 mins", (3, 10, 14, 40)),
    ("later: in an hour", (3, 10, 15, 10)),
    ("in half an hour", (3, 10, 14, 40)),
    ("tonight", (3, 10, 19, 0)),
    ("this afternoon", (3, 10, 14, 40)),
    ("tomorrow", (3, 11, 9, 0)),
    ("tomorrow afternoon", (3, 11, 14, 0)),
    ("remind me tomorrow at 10", (3, 11, 10, 0)),
    ("after 5pm", (3, 10, 17, 0)),
    ("later after 5", (3, 10, 17, 0)),
    ("remind me at 17:30", (3, 10, 17, 30)),
    ("yfory", (3, 11, 9, 0)),
    ("heno", (3, 10, 19, 0)),
    ("mewn 2 awr", (3, 10, 16, 10)),
    ("Tomorrow please!", (3, 11, 9, 0)),
    ("next week", (3, 17, 9, 0)),
    ("remind me monday", (3, 16, 9, 0)),
    ("next friday afternoon", (3, 13, 14, 0)),
    ("later on tuesday at 5pm", (3, 17, 17, 0)),
    ("wedyn dydd llun", (3, 16, 9, 0)),
])
def test_it_understands_when_a_participant_wants_asking_again(text: str, expected: tuple[int, int, int, int]) -> None:
    now = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)  # 14:10 GMT
    until = snooze(text, now)
    assert until is not None, text
    assert local(until) == expected


@pytest.mark.parametrize("text", ["5", "2 hours", "5pm", "yes", "I was seen at 5pm", "later than I hoped", "in 20 years",
                                  "monday", "on friday", "next to nothing", "next monday at 25"])
def test_it_leaves_answers_that_are_not_snoozes_alone(text: str) -> None:
    assert snooze(text, datetime(2026, 3, 10, 14, 10, tzinfo=UTC)) is None


def test_a_bare_later_word_means_two_hours() -> None:
    now = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)
    assert snooze("not now", now) == now + timedelta(hours=2)


def test_on_a_free_text_question_only_a_later_word_makes_a_snooze() -> None:
    now = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)
    assert snooze("tomorrow", now, strict=True) is None
    assert snooze("in 2 hours", now, strict=True) is None
    assert snooze("later tomorrow", now, strict=True) == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def test_tomorrow_is_nine_on_the_wall_clock_across_the_spring_change() -> None:
    now = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # Saturday 20:00 GMT; clocks go forward overnight
    until = snooze("tomorrow", now)
    assert until == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert local(until) == (3, 29, 9, 0)


def test_tonight_said_late_means_a_little_later_not_the_past() -> None:
    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    assert snooze("tonight", now) == now + timedelta(minutes=30)


def test_a_bare_hour_means_the_next_such_time() -> None:
    morning = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    assert local(snooze("later after 9", morning) or morning) == (3, 10, 9, 0)
    evening = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    assert local(snooze("later after 5", evening) or evening) == (3, 11, 17, 0), "5 without am or pm: the afternoon"


def test_next_allowed_skips_quiet_hours_window_and_contact_hours() -> None:
    quiet, window, contact = TimeWindow.parse("21:00-08:00"), TimeWindow.parse("09:00-19:00"), TimeWindow.parse("10:00-16:00")
    late = datetime(2026, 6, 1, 21, 30, tzinfo=UTC)  # 22:30 BST
    assert local(next_allowed(late, LONDON, quiet=quiet)) == (6, 2, 8, 0)
    assert local(next_allowed(late, LONDON, window, quiet)) == (6, 2, 9, 0)
    assert local(next_allowed(late, LONDON, window, quiet, contact)) == (6, 2, 10, 0)
    inside = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
    assert next_allowed(inside, LONDON, window, quiet, contact) == inside


def test_whole_days_are_added_on_the_wall_clock_across_both_changes() -> None:
    spring = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # 09:00 GMT
    assert local(add_local(spring, timedelta(days=14), LONDON)) == (4, 3, 9, 0)
    autumn = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert local(add_local(autumn, timedelta(days=7), LONDON)) == (10, 27, 9, 0)
    assert add_local(autumn, timedelta(hours=2), LONDON) == autumn + timedelta(hours=2)


def test_describe_says_when_on_the_participants_clock() -> None:
    now = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert describe(now + timedelta(hours=3), now, LONDON) == "at 17:00"
    assert describe(datetime(2026, 3, 11, 9, 0, tzinfo=UTC), now, LONDON, "cy") == "yfory am 09:00"
    assert describe(datetime(2026, 3, 13, 9, 0, tzinfo=UTC), now, LONDON) == "on Friday at 09:00"


# ----------------------------------------------------------------------------- through the engine


def _chat_at_role(now: datetime) -> tuple[Engine, object]:
    loaded = load_study(EVALUATION)
    engine = Engine(loaded.flows["welcome"].flow, loaded.study)
    state = engine.start(now).state
    return engine, engine.handle(state, TextInput("yes"), now).state


def test_the_engine_snoozes_until_the_time_asked_for_and_says_when() -> None:
    now = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)
    engine, state = _chat_at_role(now)
    sprint = engine.handle(state, TextInput("in 2 hours"), now)  # type: ignore[arg-type]
    assert sprint.state.status == "snoozed"
    assert [e for e in sprint.events if isinstance(e, ScheduleTask)] == [ScheduleTask("snooze", now + timedelta(hours=2), {"step": "role"})]
    assert [m.text for m in sprint.messages()] == ["No problem. We'll ask again at 16:10. Reply any time to carry on."]
    resumed = engine.handle(sprint.state, Resume("snooze"), now + timedelta(hours=2))
    assert [(m.text.splitlines()[0], m.kind) for m in resumed.messages()] == [("Which best describes you?", "reminder")]


def test_the_engine_moves_a_snooze_out_of_quiet_hours() -> None:
    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 20:00; quiet from 21:00 to 08:00
    engine, state = _chat_at_role(now)
    sprint = engine.handle(state, TextInput("later 2 hours"), now)  # type: ignore[arg-type]
    task = next(e for e in sprint.events if isinstance(e, ScheduleTask))
    assert local(task.at) == (3, 11, 8, 0)
    assert "tomorrow at 08:00" in sprint.messages()[0].text


def test_the_engine_uses_the_participants_own_time_zone() -> None:
    now = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    loaded = load_study(EVALUATION)
    engine = Engine(loaded.flows["welcome"].flow, loaded.study)
    state = engine.start(now, fields={"timezone": "America/New_York"}).state
    state = engine.handle(state, TextInput("yes"), now).state
    task = next(e for e in engine.handle(state, TextInput("tomorrow"), now).events if isinstance(e, ScheduleTask))
    assert task.at.astimezone(zone_of("America/New_York")).time() == time(9, 0)
