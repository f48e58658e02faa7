"""A length of time said in parts ('23 weeks 4 days', '1 year and 6 months', '2 wythnos a 3
diwrnod') at a number question in days, weeks, months or years (flows/parsing_durations.py).
Such a reply was read as no number at all: the participant was asked again, and after three
tries a clear answer was skipped and lost. Now it is its total in the question's unit: exact
when it is a whole number of that unit, else the whole units completed, checked first."""

from __future__ import annotations

import pytest

from flows.events import RecordAnswer
from tests.engine_chat import RecordingChat

WEEKS = {"id": "weeks", "type": "number", "text": {"en": "How many weeks pregnant are you?",
                                                    "cy": "Sawl wythnos yn feichiog ydych chi?"},
         "unit": "weeks", "min": 0, "max": 45}
DAYS = {"id": "help", "type": "number", "text": {"en": "For how long did you get help with feeding?",
                                                 "cy": "Am ba hyd y cawsoch chi help gyda bwydo?"},
        "unit": "days", "min": 0, "max": 400}
MONTHS = {"id": "age", "type": "number", "text": {"en": "How old is your child?", "cy": "Faint yw oed eich plentyn?"},
          "unit": "months", "min": 0, "max": 60}


def _values(recorded: list[RecordAnswer]) -> list[object]:
    return [answer.value for answer in recorded]


@pytest.mark.parametrize(("step", "said", "stored"), [
    (DAYS, "2 weeks and 3 days", 17), (DAYS, "about 2wks 3 days", 17), (DAYS, "1 week, 1 day", 8),
    (MONTHS, "1 year 6 months", 18), (MONTHS, "2 years and 1 month", 25), (WEEKS, "3 weeks 0 days", 3),
])
def test_a_length_in_parts_that_is_whole_in_the_question_unit_is_stored_at_once(step: dict[str, object], said: str,
                                                                                 stored: int) -> None:
    chat = RecordingChat(step)
    replies = chat.send(said)
    assert _values(chat.recorded) == [stored]
    assert replies == ["Bye."]


def test_a_length_in_parts_in_welsh_is_read() -> None:
    chat = RecordingChat(DAYS, language="cy")
    chat.send("2 wythnos a 3 diwrnod")
    assert _values(chat.recorded) == [17]


@pytest.mark.parametrize("said", ["23 weeks 4 days", "im 23 weeks and 4 days", "23w 4d"])
def test_a_pregnancy_in_weeks_and_days_is_the_weeks_completed_checked_first(said: str) -> None:
    chat = RecordingChat(WEEKS)
    replies = chat.send(said)
    assert chat.recorded == [] and replies == ["Just to check: 23 weeks? Reply YES or NO, or send the number."]
    chat.send("yes")
    assert _values(chat.recorded) == [23]


@pytest.mark.parametrize("said", ["1 month 2 weeks", "2 weeks 2 weeks"])
def test_parts_that_mix_scales_or_repeat_a_unit_are_not_added_up(said: str) -> None:
    chat = RecordingChat(DAYS)
    chat.send(said)
    assert chat.recorded == [] and chat.state.step == "help"
