"""A participant erased (``chorus erase``, the API, retention) while their voice note is being
fetched or transcribed. Erasure deletes the audio files there are at that moment; the pipeline
must not then write a kept copy of the note that nothing will ever delete (the transcript rows
that point at kept audio are gone with the participant, so neither audio retention nor another
erasure can find it), and an erasure is no error: no ERROR log with a traceback, no reply tried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage, Media
from nlp.audio import AudioInput
from nlp.transcribe import Transcript
from storage.database import Database
from storage.tables import ANSWERS, INBOUND, TRANSCRIPTS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.test_voice_conversation import run_pipeline

VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)
STUDY = """
study: voice-test
title: Voice test
languages: [en]
join: {start_flow: talk, keyword: TALK}
flows: [talk.yaml]
retention: {audio: keep}
"""
FLOW = """
flow: talk
steps:
  - id: story
    type: open
    text: Tell us more. Type, or send a voice note.
  - id: thanks
    type: message
    text: Thank you.
"""


@pytest.fixture
def database_kind() -> str:
    return "sqlite"


class ErasingFetcher:
    """The channel's download: the participant is erased while it runs, then the bytes arrive."""

    def __init__(self, service: ConversationService, participant_id: str) -> None:
        self.service, self.participant_id = service, participant_id

    async def __call__(self, channel: str, media: Mapping[str, Any]) -> bytes:
        await asyncio.to_thread(self.service.erase, self.participant_id, "test", "coordinator")
        return b"OggS-kept-bytes"


class ErasingTranscriber:
    """A transcriber during whose work the participant is erased."""

    def __init__(self, service: ConversationService, participant_id: str) -> None:
        self.service, self.participant_id = service, participant_id

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        self.service.erase(self.participant_id, "test", "coordinator")
        return Transcript("My name is Gwenllian and I waited all night", "en", 2.5, -0.2, 0.05)


class Canned:
    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        return Transcript("It was a long night", "en", 2.5, -0.2, 0.05)


async def _bytes(channel: str, media: Mapping[str, Any]) -> bytes:
    return b"OggS-kept-bytes"


def _service(database: Database, folder: Path) -> ConversationService:
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "talk.yaml").write_text(FLOW, encoding="utf-8")
    return ConversationService(database, StudyRegistry.from_folder(folder), FakeClock(), address_key=TEST_ADDRESS_KEY)


def _note(service: ConversationService) -> tuple[str, int]:
    joined = service.receive(InboundMessage("whatsapp", "+447700900555", "m1", "TALK"))
    note = service.receive(InboundMessage("whatsapp", "+447700900555", "m2", "", media=VOICE))
    assert joined.participant_id is not None and note.inbound_id is not None
    return joined.participant_id, note.inbound_id


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _left(database: Database) -> list[Any]:
    with database.transaction() as connection:
        return [*connection.execute(select(INBOUND.c.id)).all(), *connection.execute(select(TRANSCRIPTS.c.id)).all(),
                *connection.execute(select(ANSWERS.c.id)).all()]


def test_a_note_kept_for_a_study_is_not_written_after_its_sender_was_erased_during_the_download(
        database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    audio = tmp_path / "audio"
    monkeypatch.setenv("CHORUS_VOICE_AUDIO_DIR", str(audio))
    service = _service(database, tmp_path / "study")
    participant_id, inbound_id = _note(service)
    with caplog.at_level(logging.INFO, logger="chorus"):
        outcome = run_pipeline(service, Canned(), ErasingFetcher(service, participant_id), audio, inbound_id)
    assert outcome.status == "erased"
    assert _files(audio) == [], "a kept voice note of an erased participant"
    assert _left(database) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_note_whose_sender_is_erased_while_it_is_transcribed_is_dropped_quietly(
        database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    audio = tmp_path / "audio"
    monkeypatch.setenv("CHORUS_VOICE_AUDIO_DIR", str(audio))
    service = _service(database, tmp_path / "study")
    participant_id, inbound_id = _note(service)
    with caplog.at_level(logging.INFO, logger="chorus"):
        outcome = run_pipeline(service, ErasingTranscriber(service, participant_id), _bytes, audio, inbound_id)
    assert outcome.status == "erased"
    assert _files(audio) == [] and _left(database) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all("Gwenllian" not in r.getMessage() for r in caplog.records)
