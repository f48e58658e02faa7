"""Answers people really give, in the steps that missed some: the choice experiment read as any
option is, a distinctive part of an option's label, a ranking whose parts are not all
understood, how strongly a statement is agreed with, a decimal comma, and a spoken YES to
DELETE MY DATA."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow
from flows.parsing import match_option, match_options, parse_number
from flows.steps.base import Answer, Continue, Reply, StepContext, Unclear
from flows.steps.number import NumberStep
from flows.steps.statements import read_vote
from flows.words import BUILT_IN_TEXTS, Words

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)


class Chat:
    """One participant's conversation with a one-flow engine."""

    def __init__(self, *steps: dict[str, Any], language: str = "en") -> None:
        flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [*steps, {"id": "bye", "type": "end", "text": "Bye."}]})
        self.engine = Engine(flow)
        sprint = self.engine.start(NOW, language=language, seed=7)
        self.state: SessionState = sprint.state
        self.said: list[SendMessage] = sprint.messages()
        self.recorded: list[RecordAnswer] = []

    def send(self, text: str, source: str = "text") -> list[str]:
        sprint = self.engine.handle(self.state, TextInput(text, source=source, confidence=0.99 if source == "voice" else None), NOW)
        self.state = sprint.state
        self.said = sprint.messages()
        self.recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]
        return [m.text for m in self.said]


# ----------------------------------------------------------------------------- choice experiment

DCE = {
    "id": "appointment", "type": "choice_experiment", "text": "Which would you choose?",
    "attributes": {"wait": {"levels": [1, 4], "labels": {1: "1 week", 4: "4 weeks"}}, "who": ["GP", "nurse"]},
    "alternatives": 2, "opt_out": True, "tasks": 3,
}
DCE_READ = [
    ("B", "B"), ("b)", "B"), ("2", "B"), ("two", "B"), ("the second one", "B"), ("B please", "B"), ("option B", "B"),
    ("A thanks", "A"), ("the first one", "A"), ("I'd go with A", "A"), ("I'd say a thanks", "A"), ("first", "A"),
    ("neither", "none"), ("Neither, thanks", "none"), ("none of them", "none"), ("N", "none"), ("3", "none"),
    ("the third one", "none"), ("dim un", "none"),
]


def _choice_read(reply: str, **changes: Any) -> Any:
    chat = Chat({**DCE, **changes})
    chat.send(reply)
    tasks = [r.value for r in chat.recorded if r.item]
    return tasks[0]["choice"] if tasks else None


@pytest.mark.parametrize(("reply", "choice"), DCE_READ, ids=[r for r, _ in DCE_READ])
def test_a_choice_task_reads_every_form_of_answer_people_give(reply: str, choice: str) -> None:
    assert _choice_read(reply) == choice


@pytest.mark.parametrize("reply", ["C", "c)", "I'd go with C", "A or B", "maybe", "4", "both"])
def test_a_choice_task_asks_again_for_a_letter_it_did_not_offer_or_two_answers(reply: str) -> None:
    chat = Chat(DCE)
    said = chat.send(reply)
    assert not [r for r in chat.recorded if r.item] and said == ["Please reply A, B or N for neither."]


def test_the_opt_out_is_named_by_part_of_the_studys_own_label() -> None:
    assert _choice_read("stay as I am", neither_label="Stay as I am now") == "none"
    assert _choice_read("as I am now please", neither_label="Stay as I am now") == "none"
    assert _choice_read("C", neither_label="Stay as I am now") is None


def test_with_three_alternatives_c_is_the_third_and_four_the_opt_out() -> None:
    three = {"alternatives": 3, "tasks": 3}
    assert _choice_read("c please", **three) == "C"
    assert _choice_read("4", **three) == "none"
    assert _choice_read("D", **three) is None


def test_without_an_opt_out_neither_and_the_third_number_are_not_answers() -> None:
    assert _choice_read("neither", opt_out=False) is None
    assert _choice_read("3", opt_out=False) is None
    assert _choice_read("the second one please", opt_out=False) == "B"


# ----------------------------------------------------------------------------- part of a label

PRIORITIES = [["waits", "Waiting for a visit"], ["phone", "Getting through by phone"],
              ["nurse", "Seeing the same nurse"], ["carers", "Support for carers"]]
