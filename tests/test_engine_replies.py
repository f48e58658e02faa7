"""Replies a busy participant really sends: unclear answers around LATER, snooze times said
loosely ('tomorrow at 3', 'in a bit') and the study's join keyword texted mid-flow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.engine import Engine, Input, Resume, SessionState, Sprint, TextInput
from flows.events import RecordAnswer, ScheduleTask
from flows.loader import LoadedStudy, load_study
from flows.snooze import describe, may_be_snooze, parse_snooze, zone_of
from tests.test_engine import EXAMPLE

LONDON = zone_of("Europe/London")
LATER = ["later", "not now", "busy", "snooze", "remind me later"]
TUESDAY = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)  # 14:10 GMT
FRIDAY = datetime(2026, 3, 13, 16, 0, tzinfo=UTC)
ROLE_QUESTION = "Which best describes you?"


@pytest.fixture(scope="module")
def study() -> LoadedStudy:
    return load_study(EXAMPLE)


class Chat:
    """One participant in the A&E study's first flow, at the role question (1 to 3)."""

    def __init__(self, study: LoadedStudy, at_step: str = "role") -> None:
        loaded = study.flows["understand"]
        self.engine = Engine(loaded.flow, study.study, loaded.version)
        self.state: SessionState = self.engine.start(TUESDAY, at_step=at_step).state

    def send(self, given: str | Input, now: datetime = TUESDAY) -> Sprint:
        sprint = self.engine.handle(self.state, TextInput(given) if isinstance(given, str) else given, now)
        self.state = sprint.state
        return sprint


def texts(sprint: Sprint) -> list[str]:
    return [message.text for message in sprint.messages()]


def starts(sprint: Sprint) -> list[str]:
    return [message.text.split("\n")[0] for message in sprint.messages()]


# ----------------------------------------------------------------------------- tries across LATER


def test_a_reminder_asks_the_question_afresh_so_earlier_unclear_replies_no_longer_count(study: LoadedStudy) -> None:
    chat = Chat(study)
    chat.send("dunno")
    chat.send("hmm")
    chat.send("later")
    chat.send(Resume("snooze"), TUESDAY + timedelta(hours=2))
    sprint = chat.send("dunno", TUESDAY + timedelta(hours=2, minutes=1))  # ('ok' is no try: tests/test_explore_carers_s19.py)
    assert "Let's leave that one and move on." not in texts(sprint)
    assert chat.state.step == "role"
    assert chat.state.tries == 1


def test_unclear_replies_before_a_snooze_do_not_count_after_it(study: LoadedStudy) -> None:
    chat = Chat(study)
    chat.send("dunno")
    chat.send("hmm")
    chat.send("later")
    chat.send("dunno", TUESDAY + timedelta(minutes=5))  # ('ok' there says they are back: the question again, no try)
    assert chat.state.step == "role"
    assert chat.state.tries == 1


def test_a_nurse_putting_the_question_off_in_her_own_words_is_not_moved_on(study: LoadedStudy) -> None:
    chat = Chat(study)
    chat.send("later")
    reminded = TUESDAY + timedelta(hours=2)
    chat.send(Resume("snooze"), reminded)
    chat.send("ok", reminded)
    chat.send("after my shift", reminded)
    sprint = chat.send("later, on a night shift", reminded)
    assert not [e for e in sprint.events if isinstance(e, RecordAnswer) and e.skipped]
    assert chat.state.status == "snoozed"
    assert [e.kind for e in sprint.events if isinstance(e, ScheduleTask)] == ["snooze"]
    assert texts(sprint) == ["No problem. We'll ask again at 18:10. Reply any time to carry on."]


def test_an_unclear_reply_while_snoozed_gets_the_question_with_the_hint(study: LoadedStudy) -> None:
    chat = Chat(study)
    chat.send("later")
    sprint = chat.send("dunno", TUESDAY + timedelta(minutes=5))
    assert [m.kind for m in sprint.messages()] == ["retry", "prompt"]
    assert texts(sprint)[0] == "Please reply with a number from 1 to 3."
    assert starts(sprint)[1] == ROLE_QUESTION


def test_an_unclear_reply_long_after_a_reminder_gets_the_question_with_the_hint(study: LoadedStudy) -> None:
    chat = Chat(study)
    chat.send("later")
    reminded = TUESDAY + timedelta(hours=2)
    chat.send(Resume("snooze"), reminded)
    sprint = chat.send("ok", reminded + timedelta(hours=3))
    assert [m.kind for m in sprint.messages()] == ["retry", "prompt"]
    assert starts(sprint)[1] == ROLE_QUESTION


