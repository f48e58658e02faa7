"""Replies a conversational heuristic took for something they are not (the misfires an
exploratory test found): a try at a scale glued onto the story sent just before it; a busy
phrase that answers the question put off instead; 'what?' stored as a Delphi score's reason;
ordinary words read as glued letter picks; 'what does that mean?' picking an option 'What?'."""

from __future__ import annotations

from typing import Any

import pytest

from flows.engine import Sprint
from flows.events import AnswersWithdrawn, RecordAnswer, ScheduleTask
from flows.parsing import match_options
from tests.engine_chat import Chat

STORY = {"id": "story", "type": "open", "text": "What was the wait like?"}
INFORMED = {"id": "informed", "type": "scale", "text": "How well were you kept informed while waiting?",
            "labels": ["Very poorly", "Poorly", "Neither", "Well", "Very well"]}
RATING = {"id": "rating", "type": "scale", "text": "How would you rate it?", "min": 1, "max": 5}
ROLE = {"id": "role", "type": "choice", "text": "Which best describes you?",
        "options": [{"value": "patient", "label": "Patient"}, {"value": "staff", "label": "Staff"}]}
SHIFTS = {"id": "shift", "type": "choice", "multiple": True, "text": "Which shifts do you usually work?",
          "options": [{"value": "day", "label": "Days"}, {"value": "night", "label": "Nights"},
                      {"value": "weekend", "label": "Weekends"}]}
HOURS = {"id": "hours", "type": "choice", "text": "When may we message you?",
         "options": [{"value": "am", "label": "Mornings"}, {"value": "pm", "label": "Evenings"}]}
WHERE = {"id": "where", "type": "open", "text": "Where were you when it happened?"}
PROBLEMS = {"id": "problems", "type": "choice", "multiple": True, "text": "Which were a problem?",
            "options": [{"value": v, "label": v.title()} for v in ("parking", "seats", "food", "toilets", "signs")]}
FEEL = {"id": "feel", "type": "choice", "text": "How did you feel?",
        "options": [{"value": "ok", "label": "OK"}, {"value": "what", "label": "What?"}, {"value": "bad", "label": "Bad"}]}
DELPHI = {"id": "rate", "type": "delphi", "delphi": "community", "ask_reason": True,
          "items": ["Shorter waits", "Better parking"]}
THANKS = {"id": "thanks", "type": "message", "text": "Thank you."}



def texts(sprint: Sprint) -> list[str]:
    return [m.text for m in sprint.messages()]


def answers(sprint: Sprint) -> list[RecordAnswer]:
    return [e for e in sprint.events if isinstance(e, RecordAnswer)]


def snoozed(sprint: Sprint) -> bool:
    return any(isinstance(e, ScheduleTask) and e.kind == "snooze" for e in sprint.events)


# ----------------------------------------------------------------------------- a try at the scale is no second text


@pytest.mark.parametrize("said", [
    "2 not great", "3 or 4", "not very well", "not very well at all", "not great", "pretty bad tbh", "very badly",
    "middling really", "out of 5? 2", "they did it well enough i suppose", "two if i am honest with you",
])
def test_a_try_at_a_labelled_scale_seconds_after_a_story_is_not_added_to_it(said: str) -> None:
    chat = Chat(STORY, INFORMED)
    chat.send("we waited ages in the corridor")
    sprint = chat.send(said, after=30)
    assert not [e for e in sprint.events if isinstance(e, AnswersWithdrawn)], said
    assert all(a.step_id == "informed" for a in answers(sprint)), said
    assert chat.state.values["story"] == "we waited ages in the corridor"
    assert "Thanks, I've added that to your last answer." not in texts(sprint)


@pytest.mark.parametrize(("said", "after_story"), [
    ("pretty good", RATING), ("it was ok i guess really", RATING), ("pretty good", ROLE),
    ("the staff were rude to us", ROLE),  # (names an option: a try at the choice)
])
def test_a_try_at_an_unlabelled_scale_or_a_choice_is_not_added_either(said: str, after_story: dict[str, Any]) -> None:
    chat = Chat(STORY, after_story)
    chat.send("we waited ages in the corridor")
    chat.send(said, after=30)
    assert chat.state.values["story"] == "we waited ages in the corridor"


