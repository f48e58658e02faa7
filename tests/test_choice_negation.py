"""Choices said by what is NOT wanted, as people type them on a basic phone, in English and
Welsh: 'not 2', 'anything but carer', 'not the first one', 'none of them', 'carer no way',
'dim 1', 'nid y cyntaf', 'unrhyw beth ond 2'. The option rejected is never picked; in a single
choice the one option left is picked when only one is left (and it is no 'Not sure'); where
several are left the participant is asked again, told that we understood what they do not
want; in a multiple choice 'all except X' picks all the others. Options whose own labels are
negative ('Not at all', 'No change', 'Not sure', 'None of these', 'Neither') still match."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.parsing import (
    match_option,
    match_options,
    parse_yes_no,
    rejected_options,
    remaining_option,
)
from tests.engine_chat import RecordingChat

ROLES = [["patient", "Patient", "Claf"], ["carer", "Carer", "Gofalwr"], ["staff", "Staff", "Staff"]]
CONTACT = [["phone", "Phone", "Ffôn"], ["email", "Email", "E-bost"]]
TIMES = [["am", "Mornings", "Boreau"], ["pm", "Afternoons", "Prynhawniau"], ["eve", "Evenings", "Nosweithiau"],
         ["wk", "Weekends", "Penwythnosau"]]
HOW_MUCH = [["Not at all", "Dim o gwbl"], ["A little", "Ychydig"], ["A lot", "Llawer"]]
CHANGE = [["Better"], ["No change"], ["Worse"]]
SURE = [["Yes"], ["No"], ["Not sure"]]
NONE_OF_THESE = [["Leaflets"], ["Videos"], ["None of these"]]
NEITHER = [["Home"], ["Clinic"], ["Neither"]]
AGREE_OR_UNSURE = [["Agree"], ["Not sure"]]
OFTEN = [["Never"], ["Sometimes"], ["Often"]]
WELL = [["Very poorly"], ["Poorly"], ["Neither"], ["Well"], ["Very well"]]

SINGLE: list[tuple[list[list[str]], str, int | None]] = [
    # the option rejected is never picked, however it is rejected
    (ROLES, "anything but carer", None), (ROLES, "Anything except staff", None), (ROLES, "any but patient", None),
    (ROLES, "anything other than carer", None), (ROLES, "not carer", None), (ROLES, "NOT 2", None),
    (ROLES, "not the second one", None), (ROLES, "not the carer one", None), (ROLES, "definitely not carer", None),
    (ROLES, "carer no way", None), (ROLES, "carer - definitely not", None), (ROLES, "no carer", None),
    (ROLES, "no, carer", None), (ROLES, "not carer or staff", None), (ROLES, "neither carer nor staff", None),
    (ROLES, "i don't want staff", None), (ROLES, "im not a carer", None), (ROLES, "all but carer", None),
    (ROLES, "except carer", None), (ROLES, "none of them", None), (ROLES, "neither", None), (ROLES, "not b", None),
    # Welsh
    (ROLES, "dim 2", None), (ROLES, "nid y cyntaf", None), (ROLES, "ddim yr ail", None), (ROLES, "unrhyw beth ond 2", None),
    (ROLES, "unrhyw beth ond gofalwr", None), (ROLES, "dim gofalwr", None), (ROLES, "pob un heblaw staff", None),
    (ROLES, "dim un", None), (ROLES, "dim un ohonyn nhw", None), (ROLES, "na claf na staff", None),
    # what is wanted, said with what is not
    (ROLES, "patient not carer", 0), (ROLES, "carer, not staff", 1), (ROLES, "not staff but carer", 1),
    (ROLES, "not patient, carer", 1), (ROLES, "staff rather than carer", 2), (ROLES, "nid claf ond gofalwr", 1),
    # idioms that reject no option, and picks that are no negation
    (ROLES, "not sure", None), (ROLES, "no idea", None), (ROLES, "don't know", None), (ROLES, "no preference", None),
    (ROLES, "not bothered", None), (ROLES, "carer", 1), (ROLES, "2", 1), (ROLES, "the second one", 1),
    (ROLES, "no 2", 1), (ROLES, "No. 3", 2), (ROLES, "Gofalwr", 1), (ROLES, "yr ail", 1),
    # options whose own labels are negative
    (HOW_MUCH, "not at all", 0), (HOW_MUCH, "Not at all thanks", 0), (HOW_MUCH, "no not at all", 0),
    (HOW_MUCH, "nope, not at all", 0), (HOW_MUCH, "dim o gwbl", 0), (HOW_MUCH, "not a lot", None),
    (HOW_MUCH, "not 3", None), (HOW_MUCH, "anything but 1", None), (HOW_MUCH, "not the first one", None),
    (HOW_MUCH, "a lot", 2),
    (CHANGE, "no change", 1), (CHANGE, "No change thanks", 1), (CHANGE, "not worse", None), (CHANGE, "no better", None),
    (SURE, "not sure", 2), (SURE, "im not sure", 2), (SURE, "no", 1), (SURE, "not yes", None),
    (NONE_OF_THESE, "none of these", 2), (NONE_OF_THESE, "none of them", 2), (NONE_OF_THESE, "not videos", None),
    (NEITHER, "neither", 2), (NEITHER, "nope neither", 2), (NEITHER, "no, neither", 2), (NEITHER, "not home", None),
    (OFTEN, "never", 0), (OFTEN, "no, never", 0), (OFTEN, "not often", None), (OFTEN, "no, often", None),
    (WELL, "not well", None), (WELL, "not very well", None), (WELL, "neither", 2), (WELL, "well", 3),
    (ROLES, "anything but the ones with needles", None),
    # two options: match_option alone never picks the other (remaining_option does, below)
    (CONTACT, "not phone", None), (CONTACT, "email not phone", 1), (CONTACT, "phone no", None), (CONTACT, "phone", 0),
]


@pytest.mark.parametrize(("options", "reply", "expected"), SINGLE)
def test_one_pick_never_takes_the_option_the_reply_rejects(options: list[list[str]], reply: str, expected: int | None) -> None:
    assert match_option(reply, options) == expected


REMAINING: list[tuple[list[list[str]], str, int | None]] = [
    (CONTACT, "not phone", 1), (CONTACT, "not the first one", 1), (CONTACT, "Not the 1st", 1), (CONTACT, "anything but email", 0),
    (CONTACT, "definitely not email", 0), (CONTACT, "email no way", 0), (CONTACT, "no email", 0), (CONTACT, "not 2", 0),
    (CONTACT, "dim e-bost", 0), (CONTACT, "nid y cyntaf", 1), (CONTACT, "unrhyw beth ond ffon", 1), (CONTACT, "not a", 1),
    (CONTACT, "all but phone", 1),
    # nothing left, or no clear rejection: no guess
    (CONTACT, "neither", None), (CONTACT, "none of them", None), (CONTACT, "not phone or email", None),
    (CONTACT, "not sure", None), (CONTACT, "phone no", None), (CONTACT, "no, email", None), (CONTACT, "phone", None),
    (CONTACT, "no thanks", None),
    # one left of three, named one by one
    (ROLES, "not carer or staff", 0), (ROLES, "neither patient nor carer", 2), (ROLES, "not carer", None),
    (NEITHER, "not home or clinic", 2),
    # what is left is a 'Not sure': 'not agree' may be a disagreement the options do not offer
    (AGREE_OR_UNSURE, "not agree", None),
]


@pytest.mark.parametrize(("options", "reply", "expected"), REMAINING)
def test_the_one_option_left_is_picked_only_when_it_is_clear(options: list[list[str]], reply: str, expected: int | None) -> None:
    assert remaining_option(reply, options) == expected


MULTIPLE: list[tuple[list[list[str]], str, list[int] | None]] = [
    (TIMES, "all except weekends", [0, 1, 2]), (TIMES, "all but 1", [1, 2, 3]), (TIMES, "everything but evenings and weekends", [0, 1]),
    (TIMES, "all apart from mornings", [1, 2, 3]), (TIMES, "all of them except the last one", [0, 1, 2]),
    (TIMES, "pob un ond 4", [0, 1, 2]), (TIMES, "y cyfan heblaw boreau", [1, 2, 3]), (TIMES, "all except 1 2 3 4", None),
    (TIMES, "not weekends", None), (TIMES, "anything but weekends", None), (TIMES, "none of them", None),
    (TIMES, "not 2 or 3", None), (TIMES, "dim 4", None), (TIMES, "dim un", None),
    (TIMES, "1 and 3 but not 2", [0, 2]), (TIMES, "mornings, evenings, not weekends", [0, 2]), (TIMES, "evenings not weekends", [2]),
    (TIMES, "1 3 but not 3", None),
    (TIMES, "1 3", [0, 2]), (TIMES, "all", [0, 1, 2, 3]), (TIMES, "mornings and evenings", [0, 2]),
    (HOW_MUCH, "not 2", None), (HOW_MUCH, "not a lot", None), (HOW_MUCH, "NOT 1", None), (HOW_MUCH, "not at all", [0]),
    (HOW_MUCH, "all but carer", None), (CHANGE, "no change", [1]), (NONE_OF_THESE, "none of these", [2]),
]


@pytest.mark.parametrize(("options", "reply", "expected"), MULTIPLE)
def test_several_picks_leave_out_what_the_reply_rejects(options: list[list[str]], reply: str, expected: list[int] | None) -> None:
    assert match_options(reply, options) == expected


REJECTED: list[tuple[list[list[str]], str, list[int]]] = [
    (ROLES, "anything but carer", [1]), (ROLES, "not 2 or 3", [1, 2]), (ROLES, "neither patient nor staff", [0, 2]),
    (ROLES, "none of them", [0, 1, 2]), (ROLES, "neither", [0, 1, 2]), (ROLES, "dim 1", [0]),
    (ROLES, "unrhyw beth ond y trydydd", [2]), (ROLES, "patient not carer", [1]), (ROLES, "no carer", [1]),
    (ROLES, "not 2, not 3", [1, 2]), (ROLES, "carer no way", [1]), (ROLES, "no way", []),
    (ROLES, "carer", []), (ROLES, "not sure", []), (ROLES, "no, carer", []), (ROLES, "no worries, carer", []),
    (HOW_MUCH, "not at all", []), (HOW_MUCH, "no not at all", []), (HOW_MUCH, "not a lot", [2]),
    (CHANGE, "no change", []), (SURE, "not sure", []), (SURE, "definitely not sure", []),
    (NONE_OF_THESE, "none of them", []), (NEITHER, "neither of them", []), (NEITHER, "Nah none of them thanks", []),
    (WELL, "not well", [3]), (WELL, "not very well", [4]), (WELL, "neither", []), (ROLES, "i think not carer", [1]),
    (ROLES, "sorry, dim 1", [0]), (ROLES, "anything but the ones with needles", []), (OFTEN, "nothing", [0, 1, 2]),
]


@pytest.mark.parametrize(("options", "reply", "expected"), REJECTED)
def test_what_a_reply_rejects(options: list[list[str]], reply: str, expected: list[int]) -> None:
    assert rejected_options(reply, options) == expected


@pytest.mark.parametrize(("reply", "expected"), [
    ("not really", False), ("no not yet", False), ("not at all", False), ("definitely not", False), ("no way", False),
    ("no thanks", False), ("no problem", True), ("not sure", None), ("dim diolch", False), ("nac ydw", False),
])
def test_yes_no_replies_are_unchanged(reply: str, expected: bool | None) -> None:
    assert parse_yes_no(reply) is expected


# ----------------------------------------------------------------------------- in a conversation

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)
ROLE_STEP = {"id": "role", "type": "choice", "text": "Are you a patient, carer or staff?",
             "options": [{"value": "patient", "label": {"en": "Patient", "cy": "Claf"}},
                         {"value": "carer", "label": {"en": "Carer", "cy": "Gofalwr"}},
                         {"value": "staff", "label": {"en": "Staff", "cy": "Staff"}}]}
CONTACT_STEP = {"id": "contact", "type": "choice", "text": "Phone or email?",
                "options": [{"value": "phone", "label": "Phone"}, {"value": "email", "label": "Email"}]}
TIMES_STEP = {"id": "times", "type": "choice", "multiple": True, "text": "Which times suit you?",
              "options": [{"value": "am", "label": "Mornings"}, {"value": "pm", "label": "Afternoons"},
                          {"value": "eve", "label": "Evenings"}, {"value": "wk", "label": "Weekends"}]}


class Chat(RecordingChat):
    """One participant's conversation with a one-step flow."""

    def __init__(self, step: dict[str, Any], language: str = "en") -> None:
        super().__init__(step, language=language, seed=7, now=NOW, bye={"id": "bye", "type": "end", "text": "Bye."})


