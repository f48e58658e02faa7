"""A participant's messages in the order they came, a voice note in its place: what they send
while a voice note of theirs is being transcribed waits for its transcript (bot/inbound.py,
bot/inbox.py, bot/voice.py, ``ConversationService.receive_transcript``). The transcriber is
stubbed: these tests are about order, not hearing (tests/test_voice_conversation.py hears)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.inbound import VOICE_HOLD
from bot.inbox import InboxWorker
from bot.service import ConversationService, ReceiveResult
from bot.voice import VoiceOutcome, VoicePipeline, VoiceSettings
from channels.base import InboundMessage, Media
from nlp.audio import AudioInput
from nlp.transcribe import Transcript, WhisperSettings
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.database import Database
from storage.tables import ANSWERS, INBOUND, OUTBOUND, PARTICIPANTS
from tests.db_fixtures import FakeClock

VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)
PHONE = "+447700900123"
Send = Callable[..., ReceiveResult]


class Scripted:
    """A stand-in transcriber: what each voice note says, by its inbox id (the spooled file's name)."""

    def __init__(self, said: Mapping[int, str]) -> None:
        self.said = said

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        return Transcript(self.said[int(Path(str(audio)).stem)], "en", 2.5, -0.1, 0.05)


async def _fetch(channel: str, media: Mapping[str, Any]) -> bytes:
    return b"OggS stand-in audio"


async def _broken_fetch(channel: str, media: Mapping[str, Any]) -> bytes:
    raise ConnectionError("the provider is down")


def pipeline(service: ConversationService, said: Mapping[int, str], audio_dir: Path, fetch: Any = _fetch) -> VoicePipeline:
    settings = WhisperSettings()
    queue = ThreadPoolTranscriptionQueue(Scripted(said), settings=settings)
    return VoicePipeline(service, queue, fetch, VoiceSettings(30.0, audio_dir), settings, turn_poll=0.02)


def transcribe(service: ConversationService, said: Mapping[int, str], audio_dir: Path, fetch: Any = _fetch) -> list[VoiceOutcome]:
    """Run the voice pipeline on these notes, one after the other, as the app would."""
    voice = pipeline(service, said, audio_dir, fetch)

    async def go() -> list[VoiceOutcome]:
        try:
            return [await voice.process(inbound_id) for inbound_id in said]
        finally:
            await voice.close()

    return asyncio.run(go())


@pytest.fixture
def send(service: ConversationService) -> Send:
    """A webhook's message on WhatsApp, stored and (where in order) processed at once, as under
    ordinary load (``accept_many(process=True)``); ``process=False`` only stores it (a backlog)."""
    counter = itertools.count(1)

    def one(text: str, media: tuple[Media, ...] = (), process: bool = True) -> ReceiveResult:
        message = InboundMessage("whatsapp", PHONE, f"SM{next(counter)}", text, media=media)
        return service.accept_many([message], process=process)[0]

    return one


def at_story(send: Send) -> str:
    """Join and answer up to the open question 'What was waiting like?'; the participant's id."""
    results = [send(reply) for reply in ("WAIT", "yes", "carer", "2")]
    assert all(result.status in ("joined", "processed") for result in results)
    assert results[0].participant_id is not None
    return results[0].participant_id


def answers(database: Database) -> dict[str, tuple[str, str]]:
    """Each step's latest answer: (raw, source)."""
    with database.transaction() as connection:
        found = connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.raw, ANSWERS.c.source).order_by(ANSWERS.c.id)).all()
    return {row[0]: (row[1], row[2]) for row in found}


def status_of(database: Database, inbound_id: int | None) -> str:
    with database.transaction() as connection:
        return str(connection.execute(select(INBOUND.c.status).where(INBOUND.c.id == inbound_id)).scalar_one())


def sent(database: Database) -> list[tuple[str, str]]:
    with database.transaction() as connection:
        return [(row[0], row[1]) for row in connection.execute(select(OUTBOUND.c.kind, OUTBOUND.c.text).order_by(OUTBOUND.c.id))]


def drain(service: ConversationService) -> None:
    async def go() -> None:
        worker = InboxWorker(service.database, service)
        try:
            await worker.drain(timeout=20)
        finally:
            await worker.stop()

    asyncio.run(go())


# ----------------------------------------------------------------------------- the tester's two cases


def test_a_number_typed_after_a_voice_note_answers_the_question_after_it(
    service: ConversationService, database: Database, send: Send, tmp_path: Path,
) -> None:
    at_story(send)
    note = send("", VOICE)
    two = send("2")
    assert (note.status, two.status) == ("awaiting_transcript", "received"), "the 2 waits for the voice note"
    drain(service)
    assert status_of(database, two.inbound_id) == "received", "the inbox worker leaves it behind the voice note"
    assert note.inbound_id is not None
    transcribe(service, {note.inbound_id: "We waited six hours with no news"}, tmp_path)

    assert answers(database)["story"] == ("We waited six hours with no news", "voice")
    assert answers(database)["informed"][0] == "2"
    assert status_of(database, two.inbound_id) == "processed"
    assert not any("Please reply with a number" in text for _, text in sent(database))


