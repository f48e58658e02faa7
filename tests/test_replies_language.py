"""Choosing a language after LANGUAGE asked which: the reply names one by its code or its name
('cy', 'Welsh', 'polski'), in any case, for whatever languages the study declares; at any other
time the same reply answers the question. Through the conversation service, on SQLite and
PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS, PARTICIPANTS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

Say = Callable[..., ReceiveResult]
STORY_EN = "What was waiting like?"  # by SMS: no voice note offered (tests/test_sms_voice_hint.py)
STORY_CY = "Sut brofiad oedd aros?"
ASKED = "Which language would you like? Reply ENGLISH or CYMRAEG."


def texts(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


def answers(database: Database, participant_id: str) -> list[tuple[str, object]]:
    with database.transaction() as connection:
        query = select(ANSWERS.c.step_id, ANSWERS.c.value).where(ANSWERS.c.participant_id == participant_id).order_by(ANSWERS.c.id)
        return [(row[0], row[1]) for row in connection.execute(query)]


def languages(database: Database) -> tuple[str | None, str]:
    """The participant's language (None until they choose one) and their enrolment's."""
    with database.transaction() as connection:
        return (connection.execute(select(PARTICIPANTS.c.language)).scalar_one(),
                connection.execute(select(ENROLMENTS.c.language)).scalar_one())


def at_the_story(say: Say) -> str:
    """A participant at the open question (where any words are an answer)."""
    pid = say("WAIT").participant_id
    for reply in ("yes", "1", "3"):
        say(reply)
    assert pid is not None
    return pid


@pytest.mark.parametrize("reply", ["cy", "CY", "Cy.", "Cymraeg", "welsh", "Welsh please", "in Welsh", "gymraeg"])
def test_after_language_a_code_or_name_chooses_the_language_and_answers_nothing(
    service: ConversationService, database: Database, say: Say, reply: str,
) -> None:
    pid = at_the_story(say)
    assert texts(service, say("LANGUAGE")) == [ASKED]
    chosen = say(reply)
    assert texts(service, chosen) == ["Byddwn yn ysgrifennu yn Gymraeg o hyn ymlaen.", STORY_CY]
    assert languages(database) == ("cy", "cy")
    assert [step for step, _ in answers(database, pid)] == ["consent", "role", "visits"], "the open question was not answered"


def test_english_is_chosen_back_by_its_code(service: ConversationService, database: Database, say: Say) -> None:
    at_the_story(say)
    say("CYMRAEG")
    assert texts(service, say("language")) == ["Pa iaith hoffech chi? Atebwch ENGLISH neu CYMRAEG."]
    assert texts(service, say("en")) == ["We'll write in English from now on.", STORY_EN]
    assert languages(database) == ("en", "en")


def test_a_language_code_without_language_asked_is_an_answer(service: ConversationService, database: Database, say: Say) -> None:
    pid = at_the_story(say)
    say("cy")
    assert answers(database, pid)[-1] == ("story", "cy")
    assert languages(database) == (None, "en"), "never chosen"


def test_only_the_reply_right_after_the_question_may_choose(service: ConversationService, database: Database, say: Say) -> None:
    pid = at_the_story(say)
    say("LANGUAGE")
    say("A long wait in a cold room")  # no language named: the answer to the question asked before
    assert answers(database, pid)[-1] == ("story", "A long wait in a cold room")
    assert languages(database) == (None, "en")


def test_a_language_the_study_lacks_gets_the_choices_again_and_the_next_reply_may_still_choose(
    service: ConversationService, database: Database, say: Say,
) -> None:
    pid = at_the_story(say)
    say("LANGUAGE")
    assert texts(service, say("Polish")) == ["Sorry, that language is not available. Reply ENGLISH or CYMRAEG."]
    assert texts(service, say("cy"))[-1] == STORY_CY
    assert languages(database) == ("cy", "cy")
    assert answers(database, pid)[-1][0] == "visits"


POLISH_STUDY = {
    "study": "clinic", "title": {"en": "A clinic", "pl": "Przychodnia"}, "languages": ["en", "pl"],
    "join": {"start_flow": "talk", "keyword": "CLINIC"}, "flows": ["talk.yaml"],
    "texts": {"language_changed": {"en": "We'll write in English from now on.", "pl": "Od teraz będziemy pisać po polsku."}},
}
TALK = {"flow": "talk", "steps": [
    {"id": "story", "type": "open", "text": {"en": "What was waiting like?", "pl": "Jak wyglądało czekanie?"}},
    {"id": "bye", "type": "end", "text": {"en": "Thank you.", "pl": "Dziękujemy."}},
]}


@pytest.fixture
def polish(database: Database, tmp_path: Path, clock: FakeClock) -> ConversationService:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "study.yaml").write_text(yaml.safe_dump(POLISH_STUDY, allow_unicode=True), encoding="utf-8")
    (folder / "talk.yaml").write_text(yaml.safe_dump(TALK, allow_unicode=True), encoding="utf-8")
    return ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


@pytest.fixture
def say_polish(polish: ConversationService) -> Say:
    numbers = itertools.count(1)

    def send(text: str) -> ReceiveResult:
        return polish.receive(InboundMessage("whatsapp", "+447700900123", f"wa-{next(numbers)}", text))

    return send


@pytest.mark.parametrize("reply", ["pl", "PL", "polski", "Polish", "in Polish please"])
def test_a_declared_language_without_words_of_its_own_is_chosen_by_code_or_name(
    polish: ConversationService, database: Database, say_polish: Say, reply: str,
) -> None:
    say_polish("CLINIC")
    assert texts(polish, say_polish("language")) == ["Which language would you like? Reply ENGLISH or LANGUAGE PL."]
    assert texts(polish, say_polish(reply)) == ["Od teraz będziemy pisać po polsku.", "Jak wyglądało czekanie?"]
    assert languages(database) == ("pl", "pl")


def test_a_built_in_language_the_study_lacks_is_not_chosen(polish: ConversationService, database: Database, say_polish: Say) -> None:
    say_polish("CLINIC")
    say_polish("LANGUAGE")
    assert texts(polish, say_polish("Welsh")) == ["Sorry, that language is not available. Reply ENGLISH or LANGUAGE PL."]
    assert texts(polish, say_polish("cy")) == ["Thank you."], "a code of no language of the study is an answer"
    assert languages(database) == (None, "en")
