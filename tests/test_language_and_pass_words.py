"""LANGUAGE in a study with one language says so kindly and asks the question again (or says
nothing is waiting); in a study with several it still asks which, and a language chosen asks
the question again in it. At a statement vote the words that say 'I can't choose' ("can't
decide", 'no idea', 'methu penderfynu': the pairwise step's own) are a pass. Through the
engine, and through the conversation service on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.built_in_texts import BUILT_IN_TEXTS
from flows.engine import Engine, Sprint, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.loader import load_study
from flows.session_state import SessionState
from flows.steps.base import Reply
from flows.steps.statements import read_vote
from storage.database import Database
from storage.tables import ANSWERS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
ROLE_EN, ROLE_CY = "Which best describes you?", "Pa un sy'n eich disgrifio orau?"
STORY_EN, STORY_CY = "What was waiting like?", "Sut brofiad oedd aros?"
FLOW: dict[str, Any] = {"flow": "talk", "steps": [
    {"id": "role", "type": "choice", "text": {"en": ROLE_EN, "cy": ROLE_CY},
     "options": [{"value": "patient", "label": {"en": "Patient", "cy": "Claf"}},
                 {"value": "carer", "label": {"en": "Carer", "cy": "Gofalwr"}},
                 {"value": "staff", "label": {"en": "Staff", "cy": "Staff"}}]},
    {"id": "story", "type": "open", "text": {"en": STORY_EN, "cy": STORY_CY}},
    {"id": "views", "type": "statements", "text": {"en": "Do you agree?", "cy": "Ydych chi'n cytuno?"},
     "statements": [{"id": "s1", "text": {"en": "Visits at a set time.", "cy": "Ymweld ar amser penodol."}},
                    {"id": "s2", "text": {"en": "Any nurse, sooner.", "cy": "Unrhyw nyrs, yn gynt."}}],
     "per_session": 2, "submissions": False},
    {"id": "bye", "type": "end", "text": {"en": "Thank you.", "cy": "Diolch."}},
]}
ONLY_EN = "Sorry, this study runs in English only."
ONLY_CY = "Mae'n ddrwg gennym, mae'r astudiaeth hon ar gael yn Gymraeg yn unig."


def a_study(folder: Path, languages: list[str], flow: dict[str, Any] = FLOW) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "talk.yaml").write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")
    study = {"study": "clinic", "title": {code: "A clinic" for code in languages}, "languages": languages,
             "join": {"start_flow": "talk", "keyword": "CLINIC"}, "flows": ["talk.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return folder


class Chat:
    """One participant talking to the engine, each reply a minute after the last."""

    def __init__(self, folder: Path, language: str | None = None) -> None:
        loaded = load_study(folder)
        self.engine = Engine(loaded.flows["talk"].flow, loaded.study, loaded.flows["talk"].version)
        self.now = NOW
        self.last: Sprint = self.engine.start(self.now, language=language)
        self.state: SessionState = self.last.state

    def send(self, text: str) -> list[str]:
        self.now += timedelta(minutes=1)
        self.last = self.engine.handle(self.state, TextInput(text), self.now)
        self.state = self.last.state
        return [event.text for event in self.last.events if isinstance(event, SendMessage)]

    def votes(self) -> list[object]:
        return [e.value for e in self.last.events if isinstance(e, RecordAnswer) and e.item is not None]


# ------------------------------------------------------------------ one language


@pytest.mark.parametrize("word", ["LANGUAGE", "/language", "language", "Language please", "language cy", "LANGUAGE pl", "iaith"])
def test_language_in_a_one_language_study_says_so_and_asks_the_question_again(tmp_path: Path, word: str) -> None:
    chat = Chat(a_study(tmp_path, ["en"]))
    assert chat.send(word) == [ONLY_EN, ROLE_EN]
    assert chat.state.step == "role" and chat.state.language == "en"
    assert not chat.state.choosing_language, "nothing to choose: the next reply is an answer"
    assert not any(isinstance(e, RecordAnswer) for e in chat.last.events)
    assert chat.send("yes") == ["Please reply Patient, Carer or Staff."], "an unclear answer, as ever"
    assert chat.send("2") == [STORY_EN] and chat.state.values["role"] == "carer"


def test_language_uses_no_try(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en"]))
    chat.send("purple")
    chat.send("purple")
    assert chat.state.tries == 2
    chat.send("LANGUAGE")
    assert chat.state.tries == 2 and chat.state.step == "role"


def test_a_welsh_only_study_says_so_in_welsh(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["cy"]))
    assert chat.state.language == "cy"
    assert chat.send("IAITH") == [ONLY_CY, ROLE_CY]
    assert chat.send("ENGLISH") == [ONLY_CY, ROLE_CY], "a built-in language the study lacks, asked for by its word"


def test_with_no_question_waiting_it_says_so(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en"]))
    for reply in ("1", "A long wait", "agree", "pass"):
        chat.send(reply)
    assert chat.state.status == "ended"
    told = chat.send("LANGUAGE")
    assert told == [BUILT_IN_TEXTS["language_only_ended"]["en"].replace("{name}", "English")]
    assert "nothing to answer now" in told[0]


def test_a_question_put_off_stays_put_off(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en"]))
    chat.send("LATER")
    assert chat.state.status == "snoozed"
    assert chat.send("LANGUAGE") == [ONLY_EN]
    assert chat.state.status == "snoozed"


def test_cymraeg_in_an_english_only_study_is_told_english_only_unless_it_answers(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en"]))
    assert chat.send("CYMRAEG") == [ONLY_EN, ROLE_EN]
    assert chat.send("Welsh please") == [ONLY_EN, ROLE_EN]
    chat.send("1")
    chat.send("Cymraeg")  # at a free-text question: the answer
    assert chat.state.values["story"] == "Cymraeg" and chat.state.step == "views"


def test_a_language_option_still_answers_in_a_one_language_study(tmp_path: Path) -> None:
    flow = {"flow": "talk", "steps": [
        {"id": "speak", "type": "choice", "text": "What do you speak at home?", "options": ["English", "Welsh", "Other"]},
        {"id": "bye", "type": "end", "text": "Thank you."},
    ]}
    chat = Chat(a_study(tmp_path, ["en"], flow))
    assert chat.send("Welsh") == ["Thank you."]
    assert chat.state.values["speak"] == "Welsh"


def test_english_in_an_english_only_study_still_switches_to_it(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en"]))
    assert chat.send("ENGLISH") == [BUILT_IN_TEXTS["language_changed"]["en"], ROLE_EN]


# ------------------------------------------------------------------ several languages


def test_language_in_a_two_language_study_still_asks_which(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en", "cy"]))
    assert chat.send("LANGUAGE") == ["Which language would you like? Reply ENGLISH or CYMRAEG."]
    assert chat.state.choosing_language
    assert chat.send("cy") == ["Byddwn yn ysgrifennu yn Gymraeg o hyn ymlaen.", ROLE_CY]
    assert chat.state.language == "cy" and chat.state.step == "role"


def test_a_language_chosen_asks_the_question_again_in_it(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en", "cy"]))
    chat.send("1")
    assert chat.send("CYMRAEG") == ["Byddwn yn ysgrifennu yn Gymraeg o hyn ymlaen.", STORY_CY]
    chat.send("Hir")
    second = chat.send("agree")  # the first statement voted on; the second shown
    assert len(second) == 1 and second[0].startswith('"')
    told = chat.send("ENGLISH")
    assert told[0] == "We'll write in English from now on."
    assert told[1] in ('"Visits at a set time."', '"Any nurse, sooner."'), "the statement on screen, in English"
    assert chat.state.step == "views" and chat.state.language == "en"


def test_a_study_language_without_a_word_is_asked_for_and_chosen(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en", "pl"]))
    assert chat.send("language") == ["Which language would you like? Reply ENGLISH or LANGUAGE PL."]
    assert chat.send("polski")[-1] == ROLE_EN, "no Polish text: the question again, as the study wrote it"
    assert chat.state.language == "pl"


# ------------------------------------------------------------------ pass words at a statement vote

PASS_WORDS = [
    "can't decide", "cant decide", "Can’t decide!", "not sure", "unsure", "no opinion", "neither", "don't know", "dunno",
    "no idea", "idk", "I can't decide", "I really can't decide", "I'm not sure", "no idea tbh", "dunno sorry",
    "cannot decide", "undecided", "methu penderfynu", "dim syniad", "ddim yn gwybod", "dwn i ddim", "ddim yn siŵr",
    "dw i ddim yn gwybod", "dim ots", "I don't mind", "pass", "P",
]


@pytest.mark.parametrize("said", PASS_WORDS)
def test_words_that_cannot_choose_are_a_pass(said: str) -> None:
    assert read_vote(Reply(said)) == 0


@pytest.mark.parametrize(("said", "vote"), [
    ("not sure I agree", None), ("neither is great", None), ("I don't know about that", None),
    ("no", -1), ("not really", -1), ("agree", 1), ("strongly agree", 1), ("yes", 1), ("purple", None),
])
def test_other_replies_are_read_as_before(said: str, vote: int | None) -> None:
    assert read_vote(Reply(said)) == vote


def test_cant_decide_passes_at_the_statement_and_shows_the_next(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, ["en"]))
    chat.send("1")
    chat.send("A long wait")
    told = chat.send("can't decide")
    assert chat.votes() == [0] and chat.state.tries == 0
    assert len(told) == 1 and "Please reply A" not in told[0]
    chat.send("no idea")
    assert chat.votes() == [0]
    assert chat.state.status == "ended" and chat.state.values["views"] == {"s1": 0, "s2": 0}


def test_pairwise_reads_the_same_words_as_a_tie_and_its_own_still(tmp_path: Path) -> None:
    flow = {"flow": "talk", "steps": [
        {"id": "ideas", "type": "pairwise", "ideas": ["Shorter waits", "Phone updates", "Parking", "Same nurse"],
         "pairs": 5, "submissions": False},
        {"id": "bye", "type": "end", "text": "Thank you."},
    ]}
    chat = Chat(a_study(tmp_path, ["en", "cy"], flow))
    for said in ("no idea", "I can't decide", "both", "methu penderfynu"):
        chat.send(said)
        assert [v["tie"] for v in chat.votes() if isinstance(v, dict)] == [True], said
    chat.send("A")
    assert [v["tie"] for v in chat.votes() if isinstance(v, dict)] == [False]


# ------------------------------------------------------------------ through the service, on a real database

Say = Callable[[str], ReceiveResult]


@pytest.fixture
def english_only(database: Database, tmp_path: Path, clock: FakeClock) -> ConversationService:
    folder = a_study(tmp_path / "clinic", ["en"])
    return ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


@pytest.fixture
def say_to(english_only: ConversationService) -> Say:
    numbers = itertools.count(1)

    def send(text: str) -> ReceiveResult:
        return english_only.receive(InboundMessage("whatsapp", "+447700900321", f"wa-{next(numbers)}", text))

    return send


def sent(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


def test_through_the_service_language_is_answered_and_a_pass_is_stored(
    english_only: ConversationService, database: Database, say_to: Say,
) -> None:
    say_to("CLINIC")
    told = sent(english_only, say_to("/language"))
    assert told[0] == ONLY_EN and told[1].startswith(ROLE_EN)
    say_to("2")
    say_to("A long wait in a cold room")
    say_to("I can't decide")
    result = say_to("dunno")
    assert sent(english_only, result) == ["Thank you."]
    with database.transaction() as connection:
        rows = connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.item, ANSWERS.c.value)
                                  .where(ANSWERS.c.step_id == "views", ANSWERS.c.item.is_not(None))).all()
    assert sorted((row[1], row[2]) for row in rows) == [("s1", 0), ("s2", 0)]
    ended = BUILT_IN_TEXTS["language_only_ended"]["en"].replace("{name}", "English")
    assert sent(english_only, say_to("LANGUAGE")) == [ended], "nothing waiting: said so"
