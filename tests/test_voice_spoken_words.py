"""Global words said aloud: a voice note that says only one of the study's own words for STOP or
DELETE MY DATA (``words:`` in study.yaml), in any of its languages, is honoured as if typed
(``ConversationService.receive_transcript``). Spoken by espeak-ng, heard by the packaged
tiny.en through the real voice pipeline (bot/voice.py). tiny.en hears English only: Welsh
words are checked on the transcripts a multilingual model (CHORUS_WHISPER_MODEL) hands over."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from bot.voice import VoiceOutcome, VoicePipeline, VoiceSettings
from channels.base import InboundMessage, Media
from flows.words import BUILT_IN_TEXTS
from nlp.transcribe import WhisperSettings, WhisperTranscriber, shared_transcriber
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.database import Database
from storage.tables import ANSWERS, PARTICIPANTS
from tests import voice_helpers
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

PHONE = "+447700900789"
VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)
STUDY = """\
study: spoken
title: {en: Spoken words, cy: Geiriau llafar}
languages: [en, cy]
join:
  start_flow: talk
  keyword: TALK
words:
  stop:
    en: [leave me alone]
    cy: [gadewch lonydd i mi]
  erase:
    en: [wipe my answers]
    cy: [dilewch fy atebion]
"""
FLOW = """\
flow: talk
steps:
  - id: story
    type: open
    text: {en: What happened?, cy: Beth ddigwyddodd?}
  - id: more
    type: open
    text: {en: Anything else?, cy: Unrhyw beth arall?}
  - id: bye
    type: end
    text: {en: Thank you., cy: Diolch.}
