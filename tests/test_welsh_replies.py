"""Replies in Welsh read as their English forms are, in every step that reads a pick: ordinals
('y cyntaf', 'yr ail un', 'y drydedd', 'yr olaf') and politeness ('os gwelwch yn dda', 'plis',
'diolch yn fawr') around an answer. A participant answering a choice experiment in Welsh was
asked again for 'y cyntaf' and 'B os gwelwch yn dda', which 'the first one' and 'B please' are not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.parsing import match_option, parse_number, parse_yes_no, scale_point
from tests.engine_chat import RecordingChat

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class WelshChat(RecordingChat):
    """A participant in Welsh, with a one-step flow in English and Welsh."""

    def __init__(self, step: dict[str, Any]) -> None:
        super().__init__(step, language="cy", seed=7, now=NOW)


# ----------------------------------------------------------------------------- choice experiment

DCE = {
    "id": "appointment", "type": "choice_experiment", "text": {"en": "Which would you choose?", "cy": "Pa un fyddech chi'n ei ddewis?"},
    "attributes": {"wait": {"levels": [1, 4], "labels": {1: "1 week", 4: "4 weeks"}}, "who": ["GP", "nurse"]},
    "alternatives": 2, "opt_out": True, "tasks": 3,
}
DCE_WELSH = [
    ("y cyntaf", "A"), ("yr un cyntaf", "A"), ("y gyntaf", "A"), ("yr ail", "B"), ("yr ail un", "B"),
    ("B os gwelwch yn dda", "B"), ("A os gwelwch chi'n dda", "A"), ("B plis", "B"), ("plis B", "B"), ("A diolch", "A"),
    ("B diolch yn fawr", "B"), ("opsiwn B", "B"), ("rhif 2", "B"), ("y cyntaf os gwelwch yn dda", "A"),
    ("dim un plis", "none"), ("dim un", "none"), ("y trydydd", "none"),
]


@pytest.mark.parametrize(("reply", "choice"), DCE_WELSH, ids=[r for r, _ in DCE_WELSH])
def test_a_choice_task_in_welsh_reads_ordinals_and_politeness(reply: str, choice: str) -> None:
    chat = WelshChat(DCE)
    said = chat.send(reply)
    tasks = [r.value for r in chat.recorded if r.item]
    assert tasks and tasks[0]["choice"] == choice, said
    assert said[-1].startswith("Dewis 2 o 3:")


def test_a_choice_task_in_welsh_still_asks_again_for_a_letter_not_offered() -> None:
    chat = WelshChat(DCE)
    assert chat.send("C plis") == ["Atebwch A, B neu N am ddim un."]
    assert not [r for r in chat.recorded if r.item]


# ----------------------------------------------------------------------------- choice, pairwise, statements

ROLE = {"id": "role", "type": "choice", "text": {"en": "Which?", "cy": "Pa un?"},
        "options": [{"value": "patient", "label": {"en": "Patient", "cy": "Claf"}},
                    {"value": "carer", "label": {"en": "Carer", "cy": "Gofalwr"}},
                    {"value": "staff", "label": {"en": "Staff", "cy": "Staff"}},
                    {"value": "other", "label": {"en": "Someone else", "cy": "Rhywun arall"}}]}


@pytest.mark.parametrize(("reply", "value"), [
    ("y cyntaf", "patient"), ("yr ail", "carer"), ("yr ail un plis", "carer"), ("y trydydd", "staff"),
    ("y drydedd os gwelwch yn dda", "staff"), ("y pedwerydd", "other"), ("yr olaf", "other"), ("yr un olaf", "other"),
    ("Gofalwr os gwelwch yn dda", "carer"), ("claf plis", "patient"),
])
def test_a_choice_in_welsh_reads_ordinals_and_politeness(reply: str, value: str) -> None:
    chat = WelshChat(ROLE)
    chat.send(reply)
    assert chat.state.values["role"] == value


PAIRWISE = {"id": "compare", "type": "pairwise", "ideas": ["Tea", "Parking", "Quiet room"], "pairs": 2, "submissions": False}


@pytest.mark.parametrize(("reply", "picked"), [
    ("y cyntaf", "A"), ("yr ail un", "B"), ("B os gwelwch yn dda", "B"), ("A plis", "A"),
    ("methu penderfynu plis", "tie"), ("dim ots diolch", "tie"), ("can't decide thanks", "tie"), ("y ddau", "tie"),
])
def test_a_pair_in_welsh_reads_ordinals_politeness_and_undecided(reply: str, picked: str) -> None:
    chat = WelshChat(PAIRWISE)
    chat.send(reply)
    answer = next(r for r in chat.recorded if r.item)
    shown_a, shown_b = str(answer.item).split(" vs ")
    assert answer.value["tie"] is (picked == "tie")
    if picked != "tie":
        assert answer.value["winner"] == (shown_a if picked == "A" else shown_b)


STATEMENTS = {"id": "views", "type": "statements", "statements": ["More nurses at night"], "submissions": False}


@pytest.mark.parametrize(("reply", "vote"), [
    ("cytuno os gwelwch yn dda", 1), ("anghytuno diolch", -1), ("pasio plis", 0), ("pass please", 0), ("cytuno plis", 1),
])
def test_a_statement_vote_in_welsh_or_english_reads_through_politeness(reply: str, vote: int) -> None:
    chat = WelshChat(STATEMENTS)
    chat.send(reply)
    assert [r.value for r in chat.recorded if r.item] == [vote]


# ----------------------------------------------------------------------------- the readers underneath

def test_welsh_ordinals_name_the_option_they_count_to() -> None:
    four = [["Claf"], ["Gofalwr"], ["Staff"], ["Arall"]]
    readings = {reply: match_option(reply, four) for reply in
                ("y cyntaf", "yr ail", "yr ail opsiwn", "y drydedd", "y bedwaredd", "yr olaf", "4ydd", "2il")}
    assert readings == {"y cyntaf": 0, "yr ail": 1, "yr ail opsiwn": 1, "y drydedd": 2, "y bedwaredd": 3, "yr olaf": 3,
                        "4ydd": 3, "2il": 1}
    assert match_option("y pumed", four) is None


def test_un_in_a_welsh_ordinal_is_one_thing_not_the_number_one() -> None:
    assert parse_number("yr ail un") == 2
    assert parse_number("yr un olaf") is None
    assert parse_number("y trydydd plis") == 3
    assert parse_number("pump os gwelwch yn dda") == 5
    assert scale_point("yr un olaf", 1, 5) == 5 and scale_point("yr un canol", 1, 5) == 3


def test_yes_and_no_in_welsh_read_through_politeness() -> None:
    assert parse_yes_no("ydw os gwelwch yn dda") is True
    assert parse_yes_no("ie plis") is True
    assert parse_yes_no("nac ydw diolch yn fawr") is False