def test_delete_my_data_and_yes_sent_during_a_voice_note_erase(
    service: ConversationService, database: Database, send: Send, tmp_path: Path,
) -> None:
    at_story(send)
    note = send("", VOICE)
    assert send("DELETE MY DATA").status == "received"
    assert send("YES").status == "received"
    assert note.inbound_id is not None
    transcribe(service, {note.inbound_id: "We waited six hours with no news"}, tmp_path)

    with database.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(PARTICIPANTS)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(INBOUND)).scalar_one() == 0


# ----------------------------------------------------------------------------- in order, every way round


def test_a_message_sent_with_a_voice_note_in_one_batch_waits_for_it(
    service: ConversationService, database: Database, send: Send, tmp_path: Path,
) -> None:
    at_story(send)
    batch = [InboundMessage("whatsapp", PHONE, "SM-voice", "", media=VOICE), InboundMessage("whatsapp", PHONE, "SM-two", "2")]
    note, two = service.accept_many(batch, process=True)
    assert (note.status, two.status) == ("awaiting_transcript", "received")
    assert note.inbound_id is not None
    transcribe(service, {note.inbound_id: "Long and cold"}, tmp_path)
    assert answers(database)["story"][0] == "Long and cold" and answers(database)["informed"][0] == "2"


def test_a_typed_message_still_waiting_for_the_inbox_worker_goes_before_a_later_voice_note(
    service: ConversationService, database: Database, send: Send, tmp_path: Path,
) -> None:
    at_story(send)
    typed = send("The chairs were hard", process=False)  # a backlog: only stored
    note = send("", VOICE)
    assert typed.status == "received" and note.inbound_id is not None
    transcribe(service, {note.inbound_id: "two"}, tmp_path)
    assert answers(database)["story"] == ("The chairs were hard", "text")
    assert answers(database)["informed"] == ("two", "voice")


def test_a_second_voice_note_transcribed_first_waits_for_the_first(
    service: ConversationService, database: Database, send: Send, tmp_path: Path,
) -> None:
    at_story(send)
    first, second = send("", VOICE).inbound_id, send("", VOICE).inbound_id
    assert first is not None and second is not None
    voice = pipeline(service, {first: "Long and cold", second: "two"}, tmp_path)

    async def go() -> None:
        try:
            waiting = asyncio.create_task(voice.process(second))
            await asyncio.sleep(0.5)
            assert not waiting.done(), "the second note waits for the first"
            await voice.process(first)
            await asyncio.wait_for(waiting, 10)
        finally:
            await voice.close()

    asyncio.run(go())
    assert answers(database)["story"][0] == "Long and cold" and answers(database)["informed"][0] == "two"


# ----------------------------------------------------------------------------- never held back for good


def test_a_voice_note_that_gives_no_transcript_lets_the_next_message_through(
    service: ConversationService, database: Database, send: Send, tmp_path: Path,
) -> None:
    at_story(send)
    note = send("", VOICE)
    typed = send("The chairs were hard")
    assert note.inbound_id is not None
    [outcome] = transcribe(service, {note.inbound_id: "never heard"}, tmp_path, _broken_fetch)
    assert outcome.status == "transcription_failed"
    assert status_of(database, note.inbound_id) == "transcription_failed"
    assert status_of(database, typed.inbound_id) == "processed"
    assert answers(database)["story"] == ("The chairs were hard", "text")


def test_the_inbox_worker_takes_a_message_once_the_voice_note_before_it_is_done_or_too_old(
    service: ConversationService, database: Database, send: Send, clock: FakeClock,
) -> None:
    at_story(send)
    failed, typed = send("", VOICE), send("The chairs were hard")
    assert failed.inbound_id is not None
    service.voice_reply(failed.inbound_id, "voice.failed", status="transcription_failed")
    drain(service)
    assert status_of(database, typed.inbound_id) == "processed"

    stuck, later = send("", VOICE), send("two")  # a voice note no worker ever transcribes
    drain(service)
    assert status_of(database, later.inbound_id) == "received"
    clock.advance(VOICE_HOLD + timedelta(seconds=1))
    drain(service)
    assert status_of(database, stuck.inbound_id) == "awaiting_transcript"
    assert status_of(database, later.inbound_id) == "processed"
    assert answers(database)["informed"] == ("two", "text")


# ----------------------------------------------------------------------------- global words said aloud


def test_stop_said_in_a_voice_note_stops(service: ConversationService, database: Database, send: Send) -> None:
    pid = at_story(send)
    note = send("", VOICE)
    assert note.inbound_id is not None
    assert service.receive_transcript(note.inbound_id, "Stop.", confidence=0.9).status == "processed"
    assert "story" not in answers(database)
    assert sent(database)[-1][0] == "stopped"
    assert service.session_status(pid) == "stopped"


def test_delete_my_data_said_in_a_voice_note_asks_for_a_typed_yes(
    service: ConversationService, database: Database, send: Send,
) -> None:
    at_story(send)
    note = send("", VOICE)
    assert note.inbound_id is not None
    service.receive_transcript(note.inbound_id, "Delete my data.", confidence=0.9)
    assert sent(database)[-1][0] == "erase_confirm" and "story" not in answers(database)
    assert send("YES").status == "erased"
