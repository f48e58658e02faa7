"""Putting a question off in words of one's own: on a free-text question a reply that is all
about when ('in 20 mins', 'tomorrow', 'after 7pm') or 'not now' with a short reason ('not now,
driving') snoozes, while a sentence that mentions a time ('we waited 4 hours') is the answer;
and a time after a reason ('not now, on shift. tomorrow at 3') is the time asked for, not the
default two hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import RecordAnswer, ScheduleTask
from flows.loader import load_study
from flows.snooze import parse_snooze, puts_off, zone_of
from flows.words import Words
from tests.test_answer_corrections import write_study

LONDON = zone_of("Europe/London")
TUESDAY = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)  # 14:10 GMT
LATER = tuple(Words().words_for("later"))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    loaded = load_study(write_study(tmp_path_factory.mktemp("snoozes") / "study"))
    return Engine(loaded.flows["visit"].flow, loaded.study, loaded.flows["visit"].version)


def at_step(engine: Engine, step: str) -> SessionState:
    return engine.start(TUESDAY, at_step=step).state


def snoozed_until(sprint: Sprint) -> tuple[int, int, int, int] | None:
    tasks = [e for e in sprint.events if isinstance(e, ScheduleTask) and e.kind == "snooze"]
    if not tasks:
        return None
    local = tasks[0].at.astimezone(LONDON)
    return local.month, local.day, local.hour, local.minute


SNOOZES = [
    ("in 20 mins", (3, 10, 14, 30)),
    ("in 2 hours", (3, 10, 16, 10)),
    ("tomorrow", (3, 11, 9, 0)),
    ("after 7pm", (3, 10, 19, 0)),
    ("not now, driving", (3, 10, 16, 10)),
    ("can't talk, at work", (3, 10, 16, 10)),
    ("Can’t talk - in a meeting", (3, 10, 16, 10)),
    ("not now, on shift. tomorrow at 3", (3, 11, 15, 0)),
    ("busy now, after 7pm", (3, 10, 19, 0)),
    ("not now, driving. text me at 6", (3, 10, 18, 0)),
]


@pytest.mark.parametrize(("text", "expected"), SNOOZES)
def test_on_a_free_text_question_a_reply_all_about_when_snoozes(engine: Engine, text: str, expected: tuple[int, int, int, int]) -> None:
    sprint = engine.handle(at_step(engine, "story"), TextInput(text), TUESDAY)
    assert not [e for e in sprint.events if isinstance(e, RecordAnswer)], "not stored as the story"
    assert sprint.state.status == "snoozed"
    assert snoozed_until(sprint) == expected


@pytest.mark.parametrize("text", [
    "we waited 4 hours", "tomorrow I have surgery and I'm scared", "after 7", "busy, loud, no seats",
    "later that night my dad collapsed", "Later, at 3, the doctor came", "in a queue for hours",
    "not now, my dad was admitted last night and we are still here waiting",
])
def test_on_a_free_text_question_a_sentence_that_mentions_a_time_is_the_answer(engine: Engine, text: str) -> None:
    sprint = engine.handle(at_step(engine, "story"), TextInput(text), TUESDAY)
    assert [(e.step_id, e.value) for e in sprint.events if isinstance(e, RecordAnswer)] == [("story", text)]
    assert snoozed_until(sprint) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("not now, on shift. tomorrow at 3", (3, 11, 15, 0)),
    ("busy now, after 7pm", (3, 10, 19, 0)),
    ("busy, on a ward round, after 7pm", (3, 10, 19, 0)),
])
def test_on_a_rating_the_time_after_a_reason_is_the_one_asked_for(engine: Engine, text: str, expected: tuple[int, int, int, int]) -> None:
    sprint = engine.handle(at_step(engine, "informed"), TextInput(text), TUESDAY)
    assert snoozed_until(sprint) == expected
    assert [m.text for m in sprint.messages()][0].startswith("No problem. We'll ask again ")


@pytest.mark.parametrize(("text", "hours", "minutes"), [
    ("not now, on shift. tomorrow at 3", 24 + 15 - 14, -10),
    ("busy now, after 7pm", 19 - 14, -10),
    ("later - driving, maybe in 20 mins", 0, 20),
])
def test_a_time_that_ends_a_reason_is_read(text: str, hours: int, minutes: int) -> None:
    found = parse_snooze(text, TUESDAY, LONDON, LATER)
    assert found is not None
    assert found.until == TUESDAY + timedelta(hours=hours, minutes=minutes)


@pytest.mark.parametrize("text", ["Later, at 3, the doctor came", "busy, at 3 the nurse came", "not now, 12 hours in a chair"])
def test_a_time_told_inside_a_sentence_is_no_snooze_time(text: str) -> None:
    assert parse_snooze(text, TUESDAY, LONDON, LATER) is None


@pytest.mark.parametrize(("text", "puts"), [
    ("not now, driving", True), ("can't talk, at work", True), ("dim nawr, yn gyrru", True), ("snooze, in a meeting", True),
    ("busy and loud", False), ("later that night he fell", False), ("not now", False),
    ("not now, my dad was admitted last night and we are still waiting", False),
])
def test_a_later_phrase_with_a_short_reason_puts_the_question_off(text: str, puts: bool) -> None:
    assert puts_off(text, LATER) is puts


def test_the_new_later_phrases_are_global_words() -> None:
    words = Words()
    assert [words.command(said) for said in ("can't talk", "Can’t talk", "not right now", "dim nawr")] == ["later"] * 4