SHIFTS = [["d", "Day shifts"], ["n", "Night shifts"]]
ROLES = [["patient", "Patient", "Claf"], ["carer", "Carer or family", "Gofalwr neu deulu"], ["staff", "Staff", "Staff"]]
FFT = [["very_good", "Very good"], ["good", "Good"], ["neither", "Neither good nor poor"], ["poor", "Poor"], ["very_poor", "Very poor"]]
PART_READ: list[tuple[list[list[str]], str, int]] = [
    (PRIORITIES, "same nurse", 2), (PRIORITIES, "nurse", 2), (PRIORITIES, "the same nurse please", 2),
    (PRIORITIES, "waiting", 0), (PRIORITIES, "support", 3), (PRIORITIES, "support for carers", 3),
    (PRIORITIES, "nurses", 2), (PRIORITIES, "visit", 0),
    (SHIFTS, "day", 0), (SHIFTS, "days", 0), (SHIFTS, "Day", 0), (SHIFTS, "night", 1), (SHIFTS, "Nights", 1),
    (SHIFTS, "the day one", 0), (SHIFTS, "night shift", 1),
    (ROLES, "family", 1), (ROLES, "carer", 1), (ROLES, "deulu", 1), (ROLES, "familly", 1),
    (FFT, "neither", 2),
]
PART_REFUSED: list[tuple[list[list[str]], str]] = [
    (SHIFTS, "shifts"), (SHIFTS, "the"), (PRIORITIES, "the"), (PRIORITIES, "for a"), (PRIORITIES, "not the nurse"),
    (PRIORITIES, "nurse or phone"), (FFT, "very"), (FFT, "good or poor"), (FFT, "not good"), (ROLES, "or"),
    (ROLES, "my family doctor"), (SHIFTS, "eight"),
]


@pytest.mark.parametrize(("options", "reply", "index"), PART_READ, ids=[r for _, r, _ in PART_READ])
def test_a_distinctive_part_of_one_options_label_names_it(options: list[list[str]], reply: str, index: int) -> None:
    assert match_option(reply, options) == index


@pytest.mark.parametrize(("options", "reply"), PART_REFUSED, ids=[r for _, r in PART_REFUSED])
def test_a_part_shared_by_options_a_little_word_or_a_negation_names_none(options: list[list[str]], reply: str) -> None:
    assert match_option(reply, options) is None


def test_a_single_option_is_not_named_by_any_one_of_its_words() -> None:
    """Steps ask 'is this the unsure option?' with a one-option list: 'sure' is not 'Not sure'."""
    assert match_option("sure", [["Not sure"]]) is None


def test_several_options_named_by_parts_of_their_labels() -> None:
    assert match_options("day and night", SHIFTS) == [0, 1]
    assert match_options("family, staff", ROLES) == [1, 2]


def test_a_choice_step_takes_a_word_of_a_label_in_a_conversation() -> None:
    chat = Chat({"id": "shift", "type": "choice", "text": "Which shifts do you work?",
                 "options": [{"value": "d", "label": "Day shifts"}, {"value": "n", "label": "Night shifts"}]})
    chat.send("nights")
    assert [(r.step_id, r.value) for r in chat.recorded] == [("shift", "n")]


# ----------------------------------------------------------------------------- ranking

RANK = {"id": "fix", "type": "rank", "text": "What should we fix first? Your top 3 in order", "top": 3,
        "options": [{"value": "waits", "label": "Waiting for a visit"}, {"value": "phone", "label": "Getting through by phone"},
                    {"value": "nurse", "label": "Seeing the same nurse"}, {"value": "carers", "label": "Support for carers"}]}


def _ranked(chat: Chat) -> Any:
    return next((r.value for r in chat.recorded if r.item is None), None)


@pytest.mark.parametrize("reply", ["phone, same nurse, waiting", "phone, the same nurse, waits", "2, 3, 1", "2, 3 and 1",
                                   "phone then nurse then waiting", "phone, same nurse, waiting, thanks"])
def test_a_ranking_reads_each_part_by_number_or_by_part_of_a_label(reply: str) -> None:
    chat = Chat(RANK)
    chat.send(reply)
    assert _ranked(chat) == ["phone", "nurse", "waits"]


def test_a_ranking_with_a_part_not_understood_is_asked_again_not_cut_to_one_pick() -> None:
    chat = Chat(RANK)
    said = chat.send("phone, same nurse, parking")
    assert chat.recorded == [] and chat.state.step_data == {}, "nothing placed: 'phone' alone is not what was meant"
    assert said == ['Please put the options in order using their numbers, e.g. "3 2 1".']


def test_a_ranking_option_whose_label_has_a_comma_is_one_pick() -> None:
    step = {**RANK, "top": None, "options": ["Food, drink and rest", "Parking", "Signs"]}
    chat = Chat(step)
    chat.send("Food, drink and rest")
    assert chat.state.step_data == {"picked": ["Food, drink and rest"]}


# ----------------------------------------------------------------------------- statements

@pytest.mark.parametrize(("reply", "vote"), [
    ("strongly agree", 1), ("Strongly disagree", -1), ("totally agree", 1), ("I strongly agree", 1),
    ("agree strongly", 1), ("completely disagree!", -1), ("I totally agree with that", 1), ("cytuno'n gryf", 1),
    ("anghytuno'n gryf", -1), ("rwy'n cytuno'n gryf", 1), ("cytuno yn llwyr", 1), ("definitely agree", 1),
])
def test_a_vote_is_read_however_strongly_it_is_put(reply: str, vote: int) -> None:
    assert read_vote(Reply(reply)) == vote


