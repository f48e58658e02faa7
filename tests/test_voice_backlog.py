"""Voice notes left waiting are never left in silence however old (bot/voice.py,
``VoicePipeline.recover``): it looks back to the first note, cheaply (by status, on the
``ix_inbound_status`` index); one that waited less than ``TOO_OLD`` is transcribed, and an older
one is recorded as skipped, with a flag that tells the coordinator why. On SQLite and
PostgreSQL; the recent note is heard by the packaged tiny.en."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.service import ConversationService, ReceiveResult
from bot.voice import TOO_OLD, VoicePipeline, VoiceSettings
from channels.base import InboundMessage, Media
from nlp.transcribe import WhisperSettings, WhisperTranscriber, shared_transcriber
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.database import Database
from storage.tables import ANSWERS, FLAGS, INBOUND
from tests import voice_helpers
from tests.db_fixtures import FakeClock

VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)
Send = Callable[..., ReceiveResult]


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


@pytest.fixture(scope="module")
def second_one(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return voice_helpers.speak("The second one", tmp_path_factory.mktemp("backlog") / "second.ogg").read_bytes()


@pytest.fixture
def send(service: ConversationService) -> Send:
    counter = itertools.count(1)

    def one(text: str, media: tuple[Media, ...] = (), phone: str = "+447700900111") -> ReceiveResult:
        message = InboundMessage("whatsapp", phone, f"SM{next(counter)}", text, media=media)
        return service.accept_many([message], process=True)[0]

    return one


def recover(service: ConversationService, whisper: WhisperTranscriber, audio: bytes, folder: Path) -> list[int]:
    async def fetch(channel: str, media: Mapping[str, Any]) -> bytes:
        return audio

    settings = WhisperSettings()
    voice = VoicePipeline(service, ThreadPoolTranscriptionQueue(whisper, settings=settings), fetch, VoiceSettings(30.0, folder),
                          settings, turn_poll=0.02)

    async def go() -> list[int]:
        try:
            return await voice.recover()
        finally:
            await voice.close()

    return asyncio.run(go())


def inbound(database: Database, inbound_id: int | None) -> Any:
    with database.transaction() as connection:
        return connection.execute(select(INBOUND.c.status, INBOUND.c.error).where(INBOUND.c.id == inbound_id)).one()


def flags(database: Database, kind: str) -> list[Any]:
    with database.transaction() as connection:
        return list(connection.execute(select(FLAGS).where(FLAGS.c.kind == kind)).all())


def a_voice_note_at_the_role_question(send: Send, phone: str) -> ReceiveResult:
    assert send("WAIT", phone=phone).status == "joined" and send("YES", phone=phone).status == "processed"
    note = send("", VOICE, phone=phone)
    assert note.status == "awaiting_transcript" and note.inbound_id is not None
    return note


def test_a_note_older_than_a_day_is_recorded_as_skipped_and_a_newer_one_transcribed(
    service: ConversationService, database: Database, send: Send, clock: FakeClock, whisper: WhisperTranscriber,
    second_one: bytes, tmp_path: Path,
) -> None:
    old = a_voice_note_at_the_role_question(send, "+447700900111")
    clock.advance(TOO_OLD)
    recent = a_voice_note_at_the_role_question(send, "+447700900222")
    clock.advance(timedelta(days=2))  # the server was down over a weekend: 3 days and 2 days
    assert recover(service, whisper, second_one, tmp_path) == [], "both older than a day"
    old_status, old_error = inbound(database, old.inbound_id)
    assert old_status == "voice_skipped" and old_error.startswith("too_old: waited more than 24 hours")
    assert inbound(database, recent.inbound_id)[0] == "voice_skipped"
    skipped = flags(database, "voice_skipped")
    assert {flag.participant_id for flag in skipped} == {old.participant_id, recent.participant_id}
    assert all(flag.study_id == "ae-waiting" and flag.step_id == "role" for flag in skipped)
    assert f"voice note {old.inbound_id} was not transcribed" in next(f.message for f in skipped if f.participant_id == old.participant_id)

    assert recover(service, whisper, second_one, tmp_path) == []
    assert len(flags(database, "voice_skipped")) == 2, "recorded once, not again at every look"

    fresh = a_voice_note_at_the_role_question(send, "+447700900333")
    clock.advance(TOO_OLD - timedelta(hours=1))
    assert recover(service, whisper, second_one, tmp_path) == [fresh.inbound_id]
    assert inbound(database, fresh.inbound_id)[0] == "processed"
    with database.transaction() as connection:
        roles = connection.execute(select(ANSWERS.c.participant_id, ANSWERS.c.value).where(ANSWERS.c.step_id == "role")).all()
    assert [tuple(row) for row in roles] == [(fresh.participant_id, "carer")], "only the note young enough answered"


@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_the_look_back_finds_waiting_notes_by_status_not_by_reading_every_message(
    service: ConversationService, database: Database, send: Send, whisper: WhisperTranscriber, second_one: bytes, tmp_path: Path,
) -> None:
    """However far back it looks, SQLite's plan for the backlog query uses the status index."""
    a_voice_note_at_the_role_question(send, "+447700900111")
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().startswith("SELECT inbound_messages.id") and "inbound_messages.received_at >=" in statement:
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        recover(service, whisper, second_one, tmp_path)
    finally:
        event.remove(database.engine, "before_cursor_execute", note)
    assert seen, "the backlog query ran"
    with database.engine.connect() as connection:
        for statement, parameters in seen:
            plan = " | ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "SEARCH inbound_messages USING INDEX ix_inbound_status" in plan and "SCAN inbound_messages" not in plan, plan
