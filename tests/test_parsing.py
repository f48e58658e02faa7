"""Forgiving answer understanding, table-tested through the real step types.

Each row is (question kind, what the participant sent, what the step should record);
``None`` means the reply is unclear and the participant gets a retry message.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.model import resolve_text
from flows.parsing import (
    match_option,
    match_options,
    normalise,
    parse_number,
    parse_yes_no,
    words_to_number,
)
from flows.steps.base import Answer, InputStep, Reply, StepContext, Unclear
from flows.steps.choice import ChoiceStep
from flows.steps.number import NumberStep
from flows.steps.scale import ScaleStep
from flows.steps.yesno import YesNoStep
from flows.words import Words

_LABELS = {
    "role": [("patient", "Patient", "Claf"), ("carer", "Carer or family", "Gofalwr neu deulu"), ("staff", "Staff", "Staff")],
    "shift": [("day", "Days", "Dydd"), ("night", "Nights", "Nos"), ("weekend", "Weekends", "Penwythnos")],
    "fft": [
        ("very_good", "Very good", "Da iawn"), ("good", "Good", "Da"),
        ("neither", "Neither good nor poor", "Ddim yn dda nac yn wael"), ("poor", "Poor", "Gwael"),
        ("very_poor", "Very poor", "Gwael iawn"), ("dont_know", "Don't know", "Ddim yn gwybod"),
    ],
}


def _options(name: str) -> list[dict[str, Any]]:
    return [{"value": value, "label": {"en": en, "cy": cy}} for value, en, cy in _LABELS[name]]


STEPS: dict[str, InputStep] = {
    "yesno": YesNoStep(id="q", type="yesno", text="Can we message you again?"),
    "role": ChoiceStep(id="q", type="choice", text="Which best describes you?", options=_options("role")),
    "fft": ChoiceStep(id="q", type="choice", text="How was it?", options=_options("fft")),
    "shifts": ChoiceStep(id="q", type="choice", text="Which shifts?", options=_options("shift"), multiple=True),
    "grade": ScaleStep(id="q", type="scale", text="How important, 1-9?", min=1, max=9),
    "visits": NumberStep(id="q", type="number", text="How many visits?", min=0, max=100),
}


def _context(language: str = "en") -> StepContext:
    words = Words()
    return StepContext(
        language=language,
        default_language="en",
        render=lambda text: resolve_text(text, language, "en"),
        words=lambda key: words.text(key, language),
    )


def understood(kind: str, text: str) -> Any:
    outcome = STEPS[kind].interpret(Reply(text), _context())
    assert isinstance(outcome, Answer | Unclear)
    return outcome.value if isinstance(outcome, Answer) else None


ACCEPTED: list[tuple[str, str, Any]] = [
    # yes / no, in English, Welsh and emoji, with politeness around them
    ("yesno", "yes", "yes"), ("yesno", "Y", "yes"), ("yesno", "yeah", "yes"), ("yesno", "Yep!", "yes"),
    ("yesno", "👍", "yes"), ("yesno", "👍🏽", "yes"), ("yesno", "yes please", "yes"), ("yesno", "Yesss", "yes"),
    ("yesno", "ok", "yes"), ("yesno", "sure, why not", "yes"), ("yesno", "I think so", "yes"),
    ("yesno", "yes I would love to", "yes"), ("yesno", "Of course.", "yes"),
    ("yesno", "ie", "yes"), ("yesno", "iawn", "yes"), ("yesno", "do", "yes"), ("yesno", "Ydw", "yes"),
    ("yesno", "ydw diolch", "yes"), ("yesno", "Yeah, I think so.", "yes"), ("yesno", "I consent", "yes"),
    ("yesno", "I agree to take part", "yes"), ("yesno", "1", "yes"), ("yesno", "Sorry, no", "no"),
    ("yesno", "no", "no"), ("yesno", "N", "no"), ("yesno", "nope", "no"), ("yesno", "👎", "no"),
    ("yesno", "no thanks", "no"), ("yesno", "Nooo", "no"), ("yesno", "not really", "no"),
    ("yesno", "definitely not", "no"), ("yesno", "I don't think so", "no"), ("yesno", "nah mate", "no"),
    ("yesno", "na", "no"), ("yesno", "Nac ydw.", "no"), ("yesno", "na diolch", "no"),
    # one option by number, word, letter, ordinal, label or a close misspelling
    ("role", "2", "carer"), ("role", "two", "carer"), ("role", "B", "carer"), ("role", "b)", "carer"),
    ("role", "(b)", "carer"), ("role", "option B", "carer"), ("role", "the second one", "carer"),
    ("role", "2nd", "carer"), ("role", "#2", "carer"), ("role", "2️⃣", "carer"),
    ("role", "I think number three", "staff"), ("role", "3 please", "staff"), ("role", "thre", "staff"),
    ("role", "the last one", "staff"), ("role", "Carer.", "carer"), ("role", "carer or family", "carer"),
    ("role", "carrer", "carer"), ("role", "stafff", "staff"), ("role", "pateint", "patient"),
    ("role", "I'm a carer", "carer"), ("role", "Gofalwr neu deulu", "carer"), ("role", "claf", "patient"),
    ("role", "I'd say 1 thanks", "patient"), ("role", "I'd go for the first one", "patient"),
    ("role", "Number 3.", "staff"), ("role", "Two, please.", "carer"), ("role", "Let's say B", "carer"),
    ("fft", "very good", "very_good"), ("fft", "It was very good", "very_good"), ("fft", "verry good", "very_good"),
    ("fft", "good", "good"), ("fft", "poor i think", "poor"), ("fft", "Da iawn", "very_good"),
    ("fft", "don't know", "dont_know"), ("fft", "6", "dont_know"),
    # several options
    ("shifts", "1 and 3", ["day", "weekend"]), ("shifts", "1,3", ["day", "weekend"]),
    ("shifts", "1, 3", ["day", "weekend"]), ("shifts", "A C", ["day", "weekend"]),
    ("shifts", "AC", ["day", "weekend"]), ("shifts", "days and nights", ["day", "night"]),
    ("shifts", "nights & weekends", ["night", "weekend"]), ("shifts", "3 1", ["weekend", "day"]),
    ("shifts", "nights", ["night"]), ("shifts", "all of them", ["day", "night", "weekend"]),
    ("shifts", "dydd, nos", ["day", "night"]),
    # ratings 1-9
    ("grade", "7", 7), ("grade", "seven", 7), ("grade", "Seven.", 7), ("grade", "7/9", 7),
    ("grade", "I'd say 4 thanks", 4), ("grade", "a nine", 9), ("grade", "eight out of nine", 8),
    ("grade", "sevn", 7), ("grade", "thre", 3), ("grade", "I think number three", 3),
    ("grade", "7 out of 9 please", 7), ("grade", "the second one", 2), ("grade", "4️⃣", 4), ("grade", "saith", 7), ("grade", "5 😊", 5),
    # counts
    ("visits", "3", 3), ("visits", "three times", 3), ("visits", "twice", 2), ("visits", "none", 0),
    ("visits", "twenty one", 21), ("visits", "twenty-one", 21), ("visits", "about 12 times", 12),
    ("visits", "a hundred", 100),
]

REJECTED: list[tuple[str, str]] = [
    ("yesno", "yes and no"), ("yesno", "yeah no"), ("yesno", "maybe"), ("yesno", ""), ("yesno", "   "),
    ("yesno", "not sure"), ("yesno", "I don't know"), ("yesno", "no idea"), ("yesno", "😀🎉"),
    ("yesno", "👍👎"), ("yesno", "yes but not now"), ("yesno", "perhaps"), ("yesno", "hello"),
    ("role", "2 or 3"), ("role", "4"), ("role", "0"), ("role", "d"), ("role", "patient or carer"),
    ("role", "maybe"), ("role", ""), ("role", "😀😀"), ("role", "1 and 3"), ("role", "not staff"),
    ("role", "yes"), ("role", "Um, seven"),
    ("fft", "not good"), ("fft", "good or poor"), ("fft", "7"),
    ("shifts", "2 or 3"), ("shifts", "1 and 4"), ("shifts", "holidays"), ("shifts", ""), ("shifts", "🙂"),
    ("grade", "10"), ("grade", "0"), ("grade", "2 or 3"), ("grade", "4-5"), ("grade", "maybe"),
    ("grade", ""), ("grade", "3.5"), ("grade", "lots"), ("grade", "🙂🙂"), ("grade", "twelve"),
    ("grade", "1,5"), ("grade", "one two"),
    ("visits", "101"), ("visits", "-1"), ("visits", "2.5"), ("visits", "I've been 3 times, maybe 4"),
    ("visits", "7:30"), ("visits", "there"), ("visits", "even"), ("visits", "loads"),
    ("role", "carer " * 50), ("visits", "seven " * 50),
]


@pytest.mark.parametrize(("kind", "text", "expected"), ACCEPTED, ids=[f"{k}:{t}" for k, t, _ in ACCEPTED])
def test_it_understands_a_forgiving_answer(kind: str, text: str, expected: Any) -> None:
    assert understood(kind, text) == expected


@pytest.mark.parametrize(("kind", "text"), REJECTED, ids=[f"{k}:{t}" for k, t in REJECTED])
def test_it_asks_again_when_an_answer_is_unclear_or_out_of_range(kind: str, text: str) -> None:
    assert understood(kind, text) is None


def test_the_table_is_big_enough_to_cover_both_sides() -> None:
    assert len(ACCEPTED) + len(REJECTED) >= 80
    assert len(REJECTED) >= 30


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("yesno", "Please reply YES or NO."),
        ("role", "Please reply with a number from 1 to 3."),
        ("shifts", "Please reply with one or more numbers from 1 to 3, e.g. 1 3."),
        ("grade", "Please reply with a number from 1 to 9."),
        ("visits", "Please reply with a number from 0 to 100."),
    ],
)
def test_an_unclear_answer_gets_a_short_specific_hint(kind: str, hint: str) -> None:
    outcome = STEPS[kind].interpret(Reply("2 or 3 or 500"), _context())
    assert outcome == Unclear(hint)


def test_a_welsh_speaker_gets_the_hint_in_welsh() -> None:
    outcome = STEPS["yesno"].interpret(Reply("efallai"), _context("cy"))
    assert outcome == Unclear("Atebwch YDW neu NAC YDW.")


def test_a_tapped_button_wins_over_the_text() -> None:
    outcome = STEPS["role"].interpret(Reply("whatever", button="staff"), _context())
    assert outcome == Answer("staff", "Staff")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seven", 7), ("twenty one", 21), ("twenty-one", 21), ("one hundred and five", 105),
        ("a hundred", 100), ("two thousand and ten", 2010), ("3.5", 3.5), ("1,000", 1000), ("-2", -2),
        ("three and a half", 3.5), ("sevn", 7), ("one two", None), ("twenty thirty", None), ("cat", None), ("", None),
    ],
)
def test_words_to_number_reads_whole_number_phrases(text: str, expected: float | None) -> None:
    assert words_to_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3½", 3.5), ("7 out of 10", 7), ("10/10", 10), ("1/2", None), ("between 2 and 3", None), ("five or six", None)],
)
def test_parse_number_finds_the_one_number_in_a_reply(text: str, expected: float | None) -> None:
    """(On a question up to 10: a fraction counts only over its highest point; '1/2' is no score.)"""
    assert parse_number(text, out_of=10) == expected


def test_normalise_folds_case_accents_space_and_surrounding_punctuation() -> None:
    assert normalise("  Yn  ÔL!! ") == "yn ol"
    assert normalise("Don’t KNOW.") == "don't know"
    assert normalise("3️⃣") == "3"


@pytest.mark.parametrize(("text", "expected"), [("Yes!!", True), ("NOPE", False), ("yes, no", None), ("ydw", True)])
def test_parse_yes_no_on_its_own(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


def test_match_option_refuses_a_name_two_options_share() -> None:
    assert match_option("staff", [["Staff"], ["staff", "Staff nurse"]]) is None
    assert match_option("staff nurse", [["Staff"], ["staff nurse"]]) == 1


def test_match_options_keeps_order_and_drops_repeats() -> None:
    options = [["day"], ["night"], ["weekend"]]
    assert match_options("3, 1, 3", options) == [2, 0]
    assert match_options("1 and 9", options) is None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60), count=st.integers(1, 8))
def test_no_text_breaks_the_parsers_and_picks_stay_in_range(text: str, count: int) -> None:
    options = [[f"Option {i}", f"value_{i}"] for i in range(count)]
    assert parse_yes_no(text) in (True, False, None)
    assert parse_number(text) is None or isinstance(parse_number(text), float)
    single = match_option(text, options)
    assert single is None or 0 <= single < count
    several = match_options(text, options)
    assert several is None or (several and len(set(several)) == len(several) and all(0 <= i < count for i in several))


@given(number=st.integers(-1000, 100000))
@settings(max_examples=100, deadline=None)
def test_a_plain_number_always_reads_as_itself(number: int) -> None:
    assert parse_number(str(number)) == number
    assert parse_number(f"I'd say {number} thanks") == number


def test_several_options_listed_are_several_picks_unless_one_option_is_named_word_for_word() -> None:
    """'Days, weekends' names 'weekends' inside it, but it lists two picks; an option whose own
    name is a list ('Nights and weekends') is still that one option."""
    options = [("Days", "days"), ("Nights", "nights"), ("Weekends", "weekends"), ("Nights and weekends", "both")]
    assert match_options("Days, weekends", options) == [0, 2]
    assert match_options("days and nights.", options) == [0, 1]
    assert match_options("Nights and weekends", options) == [3]
    assert match_options("weekends", options) == [2]


def test_a_list_with_a_part_that_names_no_option_is_asked_again_not_cut_short() -> None:
    options = [("Days", "days"), ("Nights", "nights"), ("Weekends", "weekends")]
    assert match_options("nights, holidays", options) is None, "'holidays' would have been dropped"
    assert match_options("Nights, thanks", options) == [1]
    assert match_options("nights, I think", options) == [1]
