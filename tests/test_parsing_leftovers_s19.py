"""Replies earlier sessions saw read poorly (session 19), each through the engine: 'dunno' at a
choice with a "Don't know" option, 'B for me', 'they don't know', 'none' in a story, a length of
time to a question with no unit, and 'just over 2'."""

from __future__ import annotations

from typing import Any

import pytest

from flows.parsing import (
    dont_know_option,
    match_option,
    read_number,
    said_of_someone_else,
    says_dont_know,
)
from tests.engine_chat import RecordingChat

AGAIN = "asked again"


def stored(step: dict[str, Any], reply: str) -> Any:
    """What one reply at ``step`` stores, or :data:`AGAIN` when nothing is (the question asked again)."""
    chat = RecordingChat(step)
    chat.send(reply)
    return chat.recorded[0].value if chat.recorded else AGAIN


def said_back(step: dict[str, Any], reply: str) -> str:
    return RecordingChat(step).send(reply)[0]


def choice(*options: str, text: str = "How was it?") -> dict[str, Any]:
    return {"id": "q", "type": "choice", "text": text, "options": list(options)}


FFT = choice("Very good", "Good", "Poor", "Don't know")
NOT_SURE = choice("Yes", "No", "Not sure", text="Will you go back?")
GP_KNOWS = choice("Yes", "No", "Don't know", text="Does your GP know about your caring role?")
TRAVEL = choice("Bus", "Car", "Walk", text="How did you get there?")
CALLED = "How many times did you call?"
CALLS = {"id": "q", "type": "number", "text": CALLED, "min": 0, "max": 100}


# ----------------------------------------------------------------------------- 1. 'dunno' picks "Don't know"


@pytest.mark.parametrize("reply", ["dunno", "idk", "no idea", "not sure", "I'm not sure", "i dont know", "no clue",
                                   "unsure", "dunno sorry", "honestly no idea", "no idea tbh", "dim syniad"])
@pytest.mark.parametrize(("step", "option"), [(FFT, "Don't know"), (NOT_SURE, "Not sure"), (GP_KNOWS, "Don't know")])
def test_i_dont_know_in_any_words_picks_the_dont_know_or_not_sure_option(reply: str, step: dict[str, Any], option: str) -> None:
    assert stored(step, reply) == option


def test_no_idea_is_never_the_no_option() -> None:
    assert stored(GP_KNOWS, "no idea") == "Don't know"
    assert stored(GP_KNOWS, "no") == "No"


@pytest.mark.parametrize("options", [["Yes", "No", "No preference"], ["Yes", "No", "Neither"],
                                     ["Yes", "No", "Don't know", "Not sure"], ["Very good", "Good", "Poor"]])
def test_i_dont_know_picks_nothing_without_exactly_one_dont_know_option(options: list[str]) -> None:
    assert dont_know_option("dunno", [[name] for name in options]) is None
    assert stored(choice(*options), "dunno") == AGAIN


def test_a_sentence_that_goes_on_is_no_dont_know() -> None:
    assert not says_dont_know("not sure it was good")
    assert stored(FFT, "not sure it was good") == AGAIN
    assert says_dont_know("Dunno, sorry")


def test_a_dont_know_option_written_two_ways_is_still_one() -> None:
    assert stored(choice("Yes", "No", "Don't know / not sure"), "idk") == "Don't know / not sure"


# ----------------------------------------------------------------------------- 2. 'B for me'


@pytest.mark.parametrize(("reply", "option"), [
    ("A for me", "Bus"), ("B for me", "Car"), ("c please", "Walk"), ("option 2 for me", "Car"), ("2 for me", "Car"),
    ("b for me thanks", "Car"), ("for me it's C", "Walk"), ("the third for me", "Walk"), ("car for me", "Car"),
])
def test_a_letter_or_number_for_me_picks_that_option(reply: str, option: str) -> None:
    assert stored(TRAVEL, reply) == option


def test_for_me_in_an_options_own_name_still_matches_it_whole() -> None:
    assert match_option("too far for me", [["Too far for me"], ["Too expensive"]]) == 0
    assert match_option("for me", [["Bus"], ["Car"]]) is None


def test_picks_for_me_in_a_multiple_choice() -> None:
    step = {**TRAVEL, "multiple": True}
    assert stored(step, "A and C for me") == ["Bus", "Walk"]


