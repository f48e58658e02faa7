"""A participant corrects the answer they just gave ('sorry i meant 4', 'oops 4 not 3',
'sori, 4 o'n i'n feddwl') or asks for BACK in a sentence ('go back i made a mistake', 'can I
go back?', 'NOL'): the question before is changed or asked again, never the next question
answered with the correction. Through the engine, and once through the service on a database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import AnswersWithdrawn, RecordAnswer, SetField
from flows.loader import load_study
from flows.words import Words
from storage.database import Database
from storage.tables import ANSWERS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

NOW = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)
VISIT = """
flow: visit
steps:
  - id: role
    type: choice
    text: {en: Which best describes you?, cy: Pa un sy'n eich disgrifio orau?}
    options:
      - {value: patient, label: {en: Patient, cy: Claf}}
      - {value: carer, label: {en: Carer, cy: Gofalwr}}
    save_to: participant.group
  - id: visits
    type: number
    text: {en: How many times have you been to A&E this year?, cy: Sawl gwaith ydych chi wedi bod eleni?}
    min: 0
    max: 100
  - id: story
    type: open
    text: {en: What was waiting like?, cy: Sut brofiad oedd aros?}
  - id: informed
    type: scale
    text: {en: How well were you kept informed?, cy: Pa mor dda y cawsoch wybod?}
    labels:
      - {en: Very poorly, cy: Gwael iawn}
      - {en: Poorly, cy: Gwael}
      - {en: Neither, cy: Niwtral}
      - {en: Well, cy: Da}
      - {en: Very well, cy: Da iawn}
  - id: thanks
    type: end
    text: {en: Thank you., cy: Diolch.}
"""
ROLE, VISITS, STORY = "Which best describes you?", "How many times have you been to A&E this year?", "What was waiting like?"


def write_study(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "visit.yaml").write_text(VISIT, encoding="utf-8")
    study = {"study": "corrections", "title": {"en": "Waiting", "cy": "Aros"}, "languages": ["en", "cy"],
             "groups": ["patient", "carer"], "join": {"start_flow": "visit", "keyword": "VISIT"}, "flows": ["visit.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    loaded = load_study(write_study(tmp_path_factory.mktemp("corrections") / "study"))
    return Engine(loaded.flows["visit"].flow, loaded.study, loaded.flows["visit"].version)


class Chat:
    def __init__(self, engine: Engine, language: str = "en") -> None:
        self.engine = engine
        self.state: SessionState = engine.start(NOW, language=language).state

    def send(self, *texts: str) -> Sprint:
        sprint = None
        for text in texts:
            sprint = self.engine.handle(self.state, TextInput(text), NOW)
            self.state = sprint.state
        assert sprint is not None
        return sprint


def texts(sprint: Sprint) -> list[str]:
    return [message.text for message in sprint.messages()]


def recorded(sprint: Sprint) -> list[tuple[str, object]]:
    return [(e.step_id, e.value) for e in sprint.events if isinstance(e, RecordAnswer)]


def withdrawn(sprint: Sprint) -> list[tuple[str, ...]]:
    return [e.step_ids for e in sprint.events if isinstance(e, AnswersWithdrawn)]


# ----------------------------------------------------------------------------- corrections


@pytest.mark.parametrize("correction", [
    "sorry i meant 4", "I meant 4", "oops 4 not 3", "correction: 4", "meant to say 4", "Sorry, I meant 4, not 3.",
    "i meant 4 sorry", "sori, 4 o'n i'n feddwl", "o’n i’n golygu 4",
])
def test_a_correction_on_the_open_question_changes_the_number_before_it(engine: Engine, correction: str) -> None:
    chat = Chat(engine)
    chat.send("2", "3")
    sprint = chat.send(correction)
    assert withdrawn(sprint) == [("visits", "story")]
    assert recorded(sprint) == [("visits", 4)], "the corrected answer goes to the question it corrects"
    assert texts(sprint) == ["Changed your answer to 4.", STORY]
    assert chat.state.step == "story" and chat.state.values["visits"] == 4 and "story" not in chat.state.values
    again = chat.send("Long wait. My dad was confused and scared.")
    assert recorded(again) == [("story", "Long wait. My dad was confused and scared.")]


def test_the_corrected_answer_is_recorded_where_the_old_one_was_so_only_the_old_one_is_withdrawn(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("2", "3")
    sprint = chat.send("sorry i meant 4")
    gone = next(e for e in sprint.events if isinstance(e, AnswersWithdrawn))
    answer = next(e for e in sprint.events if isinstance(e, RecordAnswer))
    assert gone.from_position == answer.path_position == 2
    assert answer.raw == "sorry i meant 4", "what they sent is kept as the raw reply"


def test_the_participant_is_told_in_welsh(engine: Engine) -> None:
    chat = Chat(engine, language="cy")
    chat.send("2", "3")
    assert texts(chat.send("sori, 4 o'n i'n feddwl")) == ["Wedi newid eich ateb i 4.", "Sut brofiad oedd aros?"]


def test_a_corrected_choice_changes_the_field_it_saves_to(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("2")
    assert chat.state.fields["group"] == "carer"
    sprint = chat.send("sorry i meant patient")
    assert texts(sprint) == ["Changed your answer to Patient.", VISITS]
    assert SetField("group", "patient") in sprint.events and chat.state.fields["group"] == "patient"


@pytest.mark.parametrize("answer", ["I meant to say the nurses were kind", "I meant 400", "sorry I meant what I said about the chairs"])
def test_on_a_free_text_question_a_sentence_the_question_before_cannot_take_is_the_answer(engine: Engine, answer: str) -> None:
    chat = Chat(engine)
    chat.send("2", "3")
    sprint = chat.send(answer)
    assert withdrawn(sprint) == []
    assert recorded(sprint) == [("story", answer)]
    assert chat.state.values["visits"] == 3


def test_a_correction_the_question_before_cannot_take_asks_that_question_again(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("2")
    sprint = chat.send("sorry i meant 7")  # there is no option 7: 'Which best describes you?' again
    assert withdrawn(sprint) == [("role", "visits")]
    assert recorded(sprint) == []
    assert texts(sprint)[0].startswith(ROLE) and chat.state.step == "role"


def test_after_an_unclear_reply_a_correction_answers_the_question_being_asked(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("2")
    assert texts(chat.send("444")) == ["Please reply with a number from 0 to 100."]
    sprint = chat.send("sorry I meant 44")
    assert withdrawn(sprint) == [], "the role stands: the 444 was the mistake"
    assert recorded(sprint) == [("visits", 44)]
    assert texts(sprint) == [STORY]


def test_after_back_a_correction_answers_the_question_asked_again(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("2", "3", "go back")
    assert chat.state.step == "visits"
    sprint = chat.send("sorry i meant 4")
    assert withdrawn(sprint) == [] and recorded(sprint) == [("visits", 4)]
    assert chat.state.fields["group"] == "carer"


def test_a_correction_at_the_first_question_is_read_as_a_reply_to_it(engine: Engine) -> None:
    chat = Chat(engine)
    sprint = chat.send("sorry i meant 2")
    assert withdrawn(sprint) == []
    assert not any(text.startswith("Changed your answer") for text in texts(sprint))


# ----------------------------------------------------------------------------- BACK in a sentence


@pytest.mark.parametrize("said", [
    "go back", "go back i made a mistake", "Go back, I made a mistake.", "can I go back?", "back please",
    "previous question", "back to the previous question", "sorry, go back", "nôl", "NOL", "nol plis", "yn ôl", "yn ol",
    "mynd yn ôl",
])
def test_back_said_in_a_sentence_asks_the_question_before_again(engine: Engine, said: str) -> None:
    assert Words(engine.study).command(said) == "back"
    chat = Chat(engine)
    chat.send("2", "3")
    sprint = chat.send(said)
    assert withdrawn(sprint) == [("visits", "story")]
    assert recorded(sprint) == []
    assert texts(sprint) == [VISITS]


@pytest.mark.parametrize("said", ["go back to Cardiff", "my back hurts", "back pain from the chairs", "we went back twice"])
def test_a_sentence_that_only_mentions_back_is_an_answer(engine: Engine, said: str) -> None:
    assert Words(engine.study).command(said) is None
    chat = Chat(engine)
    chat.send("2", "3")
    sprint = chat.send(said)
    assert recorded(sprint) == [("story", said)]


# ----------------------------------------------------------------------------- through the service


def test_over_sms_the_corrected_answer_is_stored_on_its_question_and_the_old_one_withdrawn(
    database: Database, clock: FakeClock, tmp_path: Path,
) -> None:
    studies = StudyRegistry.from_folder(write_study(tmp_path / "studies" / "corrections").parent)
    service = ConversationService(database, studies, clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    ids = itertools.count(1)
    for text in ("VISIT", "2", "3", "sorry i meant 4", "Long wait. My dad was confused and scared.", "Very poorly"):
        service.receive(InboundMessage("sms", "+447700900105", f"SM{next(ids)}", text))
    with database.read_transaction() as connection:
        rows = connection.execute(
            select(ANSWERS.c.step_id, ANSWERS.c.raw, ANSWERS.c.value, ANSWERS.c.withdrawn_at).order_by(ANSWERS.c.id)).all()
    standing = [(step, raw, value) for step, raw, value, gone in rows if gone is None]
    assert standing == [
        ("role", "2", "carer"), ("visits", "sorry i meant 4", 4),
        ("story", "Long wait. My dad was confused and scared.", "Long wait. My dad was confused and scared."),
        ("informed", "Very poorly", 1),
    ]
    assert [(step, raw) for step, raw, _, gone in rows if gone is not None] == [("visits", "3")]
    pid = service.participant_for("sms", "+447700900105")
    assert pid is not None
    sent = [message.text.splitlines()[0] for message in service.outbox_for(pid)]
    assert sent[sent.index("Changed your answer to 4."):][:2] == ["Changed your answer to 4.", STORY]