@pytest.mark.parametrize("reply", ["strongly", "not strongly agree", "agree and disagree", "not totally"])
def test_strength_alone_or_a_negated_vote_is_not_a_vote(reply: str) -> None:
    """'Strongly' alone may go either way; 'totally' alone, an affirmative as 'absolutely' is, is an
    agreement since session 17 (tests/test_reply_reading_gaps.py), but 'not totally' is none."""
    assert read_vote(Reply(reply)) is None


# ----------------------------------------------------------------------------- decimal comma

@pytest.mark.parametrize(("reply", "number"), [
    ("48,5", 48.5), ("it was 48,5", 48.5), ("0,75", 0.75), ("12,25 please", 12.25), ("1,000", 1000), ("12,500", 12500),
    ("0,125", 0.125), ("48.5", 48.5),
])
def test_a_decimal_comma_is_read_where_decimals_are_taken(reply: str, number: float) -> None:
    assert parse_number(reply, decimal_comma=True) == number


@pytest.mark.parametrize("reply", ["3,4", "48,5", "1,5"])
def test_a_comma_between_digits_is_no_decimal_point_in_a_whole_number_answer(reply: str) -> None:
    assert parse_number(reply) is None, "a rating or a count: two numbers, so no answer"


def _context(language: str = "en") -> StepContext:
    words = Words()
    return StepContext(language=language, default_language="en", render=lambda text: str(text),
                       words=lambda key: words.text(key, language))


def _number(reply: str, **fields: Any) -> Answer | Continue | Unclear:
    step = NumberStep.model_validate({"id": "hba1c", "type": "number", "text": "Your last HbA1c?", **fields})
    return step.interpret(Reply(reply), _context())


def test_a_decimal_number_step_takes_a_decimal_comma_and_a_whole_number_step_refuses_it() -> None:
    answer = _number("it was 48,5", integer=False, min=20, max=200, unit="mmol/mol")
    assert isinstance(answer, Answer) and answer.value == 48.5 and answer.display == "48.5 mmol/mol"
    assert isinstance(_number("48,5", min=20, max=200), Unclear)
    assert isinstance(_number("3,4", integer=False), Answer), "one decimal number where decimals are taken"


def test_the_hint_of_a_decimal_number_step_shows_how_to_write_decimals() -> None:
    unclear = _number("lots", integer=False, min=20, max=200)
    assert isinstance(unclear, Unclear) and unclear.hint == "Please reply with a number from 20 to 200; decimals are fine, e.g. 20.5."
    assert _number("lots", integer=False) == Unclear("Please reply with a number, e.g. 3.5.")
    assert _number("lots", integer=False, min=0, max=0.4) == Unclear("Please reply with a number from 0 to 0.4; decimals are fine, e.g. 0.2.")
    assert _number("lots", min=20, max=200) == Unclear("Please reply with a number from 20 to 200."), "whole numbers: as before"
    welsh = NumberStep.model_validate({"id": "n", "type": "number", "text": "?", "integer": False, "min": 1, "max": 5})
    assert welsh.interpret(Reply("lots"), _context("cy")) == Unclear("Atebwch gyda rhif o 1 i 5; mae degolion yn iawn, e.e. 1.5.")


# ----------------------------------------------------------------------------- a spoken YES to DELETE MY DATA

OPEN = {"id": "story", "type": "open", "text": "What was waiting like?"}


@pytest.mark.parametrize(("language", "spoken"), [("en", "Yes."), ("en", "yeah"), ("cy", "Ydw.")])
def test_a_spoken_yes_to_delete_my_data_is_asked_to_type_yes_and_nothing_is_erased(language: str, spoken: str) -> None:
    chat = Chat(OPEN, language=language)
    chat.send("delete my data" if language == "en" else "dileu fy nata")
    said = chat.send(spoken, source="voice")
    assert said == [BUILT_IN_TEXTS["erase_type_yes"][language]]
    assert [m.kind for m in chat.said] == ["erase_confirm"], "sent even after STOP, like the question it repeats"
    assert chat.state.erase_pending and chat.recorded == []
    sprint = chat.engine.handle(chat.state, TextInput("YES"), NOW)
    assert any(type(e).__name__ == "ErasureConfirmed" for e in sprint.events), "a typed YES then erases"


def test_a_spoken_no_or_other_words_still_cancel_the_request() -> None:
    for spoken in ("No.", "We waited six hours"):
        chat = Chat(OPEN)
        chat.send("delete my data")
        said = chat.send(spoken, source="voice")
        assert said[0] == BUILT_IN_TEXTS["erase_cancelled"]["en"] and not chat.state.erase_pending
