"""Replies an explorer of the hospice study (tests/data/hospice) saw misread: Welsh option words as
mutation leaves them ('nyrsys a theulu'), an option's word describing another thing ('my family
doctor'), 'n' for 'and', Welsh 'sgip', hours said as '5h30', "didn't sleep" or '10pm to 4am',
and an idea named by what it has ('the nurse one')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.loader import read_yaml
from flows.parsing import (
    clock_span_minutes,
    described_one,
    match_option,
    match_options,
    says_not_done,
)
from flows.welsh_mutations import mutated_names, mutations, with_mutations
from tests.engine_chat import RecordingChat

HOSPICE = Path(__file__).parent / "data" / "hospice"


def _steps(flow: str) -> dict[str, dict[str, Any]]:
    data, _, problems = read_yaml(HOSPICE / f"{flow}.yaml")
    assert not problems
    steps = {step["id"]: {k: v for k, v in step.items() if k != "next"} for step in data["steps"]}
    return steps


UNDERSTAND = _steps("understand")
HELP = UNDERSTAND["help_with"]
SLEEP = UNDERSTAND["sleep"]
IDEAS = {idea["id"]: idea for idea in _steps("ideas")["compare"]["ideas"]}
SLEEP_QUESTION = SLEEP["text"]["en"]


def _stored(step: dict[str, Any], *replies: str, language: str = "en") -> tuple[list[Any], list[str]]:
    """The values recorded for ``step`` after ``replies``, and the texts sent back to the last."""
    chat = RecordingChat(step, language=language)
    said: list[str] = []
    for reply in replies:
        said = chat.send(reply)
    return [answer.value for answer in chat.recorded if answer.step_id == step["id"]], said


def _single(step: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in step.items() if k != "max_picks"} | {"multiple": False}


# ----------------------------------------------------------------------------- 1. Welsh mutations


@pytest.mark.parametrize(("reply", "picks"), [
    ("nyrsys a theulu", ["nurses", "family"]),  # aspirate: teulu -> theulu after 'a'
    ("nyrsys â theulu", ["nurses", "family"]),
    ("gofalwyr nos a theulu", ["night_sitters", "family"]),
    ("teulu a gofalwyr nos", ["family", "night_sitters"]),
    ("y meddyg teulu a theulu", ["gp", "family"]),
])
def test_welsh_options_joined_by_a_are_each_picked_mutated_or_not(reply: str, picks: list[str]) -> None:
    assert _stored(HELP, reply, language="cy")[0] == [picks]


@pytest.mark.parametrize("reply", ["fy nheulu", "ei deulu", "gyda theulu", "tua theulu"])
def test_a_welsh_option_word_is_read_through_soft_nasal_and_aspirate_mutation(reply: str) -> None:
    assert _stored(_single(HELP), reply, language="cy")[0] == ["family"]


def test_mutations_of_other_first_letters_in_a_study_of_its_own() -> None:
    step = {"id": "how", "type": "choice", "multiple": True, "text": {"en": "How?", "cy": "Sut?"}, "options": [
        {"value": "post", "label": {"en": "Post", "cy": "Post"}},
        {"value": "letter", "label": {"en": "Letter", "cy": "Llythyr"}},
        {"value": "computer", "label": {"en": "Computer", "cy": "Cyfrifiadur"}},
        {"value": "phone", "label": {"en": "Phone", "cy": "Ffôn"}},
    ]}
    assert _stored(step, "ffôn a phost", language="cy")[0] == [["phone", "post"]]
    assert _stored(step, "ffôn a chyfrifiadur", language="cy")[0] == [["phone", "computer"]]
    assert _stored(_single(step), "ar lythyr", language="cy")[0] == ["letter"]  # soft: ll -> l


def test_splitting_on_a_stays_safe_where_option_names_hold_it() -> None:
    help_names = [["nurses", "Nyrsys"], ["night_sitters", "Gofalwyr nos"], ["family", "Teulu"], ["gp", "Y meddyg teulu"]]
    assert match_options("gofalwyr nos a teulu", help_names) == [1, 2]
    names = [["Bara a chaws"], ["Llaeth"], ["Once a week"], ["Twice a week"]]
    assert match_options("bara a chaws", names) == [0]
    assert match_options("llaeth a bara a chaws", names) == [1, 0]
    assert match_options("once a week", names) == [2]
    assert match_options("b a c", [["x"], ["y"], ["z"]]) == [1, 0, 2]  # letters typed apart, A among them
    role = _single({**UNDERSTAND["role"], "id": "role", "save_to": None})
    assert _stored(role, "a family carer")[0] == ["carer"]


def test_mutated_forms_and_what_is_never_added() -> None:
    assert mutations("teulu") == ["deulu", "nheulu", "theulu"]
    assert mutations("gofalwyr") == ["ofalwyr", "ngofalwyr"]
    assert mutations("offer") == ["hoffer"]
    assert mutations("theulu") == [] and mutations("ffon") == []
    assert mutated_names("Y meddyg teulu") == ["feddyg teulu"]
    names = with_mutations([["none", "Dim"], ["family", "Teulu"]], ["Dim", "Teulu"])
    assert "ddim" not in names[0]  # 'ddim' (not) keeps its meaning
    assert "theulu" in names[1]


# ----------------------------------------------------------------------------- 2. a word describing another thing


@pytest.mark.parametrize("reply", ["my family doctor", "family doctor", "a family friend", "nurses, a family friend"])
def test_an_option_word_describing_another_thing_is_asked_about(reply: str) -> None:
    values, said = _stored(HELP, reply)
    assert values == [] and said and "Bye." not in said
    assert _stored(_single(HELP), reply)[0] == []


@pytest.mark.parametrize("reply", ["my family", "family mostly", "my family helped", "family please", "family, nurses too"])
def test_an_option_word_followed_by_no_other_thing_still_answers(reply: str) -> None:
    assert "family" in (_stored(HELP, reply)[0] or [[]])[0]
    assert match_option("my family doctor", [["Family"], ["The GP"]]) is None


# ----------------------------------------------------------------------------- 3. 'n' for 'and'


@pytest.mark.parametrize("reply", ["nurses n family", "nurses 'n family", "nurses 'n' family"])
def test_and_however_texted_joins_two_picks(reply: str) -> None:
    assert _stored(HELP, reply)[0] == [["nurses", "family"]]
    assert all(_stored(HELP, f"nurses {joint} family")[0] == [["nurses", "family"]] for joint in ("&", "+", "and"))


def test_n_is_still_the_fourteenth_letter_where_there_is_one() -> None:
    letters = [[f"Option {i}"] for i in range(14)]
    assert match_options("a n", letters) == [0, 13]
    assert match_options("nurses n family", [["Nurses"], ["Family"]]) == [0, 1]


# ----------------------------------------------------------------------------- 4. Welsh 'sgip'


@pytest.mark.parametrize("reply", ["sgip", "SGIP", "Sgipio"])
def test_sgip_skips_a_question_that_may_be_skipped(reply: str) -> None:
    pulse = _steps("pulse")["one_thing"]
    values, said = _stored(pulse, reply, language="cy")
    assert values == [None] and "Symudwn ymlaen." in said


def test_sgip_is_no_answer_where_skipping_is_not_allowed() -> None:
    values, said = _stored(UNDERSTAND["story"], "sgip", language="cy")
    assert values == [] and "Does dim modd hepgor" in said[0]


# ----------------------------------------------------------------------------- 5. hours of sleep


@pytest.mark.parametrize(("reply", "hours"), [("5h30", 5.5), ("7hr15", 7.25), ("6h 45m", 6.75)])
def test_hours_and_minutes_written_together_are_read_as_when_written_apart(reply: str, hours: float) -> None:
    """'5h30' is '5 hours 30 minutes', which (minutes up to hours) is checked before it is kept."""
    chat = RecordingChat(SLEEP)
    assert chat.send(reply)[0].startswith(f"Just to check: {hours:g} hours?")
    chat.send("yes")
    assert [answer.value for answer in chat.recorded] == [hours]
    assert _stored(SLEEP, "5h")[0] == [5.0]  # hours alone, at once


@pytest.mark.parametrize(("reply", "language", "hours", "check"), [
    ("didnt sleep", "en", 0, "Just to check: 0 hours?"),
    ("didn't sleep at all", "en", 0, "Just to check: 0 hours?"),
    ("no sleep", "en", 0, "Just to check: 0 hours?"),
    ("heb gwsg o gwbl", "cy", 0, "I wneud yn siŵr: 0 awr?"),
    ("10pm to 4am", "en", 6, "Just to check: 6 hours?"),
    ("from 11 till 6", "en", 7, "Just to check: 7 hours?"),
    ("22:30-06:00", "en", 7.5, "Just to check: 7.5 hours?"),
    ("o 11yh tan 6yb", "cy", 7, "I wneud yn siŵr: 7 awr?"),
])
def test_hours_read_from_words_or_clock_times_are_checked(reply: str, language: str, hours: float, check: str) -> None:
    chat = RecordingChat(SLEEP, language=language)
    assert chat.send(reply)[0].startswith(check)
    assert not chat.recorded
    chat.send("yes" if language == "en" else "ydw")
    assert [answer.value for answer in chat.recorded] == [hours]


@pytest.mark.parametrize(("read", "not_read"), [
    ("didn't sleep", "didn't sleep well"), ("didnt sleep", "didn't sleep much"), ("no sleep", "not much sleep"),
    ("from 11 till 6", "between 5 and 6"), ("10pm to 4am", "5 to 6"),
])
def test_a_reply_saying_how_or_a_range_is_no_span_and_no_none(read: str, not_read: str) -> None:
    assert _stored(SLEEP, read)[1][0].startswith("Just to check")
    values, said = _stored(SLEEP, not_read)
    assert values == [] and not said[0].startswith("Just to check")


def test_spans_and_none_in_other_questions() -> None:
    assert clock_span_minutes("from 2pm till 3.30pm") == 90
    assert clock_span_minutes("11 till 6am") == 420 and clock_span_minutes("9am till 5") == 480
    assert clock_span_minutes("11-6") is None and clock_span_minutes("from 5 to 6 hours") is None
    assert says_not_done("never smoked", "How many cigarettes did you smoke yesterday?")
    assert not says_not_done("not last night", SLEEP_QUESTION)
    minutes = {"id": "wait", "type": "number", "text": "How many minutes did you wait?", "unit": "minutes"}
    chat = RecordingChat(minutes)
    assert chat.send("from 2pm till 3.30pm")[0].startswith("Just to check: 90 minutes?")


# ----------------------------------------------------------------------------- 6. 'the nurse one'

PAIR = {"id": "compare", "type": "pairwise", "text": {"en": "Which matters more to you?", "cy": "Pa un sy'n bwysicach i chi?"},
        "ideas": [IDEAS["kit"], IDEAS["named"]], "pairs": 1}


@pytest.mark.parametrize(("reply", "language"), [
    ("the nurse idea", "en"), ("the one with a nurse", "en"), ("the nurse thing", "en"),
    ("the nurse one", "cy"), ("yr un am y nyrs", "en"), ("yr un gyda'r nyrs", "en"),
])
def test_an_idea_named_by_a_word_only_it_has_wins(reply: str, language: str) -> None:
    values, _ = _stored(PAIR, reply, language=language)
    assert values and values[0]["winner"] == "named" and values[0]["loser"] == "kit"


def test_a_word_both_ideas_have_is_asked_about() -> None:
    both = {**PAIR, "ideas": [IDEAS["line"], IDEAS["video"]]}
    values, said = _stored(both, "the hospice one")
    assert values == [] and "Please reply A, B" in said[0]
    assert _stored(both, "the video idea")[0][0]["winner"] == "video"


@pytest.mark.parametrize(("reply", "described"), [
    ("the nurse one", "nurse"), ("the one about nurses", "nurses"), ("yr un gyda'r nyrs", "nyrs"),
    ("the other one", None), ("no one", None), ("the first one", None), ("yr un nyrs", None),
])
def test_what_the_one_is_described_by(reply: str, described: str | None) -> None:
    assert described_one(reply) == described