def test_anything_but_one_of_three_is_asked_again_saying_what_was_understood() -> None:
    chat = Chat(ROLE_STEP)
    said = chat.send("anything but carer")
    assert not chat.recorded, "the rejected option, nor a guess between the other two, is recorded"
    assert said == ["OK, not Carer. Which one, then? Please reply Patient or Staff."]  # no number was shown
    assert chat.send("patient") == ["Bye."]
    assert [a.value for a in chat.recorded] == ["patient"]


def test_in_welsh_the_reply_names_what_is_not_wanted_in_welsh() -> None:
    chat = Chat(ROLE_STEP, language="cy")
    said = chat.send("unrhyw beth ond y cyntaf")
    assert not chat.recorded
    assert said == ["Iawn, nid Claf. Pa un, felly? Atebwch Gofalwr neu Staff."]


def test_none_of_them_is_asked_again_for_the_closest() -> None:
    chat = Chat(ROLE_STEP)
    assert chat.send("none of them") == ["None of these? Please reply with the closest one: Patient, Carer or Staff."]
    assert not chat.recorded
    assert Chat(ROLE_STEP, language="cy").send("dim un ohonyn nhw") == [
        "Dim un o'r rhain? Atebwch gyda'r un agosaf: Claf, Gofalwr neu Staff."]


