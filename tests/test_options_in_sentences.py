"""Options named inside a short sentence (flows/parsing.py ``_named_in_sentence``): 'im a
pateint', 'Im a carer for my wife' pick the one option they name, never one the sentence
negates ('not a patient') or uses to describe something else ('my family doctor'); a labelled
scale reads its label with hedges ('pretty poor tbh'); a two-option question's hint says words work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer, SetField
from flows.model import Flow
from flows.parsing import match_option

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)
AE_ROLES = [["patient", "Patient", "Claf"], ["carer", "Carer or family", "Gofalwr neu deulu"], ["staff", "Staff"]]
CLINIC_ROLES = [["patient", "Patient or carer"], ["staff", "Staff"]]
ROLE = {"id": "role", "type": "choice", "text": "Are you a patient or staff?", "save_to": "participant.group",
        "options": [{"value": "patient", "label": {"en": "Patient or carer", "cy": "Claf neu ofalwr"}},
                    {"value": "staff", "label": {"en": "Staff", "cy": "Staff"}}]}
INFORMED = {"id": "informed", "type": "scale", "text": "How well were you kept informed while waiting?",
            "labels": ["Very poorly", "Poorly", "Neither", "Well", "Very well"]}


class Chat:
    def __init__(self, *steps: dict[str, Any], language: str = "en") -> None:
        flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [*steps, {"id": "bye", "type": "end", "text": "Bye."}]})
        self.engine = Engine(flow)
        self.state: SessionState = self.engine.start(NOW, language=language).state
        self.events: list[Any] = []

    def send(self, text: str) -> list[str]:
        sprint = self.engine.handle(self.state, TextInput(text), NOW)
        self.state = sprint.state
        self.events += sprint.events
        return [m.text for m in sprint.messages()]

    def answers(self) -> list[Any]:
        return [e.value for e in self.events if isinstance(e, RecordAnswer) and not e.skipped]


@pytest.mark.parametrize(("options", "reply", "index"), [
    (AE_ROLES, "im a pateint", 0), (AE_ROLES, "Im a carer for my wife", 1), (CLINIC_ROLES, "Im a carer for my wife", 0),
    (CLINIC_ROLES, "im a pateint", 0), (CLINIC_ROLES, "I'm staff here", 1), (CLINIC_ROLES, "i work as staff", 1),
    (AE_ROLES, "I'm her carer", 1), (CLINIC_ROLES, "my wife is the patient and im her carer", 0),
])
def test_an_option_named_once_in_a_short_sentence_is_read(options: list[list[str]], reply: str, index: int) -> None:
    assert match_option(reply, options) == index


@pytest.mark.parametrize(("options", "reply"), [
    (AE_ROLES, "not a patient"), (AE_ROLES, "I'm not a carer"), (AE_ROLES, "im not staff"), (CLINIC_ROLES, "I am not a patient"),
    (AE_ROLES, "my family doctor"), (AE_ROLES, "I'm a patient's carer"), (CLINIC_ROLES, "I'm a carer but also staff"),
    (CLINIC_ROLES, "my wife has been really unwell for years now and I look after her as her carer"),
    (AE_ROLES, "I never was a patient"),
])
def test_a_negated_described_doubled_or_long_naming_reads_no_option(options: list[list[str]], reply: str) -> None:
    assert match_option(reply, options) is None


def test_a_role_typed_in_a_sentence_is_stored_and_sets_the_group() -> None:
    chat = Chat(ROLE)
    chat.send("Im a carer for my wife")
    assert chat.answers() == ["patient"]
    assert [(e.name, e.value) for e in chat.events if isinstance(e, SetField)] == [("group", "patient")]
    assert chat.state.step == "bye"


def test_a_negated_role_is_asked_again_with_a_hint_that_words_work() -> None:
    chat = Chat(ROLE)
    assert chat.send("not a patient") == ["Please reply 1 or 2 (or the words)."]
    assert chat.answers() == [] and chat.state.step == "role"


def test_the_two_option_hint_in_welsh_and_three_options_as_before() -> None:
    assert Chat(ROLE, language="cy").send("dim syniad") == ["Atebwch 1 neu 2 (neu'r geiriau)."]
    three = {**ROLE, "options": ["Patient", "Carer or family", "Staff"]}  # numbered on SMS
    assert Chat(three).send("dunno") == ["Please reply with a number from 1 to 3."]


@pytest.mark.parametrize(("reply", "point"), [
    ("pretty poor tbh", 2), ("poor", 2), ("Poorly", 2), ("very poor", 1), ("fairly well", 4), ("well tbh", 4),
    ("honestly, very poorly", 1),
])
def test_a_scale_label_is_read_with_hedges_and_as_an_adjective(reply: str, point: int) -> None:
    chat = Chat(INFORMED)
    chat.send(reply)
    assert chat.answers() == [point]


@pytest.mark.parametrize("reply", ["not very well", "really poor", "not poorly", "poor or well"])
def test_a_negated_or_strengthened_label_is_asked_again(reply: str) -> None:
    chat = Chat(INFORMED)
    assert chat.send(reply) == ["Please reply with a number from 1 to 5, or words such as 'Very poorly' or 'Very well'."]
    assert chat.answers() == []
