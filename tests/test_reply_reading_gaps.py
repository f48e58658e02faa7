"""Replies that were asked again or misread, now read as a research coordinator would want.

- A length of time in days, weeks, months or years said in another of them than the question's
  ('2 weeks', '3 wks', '2wks', Welsh '2 wythnos' to a question in days) is converted: exactly
  down a scale (14 days) and taken at once; between months and days or weeks only approximately
  ('3 months': about 91 days), so checked first; up a scale, to the whole ones completed, checked
  ('10 days': 1 week; tests/test_units_converted.py), never to nought ('4 days' in weeks).
- An approximate number ('nearly 3', 'almost 4', 'bron 5', 'about 5', '~3', '3ish') is the number:
  it is the participant's best estimate, which is what is asked. A range ('3 or 4', '3-4',
  'between 5 and 10', 'rhwng 5 a 10') is neither end nor its middle: the participant is asked which
  end is nearer, so that the number stored is one they gave, not precision Chorus made up.
- A statement vote of how strongly alone ('totally', 'yn bendant') is an agreement; 'not for me'
  ('ddim i fi') a disagreement; 'kind of', 'partly', 'not totally', 'yn rhannol' are asked again,
  saying the nearer vote or a pass will do, while 'kind of agree' is an agreement (somewhat).
- The vote hint says how to add a statement (ADD, YCHWANEGU), in one SMS segment in either language.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.parsing import SaidRange, parse_number, read_number, read_range
from flows.sms import count_segments
from flows.steps.base import Reply
from flows.steps.statements import read_vote, says_partly, vote_display
from flows.words import built_in
from tests.engine_chat import RecordingChat
from tests.test_number_word_answers import CHECK, HINT, answer

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)


# ----------------------------------------------------------------------------- another unit of time


@pytest.mark.parametrize(("reply", "unit", "read"), [
    ("2 weeks", "days", (14, "14 days")), ("3 wks", "days", (21, "21 days")), ("2wks", "days", (14, "14 days")),
    ("about 2 weeks", "days", (14, "14 days")), ("1 week", "days", (7, "7 days")), ("2 years", "months", (24, "24 months")),
    ("3 yrs", "months", (36, "36 months")), ("21 days", "weeks", (3, "3 weeks")), ("24 months", "years", (2, "2 years")),
    ("2 wythnos", "days", (14, "14 days")), ("dwy flynedd", "months", (24, "24 months")),
])
def test_a_length_of_time_converted_exactly_is_taken_at_once(reply: str, unit: str, read: Any) -> None:
    assert answer(reply, unit) == read


@pytest.mark.parametrize(("reply", "unit", "read"), [
    ("3 months", "days", (91, "about 91 days", CHECK)), ("6 months", "weeks", (26, "about 26 weeks", CHECK)),
    ("1 year", "weeks", (52, "about 52 weeks", CHECK)), ("3 mis", "days", (91, "about 91 days", CHECK)),
    ("dau fis", "weeks", (9, "about 9 weeks", CHECK)), ("a month", "days", (30, "about 30 days", CHECK)),
])
def test_a_length_of_time_converted_only_approximately_is_checked_first(reply: str, unit: str, read: Any) -> None:
    assert answer(reply, unit) == read


@pytest.mark.parametrize(("reply", "unit", "said"), [
    ("6 weeks", "months", "6 weeks"), ("4 days", "weeks", "4 days"), ("20 minutes", "hours", "20 minutes"),
    # '10 days' in weeks, '18 months' in years are now the whole ones completed, checked; '48 hours' 2 days
    # (tests/test_units_converted.py): less than one whole unit is still asked again
])
def test_a_length_of_time_never_rounded_up_into_a_larger_unit_is_asked_again(reply: str, unit: str, said: str) -> None:
    assert answer(reply, unit) == f"That looks like {said}, which is not what this question asks. {HINT}"


def test_the_question_naming_its_unit_is_enough_in_english_and_welsh() -> None:
    reading = read_number("2 weeks", "How many days did you wait?")
    assert reading is not None and (reading.value, reading.doubt) == (14, "clear")
    welsh = read_number("2 wythnos", "Sawl diwrnod wnaethoch chi aros?")
    assert welsh is not None and (welsh.value, welsh.doubt) == (14, "clear")
    assert answer("2 wythnos", "diwrnod", language="cy") == (14, "14 diwrnod")


def test_a_number_converted_approximately_is_stored_only_once_the_participant_says_yes() -> None:
    chat = RecordingChat({"id": "wait", "type": "number", "text": "How many days did you wait?", "unit": "days",
                          "min": 0, "max": 1000}, now=NOW)
    assert chat.send("3 months") == ["Just to check: about 91 days? Reply YES or NO, or send the number."]
    assert chat.recorded == []
    chat.send("yes")
    assert [(r.value, r.raw) for r in chat.recorded if r.step_id == "wait"] == [(91, "3 months")]


# ----------------------------------------------------------------------------- approximate numbers


@pytest.mark.parametrize("reply", ["nearly 3", "almost 3", "Nearly 3 thanks", "bron 3", "about 3", "~3", "3ish",
                                   "roughly 3", "around 3", "approx 3"])
def test_an_approximate_number_is_the_participants_best_estimate(reply: str) -> None:
    assert parse_number(reply) == 3
    assert answer(reply) == (3, "3")


def test_an_approximate_length_of_time_is_converted_as_a_plain_one() -> None:
    assert answer("nearly 2 weeks", "days") == (14, "14 days")
    assert answer("almost a fortnight", "weeks") == (2, "2 weeks")


@pytest.mark.parametrize("reply", ["less than 3", "under 3", "at least 3", "3+", "3 or more", "not nearly 3"])
def test_a_bound_is_still_no_answer(reply: str) -> None:
    assert parse_number(reply) is None


@pytest.mark.parametrize(("reply", "said"), [
    ("3 or 4", SaidRange(3, 4, "")), ("3-4", SaidRange(3, 4, "")), ("3 - 4", SaidRange(3, 4, "")),
    ("about 3 or 4", SaidRange(3, 4, "")), ("I think 3 or 4 thanks", SaidRange(3, 4, "")),
    ("2 to 3 weeks", SaidRange(2, 3, "weeks")), ("between 5 and 10", SaidRange(5, 10, "")),
    ("three or four times", SaidRange(3, 4, "times")), ("twenty or twenty one", SaidRange(20, 21, "")),
    ("4 or 3", SaidRange(4, 3, "")), ("3 neu 4", SaidRange(3, 4, "")), ("rhwng 5 a 10", SaidRange(5, 10, "")),
])
def test_two_numbers_for_one_are_read_as_a_range(reply: str, said: SaidRange) -> None:
    assert parse_number(reply) is None
    assert read_range(reply) == said


@pytest.mark.parametrize("reply", ["3", "2 or 3 or 4", "3 or more", "12-5", "3 or 3", "not 3 or 4", "3 and 4", "x" * 300])
def test_one_number_three_numbers_a_bound_or_a_date_are_no_range(reply: str) -> None:
    assert read_range(reply) is None


@pytest.mark.parametrize(("reply", "unit", "language", "hint"), [
    ("3 or 4", None, "en", f"Is it nearer 3 or 4? Your best guess is fine. {HINT}"),
    ("2-3 weeks", "weeks", "en", "Is it nearer 2 or 3 weeks? Your best guess is fine. Please reply with a number, e.g. 3."),
    ("rhwng 5 a 10", None, "cy", "Ydy e'n nes at 5 neu 10? Mae'ch amcangyfrif gorau'n iawn. Atebwch gyda rhif, e.e. 3."),
])
def test_a_range_is_asked_again_naming_both_ends(reply: str, unit: str | None, language: str, hint: str) -> None:
    assert answer(reply, unit, language=language) == hint


def test_a_range_on_a_decimal_question_is_not_stored_as_its_middle_either() -> None:
    chat = RecordingChat({"id": "hours", "type": "number", "text": "How many hours did you sleep?", "unit": "hours",
                          "integer": False, "min": 0, "max": 24}, now=NOW)
    assert chat.send("6 or 7")[0].startswith("Is it nearer 6 or 7?")
    assert chat.recorded == []
    chat.send("nearer 7")
    assert [r.value for r in chat.recorded if r.step_id == "hours"] == [7]


@pytest.mark.parametrize("reply", ["nearer 7", "closer to 7", "nes at 7", "agosach at 7"])
def test_the_nearer_end_as_said_back_is_the_number(reply: str) -> None:
    reading = read_number(reply, "How many hours did you sleep?", "hours")
    assert reading is not None and (reading.value, reading.doubt) == (7, "clear")


# ----------------------------------------------------------------------------- statement votes


@pytest.mark.parametrize(("reply", "vote", "display"), [
    ("totally", 1, "agree"), ("Totally x", 1, "agree"), ("absolutely", 1, "agree"), ("definitely", 1, "agree"),
    ("yes totally", 1, "agree"), ("yn bendant", 1, "agree"), ("yn hollol", 1, "agree"), ("wrth gwrs", 1, "agree"),
    ("kind of agree", 1, "agree (somewhat)"), ("sort of disagree", -1, "disagree (somewhat)"),
    ("partly agree", 1, "agree (somewhat)"), ("I agree to some extent", 1, "agree (somewhat)"),
    ("cytuno yn rhannol", 1, "agree (somewhat)"),
    ("not for me", -1, "disagree"), ("Not for me thanks", -1, "disagree"), ("ddim i fi", -1, "disagree"),
    ("don't agree", -1, "disagree"), ("totally disagree", -1, "disagree (strongly)"), ("definitely not", -1, "disagree"),
])
def test_a_vote_said_with_only_its_strength_or_in_part_is_read(reply: str, vote: int, display: str) -> None:
    assert read_vote(Reply(reply)) == vote
    assert vote_display(vote, Reply(reply)) == display


@pytest.mark.parametrize("reply", ["kind of", "sort of", "kinda", "partly", "partially", "in part", "somewhat",
                                   "up to a point", "not totally", "not entirely", "I don't totally agree", "yes kind of",
                                   "yn rhannol", "i raddau", "mewn ffordd", "ddim yn hollol"])
def test_a_vote_in_part_is_asked_again_saying_the_nearer_vote_or_a_pass_will_do(reply: str) -> None:
    assert read_vote(Reply(reply)) is None
    assert says_partly(Reply(reply))


@pytest.mark.parametrize("reply", ["banana", "No one listens to patients", "agree and disagree", "totally"])
def test_other_replies_are_no_vote_in_part(reply: str) -> None:
    assert not says_partly(Reply(reply))


STEP: dict[str, Any] = {
    "id": "views", "type": "statements", "text": {"en": "Do you agree?", "cy": "Ydych chi'n cytuno?"},
    "statements": [{"id": "s1", "text": {"en": "More nurses at night.", "cy": "Mwy o nyrsys gyda'r nos."}},
                   {"id": "s2", "text": {"en": "Free parking for carers.", "cy": "Parcio am ddim i ofalwyr."}}],
    "per_session": 2,
}
ADD_EN = "(Or reply ADD and a statement of your own.)"
ADD_CY = "(Neu atebwch YCHWANEGU a datganiad eich hun.)"


@pytest.mark.parametrize(("language", "reply", "hint"), [
    ("en", "kind of", f"In part? Please reply A (agree) or D (disagree), whichever is nearer, or P (pass). {ADD_EN}"),
    ("en", "banana", f"Please reply A (agree), D (disagree) or P (pass). {ADD_EN}"),
    ("cy", "yn rhannol", "Yn rhannol? Atebwch A (cytuno) neu D (anghytuno), pa un bynnag sydd agosaf, neu P (pasio). "
                         f"{ADD_CY}"),
    ("cy", "banana", f"Atebwch A (cytuno), D (anghytuno) neu P (pasio). {ADD_CY}"),
])
def test_the_vote_hint_says_how_to_add_a_statement_and_a_vote_in_part_may_pass(language: str, reply: str, hint: str) -> None:
    chat = RecordingChat(STEP, language=language, seed=5, now=NOW)
    assert chat.send(reply) == [hint]
    assert chat.recorded == []
    chat.send("P")
    assert [(r.value, r.display) for r in chat.recorded if r.item] == [(0, "pass")]


def test_without_submissions_the_hint_does_not_offer_to_add() -> None:
    chat = RecordingChat({**STEP, "submissions": False}, seed=5, now=NOW)
    assert chat.send("partly") == ["In part? Please reply A (agree) or D (disagree), whichever is nearer, or P (pass)."]


@pytest.mark.parametrize("language", ["en", "cy"])
@pytest.mark.parametrize("key", ["statements.hint", "statements.hint_partly"])
def test_each_vote_hint_with_its_add_line_is_one_plain_sms(language: str, key: str) -> None:
    add = built_in("statements.add_hint", language).format(word=built_in("statements.add_word", language))
    count = count_segments(f"{built_in(key, language)} {add}")
    assert (count.encoding, count.segments) == ("GSM-7", 1), count
