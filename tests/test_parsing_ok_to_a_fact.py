"""A bare 'ok' to a yes/no question of what has happened ('Have you had your flu jab?', 'Gawsoch chi
weld nyrs?') says the message was read, not that the jab was had: asked again for YES or NO, using
the step's hint, never stored as a YES. To a question that asks something of the participant ('Can we
message you in 4 weeks?', 'Have you got a minute?', 'Did you want a call back?') it is still a YES,
as README says; and 'yes ok', 'ok yes', 👍 and a tapped Yes are a YES everywhere."""

from __future__ import annotations

import pytest

from flows.built_in_texts import BUILT_IN_TEXTS
from flows.engine import TextInput
from flows.events import RecordAnswer
from flows.parsing import asks_a_fact, only_assents
from tests.engine_chat import NOW, RecordingChat

FACTS = [
    "Have you had your flu jab?", "Thanks! Have you had your flu jab this year?", "Did you see a nurse?",
    "Were you told why you were waiting?", "Has anyone explained your medicines to you?", "*Have you* had a fall this year?",
    "Ydych chi wedi cael eich brechiad ffliw?", "Gawsoch chi weld nyrs?", "Wnaethoch chi aros mwy na 4 awr?",
]
REQUESTS = [
    "Can we message you in 4 weeks?", "Have you got a minute to answer 3 questions?", "Did you want a call back?",
    "Would you like a call?", "Is it ok to call you?", "Allwn ni eich ffonio?", "Do you agree?", "Shall we start?",
]


@pytest.mark.parametrize("question", FACTS)
def test_a_question_of_what_has_happened_is_told_apart(question: str) -> None:
    assert asks_a_fact(question)


@pytest.mark.parametrize("question", REQUESTS)
def test_a_question_that_asks_something_of_the_participant_is_no_question_of_fact(question: str) -> None:
    assert not asks_a_fact(question)


@pytest.mark.parametrize(("reply", "assents"), [
    ("ok", True), ("OK thanks", True), ("okay!", True), ("fine", True), ("go ahead", True), ("iawn", True),
    ("yes ok", False), ("ok yes", False), ("👍", False), ("yes", False), ("ok I have", False),
])
def test_only_an_ok_is_only_an_assent(reply: str, assents: bool) -> None:
    assert only_assents(reply) is assents


def yesno(en: str, cy: str) -> dict[str, object]:
    return {"id": "q", "type": "yesno", "text": {"en": en, "cy": cy}}


FLU = yesno("Have you had your flu jab this year?", "Ydych chi wedi cael eich brechiad ffliw eleni?")
CALL = yesno("Can we message you in 4 weeks?", "Allwn ni anfon neges atoch mewn 4 wythnos?")


@pytest.mark.parametrize(("language", "reply"), [("en", "ok"), ("en", "okay thanks"), ("cy", "iawn")])
def test_an_ok_to_a_question_of_fact_is_asked_again_then_answered(language: str, reply: str) -> None:
    chat = RecordingChat(FLU, language=language)
    said = chat.send(reply)
    assert chat.recorded == [] and said == [BUILT_IN_TEXTS["hint_yesno"][language]]
    chat.send("no" if language == "en" else "nac ydw")
    assert [answer.value for answer in chat.recorded] == ["no"]


@pytest.mark.parametrize("reply", ["yes ok", "ok yes", "👍", "yes"])
def test_a_yes_to_a_question_of_fact_is_still_a_yes(reply: str) -> None:
    chat = RecordingChat(FLU)
    chat.send(reply)
    assert [answer.value for answer in chat.recorded] == ["yes"]


def test_a_tapped_yes_is_a_yes() -> None:
    chat = RecordingChat(FLU)
    sprint = chat.engine.handle(chat.state, TextInput("OK", button="yes"), NOW)
    assert [e.value for e in sprint.events if isinstance(e, RecordAnswer)] == ["yes"]


@pytest.mark.parametrize("reply", ["ok", "fine", "go ahead"])
def test_an_ok_to_a_request_is_still_a_yes(reply: str) -> None:
    chat = RecordingChat(CALL)
    chat.send(reply)
    assert [answer.value for answer in chat.recorded] == ["yes"]