def test_an_unclear_reply_to_a_question_just_asked_gets_only_the_hint(study: LoadedStudy) -> None:
    chat = Chat(study)
    sprint = chat.send("ok", TUESDAY + timedelta(minutes=2))
    assert texts(sprint) == ["Please reply with a number from 1 to 3."]


# ----------------------------------------------------------------------------- snooze times


def local(moment: datetime) -> tuple[int, int, int, int]:
    at = moment.astimezone(LONDON)
    return at.month, at.day, at.hour, at.minute


@pytest.mark.parametrize(("text", "now", "expected"), [
    ("tomorrow at 3", TUESDAY, (3, 11, 15, 0)),
    ("remind me tomorrow at 3:30", TUESDAY, (3, 11, 15, 30)),
    ("tomorrow at 03:30", TUESDAY, (3, 11, 3, 30)),
    ("later at 5", datetime(2026, 3, 10, 18, 0, tzinfo=UTC), (3, 11, 17, 0)),
    ("remind me at 5pm", TUESDAY, (3, 10, 17, 0)),
    ("later today", TUESDAY, (3, 10, 16, 10)),
    ("in twenty minutes", TUESDAY, (3, 10, 14, 30)),
    ("in twenty-five mins", TUESDAY, (3, 10, 14, 35)),
    ("in a couple of hours", TUESDAY, (3, 10, 16, 10)),
    ("in a bit", TUESDAY, (3, 10, 16, 10)),
])
def test_snooze_times_said_loosely_are_understood(text: str, now: datetime, expected: tuple[int, int, int, int]) -> None:
    found = parse_snooze(text, now, LONDON, LATER)
    assert found is not None, text
    assert local(found.until) == expected


@pytest.mark.parametrize("text", ["today", "at home", "in a queue"])
def test_words_that_only_look_like_times_are_no_snooze(text: str) -> None:
    assert parse_snooze(text, TUESDAY, LONDON, LATER) is None


def test_tomorrow_at_3_is_asked_in_the_afternoon_not_moved_to_the_end_of_quiet_hours(study: LoadedStudy) -> None:
    chat = Chat(study)
    sprint = chat.send("tomorrow at 3")
    assert texts(sprint) == ["No problem. We'll ask again tomorrow at 15:00. Reply any time to carry on."]


def test_next_week_said_on_a_friday_names_the_date() -> None:
    found = parse_snooze("next week", FRIDAY, LONDON, LATER)
    assert found is not None
    assert describe(found.until, FRIDAY, LONDON) == "on Friday 20 March at 09:00"
    assert describe(found.until, FRIDAY, LONDON, "cy") == "ddydd Gwener 20 Mawrth am 09:00"


def test_a_day_within_the_week_is_named_by_its_weekday_alone() -> None:
    found = parse_snooze("remind me monday", FRIDAY, LONDON, LATER)
    assert found is not None
    assert describe(found.until, FRIDAY, LONDON) == "on Monday at 09:00"


# ----------------------------------------------------------------------------- join keyword mid-flow


@pytest.mark.parametrize("keyword", ["WAIT", "wait.", "JOIN WAIT", "waitstaff"])
def test_the_join_keyword_sent_to_an_open_question_re_asks_it_and_is_not_an_answer(study: LoadedStudy, keyword: str) -> None:
    chat = Chat(study, at_step="story")
    asked = texts(Chat(study, at_step="story").send("help"))[-1]
    sprint = chat.send(keyword)
    assert not [e for e in sprint.events if isinstance(e, RecordAnswer)]
    assert texts(sprint) == ["You're already taking part, thank you. Here is the question again.", asked]
    assert chat.state.step == "story"
    assert "story" not in chat.state.values


def test_a_story_that_merely_mentions_the_keyword_is_an_answer(study: LoadedStudy) -> None:
    chat = Chat(study, at_step="story")
    sprint = chat.send("The wait was long")
    assert [e.raw for e in sprint.events if isinstance(e, RecordAnswer)] == ["The wait was long"]


def test_a_bare_at_time_answers_a_number_question_rather_than_snoozing() -> None:
    """'at 10' may be the answer (a count, a time): only with a LATER word or 'remind me' is it a snooze."""
    assert not may_be_snooze("at 10") and may_be_snooze("later at 10", LATER) and may_be_snooze("remind me at 5pm", LATER)
