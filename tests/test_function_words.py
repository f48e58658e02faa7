"""Little words ('the', 'and', 'my', Welsh 'y', 'yr', "a'r") name no option.

'The second and the first' with the options Patient / Carer / NHS staff / Other was stored as
Other, Carer, Patient: 'the' was read as a misspelling of 'Other'. A fuzzy match never takes a
reply made only of little words, and a short reply must come closer to an option's name to be a
misspelling of it. Welsh picks joined by "a'r" (and the) or 'ac' (and) are read as two picks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.engine import Engine, TextInput
from flows.events import RecordAnswer
from flows.model import Flow
from flows.parsing import match_option, match_options, only_little_words

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)
OPTIONS = [
    {"value": "patient", "label": {"en": "Patient", "cy": "Claf"}},
    {"value": "carer", "label": {"en": "Carer", "cy": "Gofalwr"}},
    {"value": "staff", "label": {"en": "NHS staff", "cy": "Staff y GIG"}},
    {"value": "other", "label": {"en": "Other", "cy": "Arall"}},
]
NAMES = [["patient", "Patient", "Claf"], ["carer", "Carer", "Gofalwr"], ["staff", "NHS staff", "Staff y GIG"], ["other", "Other", "Arall"]]
HINT_ONE = "Please reply with a number from 1 to 4."
HINT_SEVERAL = "Please reply with one or more numbers from 1 to 4, e.g. 1 3."


def reply_to(reply: str, multiple: bool, language: str = "en") -> tuple[Any, list[str]]:
    """The value a choice records for a reply (None when asked again), and what is said."""
    step = {"id": "who", "type": "choice", "text": {"en": "Who are you?", "cy": "Pwy ydych chi?"}, "options": OPTIONS,
            "multiple": multiple}
    engine = Engine(Flow.model_validate({"flow": "f", "languages": ["en", "cy"],
                                         "steps": [step, {"id": "bye", "type": "end", "text": "Bye."}]}))
    sprint = engine.handle(engine.start(NOW, language=language, seed=1).state, TextInput(reply), NOW)
    recorded = [e.value for e in sprint.events if isinstance(e, RecordAnswer)]
    return (recorded[0] if recorded else None), [m.text for m in sprint.messages()]


def test_the_second_and_the_first_is_carer_then_patient_not_other() -> None:
    assert reply_to("the second and the first", multiple=True) == (["carer", "patient"], ["Bye."])


@pytest.mark.parametrize(("reply", "picks"), [
    ("the first and the third", ["patient", "staff"]), ("the first, the third", ["patient", "staff"]),
    ("the second and third one", ["carer", "staff"]), ("the second one and the first one", ["carer", "patient"]),
    ("first and a third", ["patient", "staff"]), ("the last and the first", ["other", "patient"]),
    ("a and c", ["patient", "staff"]), ("AC", ["patient", "staff"]), ("the other and the first", ["other", "patient"]),
])
def test_picks_introduced_by_the_are_what_they_name(reply: str, picks: list[str]) -> None:
    assert reply_to(reply, multiple=True)[0] == picks


@pytest.mark.parametrize(("reply", "picks"), [
    ("y cyntaf a'r trydydd", ["patient", "staff"]), ("yr ail a'r cyntaf", ["carer", "patient"]),
    ("y cyntaf a’r olaf", ["patient", "other"]), ("y cyntaf ac yr ail", ["patient", "carer"]),
    ("y cyntaf, a'r trydydd", ["patient", "staff"]), ("2 a 3", ["carer", "staff"]), ("1 a 4", ["patient", "other"]),
    ("claf a'r gofalwr", ["patient", "carer"]),
])
def test_welsh_picks_joined_by_and_are_two_picks(reply: str, picks: list[str]) -> None:
    assert reply_to(reply, multiple=True, language="cy")[0] == picks


@pytest.mark.parametrize("reply", ["the", "and the", "to", "of", "my", "it", "y", "yr", "a'r", "or", "the and the", "of the"])
def test_little_words_alone_are_asked_again(reply: str) -> None:
    assert reply_to(reply, multiple=False) == (None, [HINT_ONE])
    assert reply_to(reply, multiple=True) == (None, [HINT_SEVERAL])


@pytest.mark.parametrize(("reply", "pick"), [("other", "other"), ("othr", "other"), ("the other", "other"),
                                             ("the other one", "other"), ("carrer", "carer"), ("my carer", "carer")])
def test_names_and_their_misspellings_still_pick(reply: str, pick: str) -> None:
    assert reply_to(reply, multiple=False)[0] == pick


@pytest.mark.parametrize(("reply", "names"), [
    ("the", [["Other"], ["Patient"]]), ("them", [["Theme"], ["Patient"]]), ("oth", [["Other"], ["Patient"]]),
    ("car", [["Carer"], ["Patient"]]), ("and", [["Andrew"], ["Patient"]]), ("yr", [["Your GP"], ["Patient"]]),
    ("my", [["Myself"], ["Patient"]]),
])
def test_a_short_word_is_no_misspelling_of_a_longer_name(reply: str, names: list[list[str]]) -> None:
    assert match_option(reply, names) is None


FUNCTION_WORDS = ["the", "and", "or", "to", "of", "my", "it", "y", "yr", "a'r", "ac", "an", "in", "on", "for", "with",
                  "is", "that", "this", "i", "me", "them", "they", "his", "there", "was", "but", "then", "neu", "o'r", "i'r",
                  "yn", "fy", "ein", "nhw", "fi", "at", "by", "from"]
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": 3, "cyntaf": 0, "ail": 1, "trydydd": 2,
            "pedwerydd": 3, "olaf": 3}
TRICKY = [["Other", "Theme", "Your GP", "Myself", "Andrew", "Toast", "Intake", "Forms"],
          ["Themes", "Thee", "Otherwise", "Fyfe", "Neuro", "Anne", "Mythos", "Items"],
          ["Orthopaedics", "Tour", "Ward", "Theatre", "Yr Wyddgrug", "Actor", "Inner", "Onset"],
          ["Patient", "Carer", "Staff", "Arall", "Claf", "Gofalwr", "Nurse", "Doctor"]]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FUNCTION_WORDS), min_size=1, max_size=4), st.permutations(range(8)))
def test_a_reply_of_little_words_names_no_option(words: list[str], order: list[int]) -> None:
    names = [[TRICKY[row][column]] for row, column in enumerate(order[:4])]
    reply = " ".join(words)
    assert only_little_words(reply)
    assert match_option(reply, names) is None
    picks = match_options(reply, names)
    assert picks is None or reply == "ac", f"{reply!r} picked {picks} from {names}"  # 'ac': the letters A and C


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FUNCTION_WORDS), st.sampled_from(sorted(ORDINALS))), min_size=1, max_size=6),
       st.permutations(range(8)))
def test_little_words_and_ordinals_pick_only_what_the_ordinals_name(words: list[str], order: list[int]) -> None:
    names = [[TRICKY[row][column]] for row, column in enumerate(order[:4])]
    reply = " ".join(words)
    named = {ORDINALS[word] for word in words if word in ORDINALS}
    picks = match_options(reply, names) or []
    assert reply == "ac" or set(picks) <= named, f"{reply!r} picked {picks} from {names}"