# ----------------------------------------------------------------------------- 3. 'they don't know'


@pytest.mark.parametrize("reply", ["they don't know", "they dont know", "he doesn't know", "she doesnt know",
                                   "my mum doesn't know", "nobody knows", "the GP isn't sure", "I didn't know"])
def test_someone_elses_dont_know_is_asked_again_not_stored_as_the_participants(reply: str) -> None:
    assert stored(GP_KNOWS, reply) == AGAIN
    assert stored(FFT, reply) == AGAIN


@pytest.mark.parametrize("reply", ["I don't know", "we don't know", "dont know", "dnt know", "i really dont know", "4", "d"])
def test_the_participants_own_dont_know_and_its_number_still_pick_it(reply: str) -> None:
    assert stored(FFT, reply) == "Don't know"


def test_someone_elses_dont_know_is_no_not_sure_on_a_scale_either() -> None:
    scale = {"id": "q", "type": "scale", "text": "How much, 1-5?", "min": 1, "max": 5, "unsure": True}
    assert stored(scale, "they don't know") == AGAIN
    assert stored(scale, "dunno") is None  # the scale's own 'Not sure', stored as no rating


def test_said_of_someone_else_only_concerns_dont_know_options() -> None:
    assert said_of_someone_else("they don't know", ["Don't know"])
    assert not said_of_someone_else("they don't know", ["No"])
    assert not said_of_someone_else("I'm not sure", ["Not sure"])


# ----------------------------------------------------------------------------- 4. 'none' in a story


@pytest.mark.parametrize("reply", ["none", "zero", "none at all", "none whatsoever", "none of them"])
def test_none_alone_is_nought(reply: str) -> None:
    assert stored(CALLS, reply) == 0


@pytest.mark.parametrize("reply", ["none, not one person called back", "none, they never answered"])
def test_none_in_a_story_about_another_count_is_not_stored_as_nought(reply: str) -> None:
    assert stored(CALLS, reply) == AGAIN
    assert not said_back(CALLS, reply).startswith("Just to check")


def test_none_with_more_words_is_nought_to_check() -> None:
    assert said_back(CALLS, "none, I went in person").startswith("Just to check: 0?")


# ----------------------------------------------------------------------------- 5. a length of time with no unit asked


def test_a_length_of_time_is_converted_to_the_unit_the_question_names() -> None:
    days = {"id": "q", "type": "number", "text": "How many days did you wait for an appointment?", "min": 0, "max": 1000}
    assert stored(days, "2 weeks") == 14
    assert stored(days, "3 days") == 3
    assert said_back(days, "a fortnight").startswith("Just to check: 14?")
    in_weeks = {**days, "text": "How long did you wait for an appointment (in weeks)?"}
    assert stored(in_weeks, "a fortnight") == 2
    assert stored(in_weeks, "3 days") == AGAIN  # no whole number of weeks


# ----------------------------------------------------------------------------- 6. 'just over 2'


@pytest.mark.parametrize(("reply", "number"), [("just over 2", 2), ("just under 4", 4), ("a bit over 2", 2),
                                               ("slightly less than 10", 10), ("a little under 3", 3)])
def test_just_over_or_under_a_number_is_that_number_checked_first(reply: str, number: int) -> None:
    assert said_back(CALLS, reply).startswith(f"Just to check: {number}?")
    reading = read_number(reply, CALLED)
    assert reading is not None and (reading.value, reading.doubt) == (number, "confirm")


@pytest.mark.parametrize(("reply", "number"), [("nearly 3", 3), ("almost 4", 4), ("about 3", 3), ("nearly three", 3)])
def test_nearly_and_almost_are_the_number_at_once(reply: str, number: int) -> None:
    assert stored(CALLS, reply) == number


@pytest.mark.parametrize("reply", ["over 2", "more than 5", "less than 3", "under 4"])
def test_a_bare_bound_is_still_asked_again(reply: str) -> None:
    assert stored(CALLS, reply) == AGAIN
    assert read_number(reply, CALLED) is None


def test_just_over_a_length_in_another_unit_is_converted_and_checked() -> None:
    days = {"id": "q", "type": "number", "text": "How many days did you wait?", "min": 0, "max": 1000}
    assert said_back(days, "just over 2 weeks").startswith("Just to check: 14?")
    assert said_back(CALLS, "just over 6 hours").startswith("That looks like 6 hours")
