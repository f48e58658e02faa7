"""Two replies that used to be asked again though they have one clear reading:

- 'not one', 'not a single one', 'not even one' at a number question are nought, as 'none' and
  'zero' are (and 'not once', now stored at once as they are), where nought is in the range;
  'not one of them' is still a story, and 'not 1' at a scale still no score;
- '1.3' (and '1.3.4') at a question that takes several picks are options 1 and 3, as '1,3' and
  '1 3' are, when each is an option and the question allows that many; never where an option is
  itself named by a decimal ('1.5 mg'), and '1.3' at a number question stays 1.3.

And a word that is the opposite of an option's ('either' of 'Neither', 'unlikely' of 'Likely',
'dissatisfied' of 'Satisfied') is no misspelling of it: asked again, never that option."""

from __future__ import annotations

from typing import Any

import pytest

from flows.events import RecordAnswer
from flows.parsing import match_option, match_options, parse_number, read_number
from tests.engine_chat import Chat

END = {"id": "end", "type": "end", "text": "Bye"}
TIMES = ["Mornings", "Afternoons", "Evenings", "Weekends"]


def stored(step: dict[str, Any], reply: str) -> Any:
    """The answer a step stores for ``reply`` at once, or the message it asks again with."""
    chat = Chat(step, END)
    sprint = chat.send(reply)
    answers = [e.value for e in sprint.events if isinstance(e, RecordAnswer)]
    return answers[0] if answers else [m.text for m in sprint.messages()][0]


def count(**more: Any) -> dict[str, Any]:
    return {"id": "n", "type": "number", "text": "How many times did you go to A&E last year?", **more}


@pytest.mark.parametrize("reply", ["not one", "Not one!", "not a single one", "not even one", "not one single", "not once",
                                   "none", "zero", "dim un"])
def test_not_one_is_nought_at_a_count(reply: str) -> None:
    assert parse_number(reply) == 0, reply
    assert stored(count(min=0, max=50), reply) == 0, reply


def test_not_one_is_asked_again_where_nought_is_out_of_range() -> None:
    assert stored(count(min=1, max=50), "not one") == "Please reply with a number from 1 to 50."


@pytest.mark.parametrize("reply", ["not one of them", "not one of the nurses came", "no one"])
def test_not_one_of_them_is_no_count(reply: str) -> None:
    assert read_number(reply, "How many times?") is None


def test_not_one_with_more_said_is_still_checked() -> None:
    reading = read_number("not one, they never called", "How many times did they call?")
    assert reading is None or reading.doubt != "clear"


def several(**more: Any) -> dict[str, Any]:
    return {"id": "when", "type": "choice", "text": "When can you come?", "options": TIMES, "multiple": True, **more}


@pytest.mark.parametrize(("reply", "picked"), [
    ("1.3", ["Mornings", "Evenings"]), ("1,3", ["Mornings", "Evenings"]), ("1 3", ["Mornings", "Evenings"]),
    ("3.1", ["Evenings", "Mornings"]), ("1.3.4", ["Mornings", "Evenings", "Weekends"]), ("2.4 please", ["Afternoons", "Weekends"]),
])
def test_picks_with_a_full_stop_between_are_several_picks(reply: str, picked: list[str]) -> None:
    assert stored(several(), reply) == picked


@pytest.mark.parametrize("reply", ["2.5", "1.9"])
def test_a_dotted_pick_past_the_last_option_is_asked_again(reply: str) -> None:
    assert stored(several(), reply) == "Please reply with one or more numbers from 1 to 4, e.g. 1 3."


def test_a_dotted_pair_beyond_the_picks_allowed_is_asked_again() -> None:
    assert isinstance(stored(several(max_picks=1), "1.3"), str)


def test_a_decimal_is_never_split_where_an_option_is_named_by_one() -> None:
    doses = [["0.5 mg"], ["1.5 mg"], ["3 mg"]]
    assert match_options("1.3", doses) is None
    assert match_options("1.5 mg", doses) == [1]


def test_a_dotted_reply_at_one_choice_or_a_number_is_no_pair_of_picks() -> None:
    assert isinstance(stored({"id": "when", "type": "choice", "text": "When?", "options": TIMES}, "1.3"), str)
    assert stored(count(min=0, max=10, integer=False), "1.3") == 1.3


@pytest.mark.parametrize(("reply", "options"), [
    ("either", [["Neither"], ["Both"]]), ("either is fine", [["a"], ["b"], ["neither", "none"]]),
    ("unlikely", [["Likely"], ["Not sure"]]), ("dissatisfied", [["Satisfied"], ["Neutral"]]), ("unhelpful", [["Helpful"], ["Other"]]),
])
def test_the_opposite_of_an_options_word_is_no_misspelling_of_it(reply: str, options: list[list[str]]) -> None:
    assert match_option(reply, options) is None


def test_a_misspelling_is_still_read() -> None:
    assert match_option("familly", [["Family"], ["Friends"]]) == 0
    assert match_option("carrer", [["Carer"], ["Patient"]]) == 0