def test_not_the_first_of_two_picks_the_second() -> None:
    chat = Chat(CONTACT_STEP)
    assert chat.send("not the first one") == ["Bye."]
    assert [(a.value, a.display) for a in chat.recorded] == [("email", "Email")]


def test_all_except_one_in_a_multiple_choice_picks_all_the_others() -> None:
    chat = Chat(TIMES_STEP)
    assert chat.send("all except weekends") == ["Bye."]
    assert [a.value for a in chat.recorded] == [["am", "pm", "eve"]]


def test_not_one_in_a_multiple_choice_is_asked_again_saying_what_was_understood() -> None:
    chat = Chat(TIMES_STEP)
    said = chat.send("not weekends")
    assert not chat.recorded
    assert said == ["OK, not Weekends. Which ones, then? Please reply with their numbers, e.g. 1 2 3."]
    assert Chat(TIMES_STEP, language="cy").send("dim 1 na 2") == [
        "Iawn, nid Mornings na Afternoons. Pa rai, felly? Atebwch gyda'u rhifau, e.e. 3 4."]


@pytest.mark.parametrize(("reply", "winner"), [("not A", "b"), ("not the first one", "b"), ("anything but B", "a"), ("nid y cyntaf", "b")])
def test_not_one_of_a_pair_picks_the_other(reply: str, winner: str) -> None:
    chat = Chat({"id": "pairs", "type": "pairwise", "ideas": ["Tea", "Parking"], "pairs": 1, "submissions": False})
    chat.send(reply)
    [pair] = [a.value for a in chat.recorded if a.item is not None]
    shown = chat.recorded[0].item
    assert shown is not None
    a, b = shown.split(" vs ")
    assert pair["winner"] == (a if winner == "a" else b) and not pair["tie"]


def test_neither_of_a_pair_is_still_a_tie() -> None:
    chat = Chat({"id": "pairs", "type": "pairwise", "ideas": ["Tea", "Parking"], "pairs": 1, "submissions": False})
    chat.send("neither")
    assert [a.value["tie"] for a in chat.recorded if a.item is not None] == [True]


PATIENT_OR_CARER = [["patient", "Patient or carer"], ["staff", "Staff"]]


@pytest.mark.parametrize(("reply", "rejected", "remaining"), [
    ("not a patient", [], None), ("anything but patient", [], None), ("not patient or carer", [0], 1), ("not 1", [0], 1),
    ("not staff", [1], 0), ("not the staff one", [1], 0),
])
def test_part_of_an_option_rejected_is_not_the_whole_option(reply: str, rejected: list[int], remaining: int | None) -> None:
    """'not a patient' when the option is 'Patient or carer': a carer may say it, so the other option is no answer."""
    assert match_option(reply, PATIENT_OR_CARER) is None
    assert rejected_options(reply, PATIENT_OR_CARER) == rejected
    assert remaining_option(reply, PATIENT_OR_CARER) == remaining