def test_a_story_that_goes_on_is_still_added() -> None:
    chat = Chat(STORY, INFORMED)
    chat.send("we waited ages in the corridor")
    sprint = chat.send("and no one came to see us", after=30)
    assert [a.value for a in answers(sprint)] == ["we waited ages in the corridor and no one came to see us"]
    assert texts(sprint)[0] == "Thanks, I've added that to your last answer."


# ----------------------------------------------------------------------------- the question reads a busy phrase first


@pytest.mark.parametrize("said", ["on nights", "im on nights", "I'm on nights"])
def test_a_busy_phrase_naming_an_option_picks_it(said: str) -> None:
    chat = Chat(SHIFTS, THANKS)
    sprint = chat.send(said)
    assert not snoozed(sprint), said
    assert chat.state.values["shift"] == ["night"]


def test_a_busy_phrase_naming_no_option_still_puts_the_question_off() -> None:
    chat = Chat(HOURS, THANKS)
    sprint = chat.send("on nights")
    assert snoozed(sprint) and not answers(sprint)


@pytest.mark.parametrize("said", ["on shift", "on a night shift", "in a meeting", "ar shifft", "in theatre"])
def test_a_bare_busy_phrase_answers_a_free_text_question(said: str) -> None:
    chat = Chat(WHERE, THANKS)
    sprint = chat.send(said)
    assert not snoozed(sprint), said
    assert [a.value for a in answers(sprint)] == [said]


@pytest.mark.parametrize("said", ["on shift til 8, ask me later", "busy, ask me tomorrow", "on shift, ask me later",
                                  "on shift til 8", "Im busy rn", "in a meeting for another hour"])
def test_a_busy_phrase_that_says_when_still_puts_a_free_text_question_off(said: str) -> None:
    chat = Chat(WHERE, THANKS)
    sprint = chat.send(said)
    assert snoozed(sprint), said
    assert not answers(sprint)


# ----------------------------------------------------------------------------- 'what?' at a Delphi reason


@pytest.mark.parametrize("said", ["what?", "sorry?", "I don't understand"])
def test_asking_what_it_means_at_a_delphi_reason_asks_it_again(said: str) -> None:
    chat = Chat(DELPHI, THANKS)
    chat.send("9")
    assert texts(chat.last)[-1].startswith("Why did you give that score?")
    sprint = chat.send(said)
    assert not answers(sprint), said
    assert texts(sprint)[0] == "No problem, here is the question again."
    assert texts(sprint)[-1].startswith("Why did you give that score?")
    sprint = chat.send("parking is hard")
    assert answers(sprint)[0].display == "9: parking is hard"


# ----------------------------------------------------------------------------- words are not glued letters


@pytest.mark.parametrize("said", ["bad", "bed", "be", "cab", "ace", "bead", "ac"])
def test_a_lower_case_word_is_not_a_run_of_letter_picks(said: str) -> None:
    options = [["Parking"], ["Seats"], ["Food"], ["Toilets"], ["Signs"]]
    assert match_options(said, options) is None
    chat = Chat(PROBLEMS, THANKS)
    sprint = chat.send(said)
    assert not answers(sprint) and chat.state.step == "problems"  # ('be' is Welsh 'what?': explained)


@pytest.mark.parametrize(("said", "picks"), [("BAC", ["seats", "parking", "food"]), ("b a c", ["seats", "parking", "food"]),
                                             ("b, a, c", ["seats", "parking", "food"]), ("bd", ["seats", "toilets"]),
                                             ("132", ["parking", "food", "seats"])])
def test_letters_in_capitals_apart_or_making_no_word_are_picks(said: str, picks: list[str]) -> None:
    chat = Chat(PROBLEMS, THANKS)
    chat.send(said)
    assert chat.state.values["problems"] == picks


# ----------------------------------------------------------------------------- an option 'What?'


def test_an_option_named_what_is_picked_by_its_name_but_a_longer_question_asks_what_it_means() -> None:
    chat = Chat(FEEL, THANKS)
    sprint = chat.send("what does that mean?")
    assert not answers(sprint)
    assert texts(sprint)[0].startswith("No problem, here is the question again.")
    chat.send("what?")
    assert chat.state.values["feel"] == "what"
