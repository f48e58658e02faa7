"""A line is said once in one exchange: what is said before a question asked again ('No problem,
here is the question again.' after 'what?', a hint to a question shown long ago) leaves out the
sentences that question says itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels.telegram import KEYBOARD as TELEGRAM
from flows.engine import ASKED_LONG_AGO, Engine, TextInput
from flows.inputs import Keyboard
from flows.model import Flow
from flows.said_once import not_repeated, sentences
from tests.engine_chat import NOW

VOTES = {"id": "votes", "type": "statements", "text": "What do you think?",
         "statements": ["Visits should be at a set time.", "Staff spend too long on paperwork."], "per_session": 2}
ADD_LINE = "(Or reply ADD and a statement of your own.)"


def exchange(step: dict[str, Any], text: str, keyboards: tuple[Keyboard, ...] = (), after: timedelta = timedelta(0),
             language: str = "en") -> list[str]:
    """The messages after ``text``, sent ``after`` the question was asked, from a channel with ``keyboards``."""
    flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [step, {"id": "bye", "type": "end", "text": "Bye."}]})
    engine = Engine(flow)
    state = engine.start(NOW, language=language).state
    return [m.text for m in engine.handle(state, TextInput(text, keyboards=keyboards), NOW + after).messages()]


def test_what_to_a_statement_vote_says_how_to_add_once_with_the_question() -> None:
    help_said, asked = exchange(VOTES, "what?")
    assert help_said == "No problem, here is the question again. Please reply A (agree), D (disagree) or P (pass)."
    assert asked.splitlines()[-1] == ADD_LINE
    help_said, asked = exchange(VOTES, "what?", (TELEGRAM,))
    assert help_said == "No problem, here is the question again. Please tap one of the buttons, or reply A (agree), D (disagree) or P (pass)."
    assert ADD_LINE in asked.splitlines()
    help_said, asked = exchange(VOTES, "beth?", language="cy")
    assert "YCHWANEGU" not in help_said and "(Neu atebwch YCHWANEGU a datganiad eich hun.)" in asked.splitlines()


def test_an_unclear_reply_to_a_vote_shown_long_ago_says_how_to_add_once_with_the_question() -> None:
    hint, asked = exchange(VOTES, "purple", after=ASKED_LONG_AGO)
    assert hint == "Please reply A (agree), D (disagree) or P (pass)." and ADD_LINE in asked.splitlines()
    assert exchange(VOTES, "purple") == [f"Please reply A (agree), D (disagree) or P (pass). {ADD_LINE}"]  # no question: said in full


def test_a_question_that_says_its_own_hint_is_not_followed_by_it_twice() -> None:
    step = {"id": "leaflet", "type": "yesno", "text": "Did you get a leaflet? Please reply YES or NO."}
    assert exchange(step, "what?") == ["No problem, here is the question again.", "Did you get a leaflet? Please reply YES or NO."]
    retry = {**step, "text": "Did you get a leaflet?\n(A leaflet is a folded sheet of paper.)",
             "retry": "(A leaflet is a folded sheet of paper.) Did one come with your letter?"}
    assert exchange(retry, "what?")[0] == "No problem, here is the question again. Did one come with your letter? Please reply YES or NO."


def test_sentences_are_split_where_one_ends_not_after_e_g() -> None:
    assert sentences("Please reply A (agree) or P (pass). (Or reply ADD and a statement of your own.)") == [
        "Please reply A (agree) or P (pass).", "(Or reply ADD and a statement of your own.)"]
    assert sentences('Please put the options in order, e.g. "3 2 1". Or tap them.') == [
        'Please put the options in order, e.g. "3 2 1".', "Or tap them."]
    assert sentences("Atebwch gyda rhif, e.e. 3.") == ["Atebwch gyda rhif, e.e. 3."]


def test_only_what_the_question_says_is_left_out_and_lines_are_kept() -> None:
    assert not_repeated("Please reply with a number, e.g. 3.", "Rate it.\n3 = fine") == "Please reply with a number, e.g. 3."
    assert not_repeated("First.\nSecond line.  Kept.", "Nothing alike") == "First.\nSecond line.  Kept."
    assert not_repeated("First.\nSecond line. Kept.", "Question?\nsecond   LINE.") == "First.\nKept."
    assert not_repeated("Please reply YES or NO.", "Did you? Please reply YES or NO.") == ""