"""


@pytest.fixture
def database_kind() -> str:
    """SQLite only: what is said aloud, not where it is stored, is under test."""
    return "sqlite"


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], bytes]:
    folder = tmp_path_factory.mktemp("spoken")
    made: dict[str, bytes] = {}

    def speak(text: str) -> bytes:
        if text not in made:
            made[text] = voice_helpers.speak(text, folder / f"{len(made)}.ogg").read_bytes()
        return made[text]

    return speak


@pytest.fixture
def service(database: Database, clock: FakeClock, tmp_path: Path) -> ConversationService:
    folder = tmp_path / "studies" / "spoken"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "talk.yaml").write_text(FLOW, encoding="utf-8")
    return ConversationService(database, StudyRegistry.from_folder(folder.parent), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


@pytest.fixture
def send(service: ConversationService) -> Callable[..., ReceiveResult]:
    counter = itertools.count(1)

    def one(text: str, media: tuple[Media, ...] = ()) -> ReceiveResult:
        return service.accept_many([InboundMessage("whatsapp", PHONE, f"SM{next(counter)}", text, media=media)], process=True)[0]

    return one


def say_aloud(service: ConversationService, send: Callable[..., ReceiveResult], audio: bytes, folder: Path) -> VoiceOutcome:
    """Send a voice note saying ``audio`` and run it through the pipeline with the real model."""
    note = send("", VOICE)
    assert note.status == "awaiting_transcript" and note.inbound_id is not None

    async def fetch(channel: str, media: Mapping[str, Any]) -> bytes:
        return audio

    async def go(inbound_id: int) -> VoiceOutcome:
        settings = WhisperSettings()
        voice = VoicePipeline(service, ThreadPoolTranscriptionQueue(shared_transcriber(settings), settings=settings), fetch,
                              VoiceSettings(30.0, folder), settings)
        try:
            return await voice.process(inbound_id)
        finally:
            await voice.close()

    return asyncio.run(go(note.inbound_id))


def kinds_and_texts(service: ConversationService, participant_id: str) -> list[tuple[str, str]]:
    return [(row.kind, row.text) for row in service.outbox_for(participant_id)]


def answered(database: Database) -> list[str]:
    with database.transaction() as connection:
        return list(connection.execute(select(ANSWERS.c.step_id).where(ANSWERS.c.skipped.is_(False))).scalars())


def test_the_studys_own_stop_words_said_in_a_voice_note_stop(
    service: ConversationService, database: Database, send: Callable[..., ReceiveResult], spoken: Callable[[str], bytes],
    whisper: WhisperTranscriber, tmp_path: Path,
) -> None:
    joined = send("TALK")
    assert joined.status == "joined" and joined.participant_id is not None
    outcome = say_aloud(service, send, spoken("Leave me alone, please"), tmp_path)
    assert outcome.status == "processed"
    assert service.session_status(joined.participant_id) == "stopped"
    assert kinds_and_texts(service, joined.participant_id)[-1] == ("stopped", BUILT_IN_TEXTS["stopped"]["en"])
    assert answered(database) == [], "the words were not taken as the answer to 'What happened?'"


def test_a_welsh_speaker_who_says_the_studys_stop_words_is_told_in_welsh(
    service: ConversationService, send: Callable[..., ReceiveResult], spoken: Callable[[str], bytes], tmp_path: Path,
) -> None:
    joined = service.join("whatsapp", PHONE, "spoken", language="cy")
    assert joined.participant_id is not None
    assert kinds_and_texts(service, joined.participant_id)[-1][1] == "Beth ddigwyddodd?"
    say_aloud(service, send, spoken("Leave me alone"), tmp_path)
    assert service.session_status(joined.participant_id) == "stopped"
    assert kinds_and_texts(service, joined.participant_id)[-1] == ("stopped", BUILT_IN_TEXTS["stopped"]["cy"])


def test_the_studys_own_words_for_delete_my_data_said_aloud_ask_for_a_typed_yes(
    service: ConversationService, database: Database, send: Callable[..., ReceiveResult], spoken: Callable[[str], bytes],
    tmp_path: Path,
) -> None:
    joined = send("TALK")
    assert joined.participant_id is not None
    say_aloud(service, send, spoken("Wipe my answers"), tmp_path)
    assert kinds_and_texts(service, joined.participant_id)[-1][0] == "erase_confirm"
    assert send("YES").status == "erased"
    with database.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(PARTICIPANTS)).scalar_one() == 0


def test_a_sentence_that_holds_the_stop_words_is_an_answer(
    service: ConversationService, database: Database, send: Callable[..., ReceiveResult], spoken: Callable[[str], bytes],
    tmp_path: Path,
) -> None:
    joined = send("TALK")
    assert joined.participant_id is not None
    say_aloud(service, send, spoken("Leave me alone with my thoughts"), tmp_path)
    assert service.session_status(joined.participant_id) != "stopped"
    assert answered(database) == ["story"]


@pytest.mark.parametrize("heard", ["Stopio, os gwelwch yn dda.", "Gadewch lonydd i mi.", "Leave me alone!"])
def test_stop_words_in_any_of_the_studys_languages_stop_a_welsh_speaker(
    service: ConversationService, send: Callable[..., ReceiveResult], heard: str,
) -> None:
    joined = service.join("whatsapp", PHONE, "spoken", language="cy")
    assert joined.participant_id is not None
    note = send("", VOICE)
    assert note.inbound_id is not None
    service.receive_transcript(note.inbound_id, heard, confidence=0.9)
    assert service.session_status(joined.participant_id) == "stopped"
    assert kinds_and_texts(service, joined.participant_id)[-1] == ("stopped", BUILT_IN_TEXTS["stopped"]["cy"])


def test_the_studys_welsh_words_for_delete_my_data_in_a_transcript_ask_for_a_typed_yes(
    service: ConversationService, send: Callable[..., ReceiveResult],
) -> None:
    joined = service.join("whatsapp", PHONE, "spoken", language="cy")
    assert joined.participant_id is not None
    note = send("", VOICE)
    assert note.inbound_id is not None
    service.receive_transcript(note.inbound_id, "Dilewch fy atebion.", confidence=0.9)
    assert kinds_and_texts(service, joined.participant_id)[-1] == ("erase_confirm", BUILT_IN_TEXTS["erase_confirm"]["cy"])
