"""No preference at a comparison ('I don't mind', 'either is fine', 'no preference', 'both the
same', 'dim ots'): a tie where the question records one (a pair's "Can't decide", a choice's own
"No preference" option), and where it records none (a choice of two, a choice-experiment task)
asked again with a hint that a choice is needed, even a slight one - never a guess at an option,
and never read where the reply names one ('I don't mind, phone I guess') or says more than that
('not the same'). Through the engine, in English and Welsh."""

from __future__ import annotations

from typing import Any

import pytest

from flows.built_in_texts import BUILT_IN_TEXTS
from flows.events import RecordAnswer
from flows.parsing import names_another, no_preference_option, says_no_preference
from tests.engine_chat import Chat, RecordingChat
from tests.test_pair_reading_edges import BOTH_A, END, pair_step, recorded
from tests.test_step_choice_experiment import Respondent, flow

NO_PREFERENCE = [
    "don't mind", "I dont mind", "either is fine", "either's fine", "Either is fine!", "no preference", "no real preference",
    "both the same", "they're both the same", "both equally", "both are equal", "equally important", "I like both",
    "no difference", "makes no difference", "it doesn't make any difference", "whichever", "not bothered", "50/50",
    "about the same", "same to me", "I can't choose", "no preference thanks", "dim ots", "y ddau yr un fath",
    "y ddau'r un fath", "mae'r ddau'n bwysig", "yr un fath", "cyfartal", "methu dewis", "does dim gwahaniaeth",
]
NOT_NO_PREFERENCE = [
    "not the same", "they are not the same", "both are bad for different reasons", "the same day service", "A is better",
    "I want the first", "yes", "no", "both bad", "they are different", "it does make a difference", "I mind",
    "either is fine but honestly I have been waiting for months for a call back from anyone at all",
]
HINT_EN = BUILT_IN_TEXTS["hint_no_preference"]["en"]
HINT_CY = BUILT_IN_TEXTS["hint_no_preference"]["cy"]


@pytest.mark.parametrize("reply", NO_PREFERENCE)
def test_no_preference_is_read_in_every_form(reply: str) -> None:
    assert says_no_preference(reply), reply


@pytest.mark.parametrize("reply", NOT_NO_PREFERENCE)
def test_a_difference_or_a_story_is_no_no_preference(reply: str) -> None:
    assert not says_no_preference(reply), reply


def test_an_option_of_doubt_is_no_no_preference_option() -> None:
    assert no_preference_option([["Phone"], ["Video"], ["No preference"]]) == 2
    assert no_preference_option([["Phone"], ["Video"], ["Either is fine"]]) == 2
    assert no_preference_option([["Yes"], ["No"], ["Not sure"]]) is None  # 'I don't mind' is no doubt
    assert no_preference_option([["Phone"], ["Video"]]) is None
    assert names_another("I don't mind, phone I guess", [["Phone"], ["Video"]])
    assert not names_another("I don't mind a bit", [["a", "Parking"], ["b", "Signs"]])  # the article, no letter A
    assert names_another("either, A I guess", [["a", "Parking"], ["b", "Signs"]])


# ----------------------------------------------------------------------------- a pair: a tie


@pytest.mark.parametrize("reply", ["don't mind", "either is fine", "no preference", "both the same", "they're equally important",
                                   "dim ots", "y ddau'r un fath", "whichever"])
def test_no_preference_at_a_pair_is_its_tie(reply: str) -> None:
    chat = Chat(pair_step(BOTH_A), END)
    answers = recorded(chat.send(reply))
    assert len(answers) == 1 and isinstance(answers[0].value, dict) and answers[0].value["tie"] is True, reply


@pytest.mark.parametrize(("reply", "letter"), [("I don't mind, A I guess", "A"), ("either is fine, B", "B")])
def test_no_preference_that_names_a_letter_is_no_tie(reply: str, letter: str) -> None:
    chat = Chat(pair_step(BOTH_A), END)
    answers = recorded(chat.send(reply))
    assert not any(isinstance(a.value, dict) and a.value["tie"] for a in answers), reply


# ----------------------------------------------------------------------------- a choice: its own option, or asked again


def choice(*options: Any) -> dict[str, Any]:
    return {"id": "how", "type": "choice", "text": {"en": "Phone or video?", "cy": "Ffôn neu fideo?"}, "options": list(options)}


@pytest.mark.parametrize("reply", ["don't mind", "either is fine", "both the same", "whichever", "dim ots"])
def test_no_preference_picks_a_choices_own_no_preference_option(reply: str) -> None:
    chat = RecordingChat(choice("Phone", "Video", {"value": "none", "label": {"en": "No preference", "cy": "Dim ffafriaeth"}}))
    chat.send(reply)
    assert [answer.value for answer in chat.recorded] == ["none"], reply


@pytest.mark.parametrize(("language", "hint"), [("en", HINT_EN), ("cy", HINT_CY)])
def test_no_preference_between_two_options_with_no_tie_is_asked_again_saying_so(language: str, hint: str) -> None:
    chat = RecordingChat(choice("Phone", "Video"), language=language)
    said = chat.send("dim ots" if language == "cy" else "either is fine")
    assert chat.recorded == [] and said[0].startswith(hint)
    chat.send("Video")
    assert [answer.value for answer in chat.recorded] == ["Video"]


def test_no_preference_that_names_an_option_is_never_the_no_preference_option() -> None:
    chat = RecordingChat(choice("Phone", "Video", "No preference"))
    said = chat.send("I don't mind, phone I guess")
    assert chat.recorded == [] and not said[0].startswith(HINT_EN)
    assert [e for e in chat.recorded if isinstance(e, RecordAnswer)] == []


def test_doubt_is_not_taken_for_a_no_preference_option() -> None:
    chat = RecordingChat(choice("Yes", "No", "Not sure"))
    chat.send("don't mind")
    assert chat.recorded == []


# ----------------------------------------------------------------------------- a choice task: no tie, asked again


@pytest.mark.parametrize("opt_out", [True, False])
def test_no_preference_at_a_choice_task_is_asked_again_and_never_the_opt_out(opt_out: bool) -> None:
    person = Respondent(flow(opt_out=opt_out), seed=3)
    shown = len(person.said)
    person.send("either is fine")
    assert person.tasks == [] and person.said[shown].text.startswith(HINT_EN)
    assert ("N for neither" in person.said[shown].text) is opt_out
    person.send("B")
    assert [task["choice"] for task in person.tasks] == ["B"]
