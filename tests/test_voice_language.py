"""The transcriber is told the participant's language (nlp/transcribe.py, bot/voice.py), and an
English-only model does not pretend to hear another: a Welsh speaker's voice note is not taken
as an answer made of English words that sound a little like Welsh; they are asked, in Welsh, to
type instead, and the coordinator is told why. The packaged tiny.en on notes spoken by espeak-ng
(its Welsh and English voices) and encoded by ffmpeg, through the real voice pipeline."""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from bot.voice import UNHEARD, VoiceOutcome, VoicePipeline, VoiceSettings
from channels.base import Media
from flows.words import BUILT_IN_TEXTS
from nlp.transcribe import (
    WhisperSettings,
    WhisperTranscriber,
    shared_transcriber,
    whisper_language,
)
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.database import Database
from storage.tables import ANSWERS, FLAGS, INBOUND, TRANSCRIPTS
from tests import voice_helpers
from tests.voice_helpers import Listening

VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)
WELSH_STORY = "Roedd yr ystafell aros yn oer a doedd neb yn dweud dim wrthon ni"
"""'The waiting room was cold and nobody told us anything', in Welsh."""
Say = Callable[..., ReceiveResult]


@pytest.fixture
def database_kind() -> str:
    """SQLite only: what the model hears, not where it is stored, is under test."""
    return "sqlite"


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


@pytest.fixture(scope="module")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """An OGG/Opus voice note of ``text`` in espeak-ng's ``voice`` ('cy' Welsh, 'en-gb'), made once."""
    folder = tmp_path_factory.mktemp("language-notes")
    made: dict[tuple[str, str], Path] = {}

    def note(text: str, voice: str) -> Path:
        if (text, voice) not in made:
            wav = folder / f"{len(made)}.wav"
            subprocess.run([voice_helpers.ESPEAK, "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
            made[(text, voice)] = voice_helpers.encode(wav, wav.with_suffix(".ogg"), "ogg")
        return made[(text, voice)]

    return note


def run_pipeline(service: ConversationService, transcriber: Any, audio: bytes, folder: Path, inbound_id: int) -> VoiceOutcome:
    async def fetch(channel: str, media: Mapping[str, Any]) -> bytes:
        return audio

    settings = WhisperSettings()
    pipeline = VoicePipeline(service, ThreadPoolTranscriptionQueue(transcriber, settings=settings), fetch,
                             VoiceSettings(30.0, folder), settings)

    async def go() -> VoiceOutcome:
        try:
            return await pipeline.process(inbound_id)
        finally:
            await pipeline.close()

    return asyncio.run(go())


def rows(database: Database, table: Any, *where: Any) -> list[Any]:
    with database.transaction() as connection:
        return list(connection.execute(select(table).where(*where).order_by(table.c.id)).all())


def at_story(say: Say, welsh: bool) -> None:
    """Join the example study (in Welsh if asked) and answer up to 'What was waiting like?'."""
    say("WAIT")
    if welsh:
        say("CYMRAEG")
    for reply in ("yes", "patient", "2"):
        say(reply)


# ----------------------------------------------------------------------------- the transcriber


@pytest.mark.parametrize(("given", "code"), [("cy", "cy"), ("en-GB", "en"), ("PT_br", "pt"), ("CY", "cy"), ("gd", None),
                                             ("xx", None), ("", None), (None, None)])
def test_a_participants_language_is_named_as_whisper_names_it(given: str | None, code: str | None) -> None:
    assert whisper_language(given) == code


def test_the_packaged_model_hears_english_only(whisper: WhisperTranscriber) -> None:
    assert whisper.multilingual is False
    assert whisper.hears("en") and whisper.hears("en-GB") and whisper.hears(None)
    assert not whisper.hears("cy") and not whisper.hears("pl") and not whisper.hears("gd")


def test_welsh_speech_to_the_english_only_model_is_marked_not_heard(
    whisper: WhisperTranscriber, speak: Callable[[str, str], Path], caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="faster_whisper"):
        heard = whisper.transcribe(speak(WELSH_STORY, "cy"), language="cy")
    assert heard.unheard_language == "cy" and heard.low_confidence
    assert heard.to_dict()["unheard_language"] == "cy" and heard.to_dict()["low_confidence"] is True
    assert "English-only" not in caplog.text, "no language it cannot hear is forced on the model"


def test_english_speech_in_english_is_heard_as_before(whisper: WhisperTranscriber, speak: Callable[[str, str], Path]) -> None:
    note = speak(voice_helpers.PHRASES["waiting"], "en-gb")
    told = whisper.transcribe(note, language="en")
    assert told.unheard_language is None and "waiting room was cold" in told.text.lower()
    assert told.text == whisper.transcribe(note).text


def test_a_multilingual_model_is_given_the_participants_language(
    speak: Callable[[str, str], Path], caplog: pytest.LogCaptureFixture,
) -> None:
    """No multilingual weights can be had here: tiny.en, told it is multilingual, shows that the
    language reaches faster-whisper's ``language=`` (which logs that it falls back to English)."""

    class SaysMultilingual(WhisperTranscriber):
        @property
        def multilingual(self) -> bool:
            return True

    transcriber = SaysMultilingual(WhisperSettings())
    assert transcriber.hears("cy") and not transcriber.hears("gd")
    with caplog.at_level(logging.WARNING, logger="faster_whisper"):
        heard = transcriber.transcribe(speak("pedwar", "cy"), language="cy")
    assert "language parameter is set to 'cy'" in caplog.text
    assert heard.unheard_language is None


# ----------------------------------------------------------------------------- in the conversation


def test_a_welsh_speakers_voice_note_asks_them_in_welsh_to_type_and_tells_the_coordinator(
    service: ConversationService, database: Database, say: Say, whisper: WhisperTranscriber,
    speak: Callable[[str, str], Path], tmp_path: Path,
) -> None:
    at_story(say, welsh=True)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    listening = Listening(whisper)
    outcome = run_pipeline(service, listening, speak(WELSH_STORY, "cy").read_bytes(), tmp_path / "audio", note.inbound_id)

    assert listening.languages == ["cy"], "the transcriber was told the participant's language"
    assert (outcome.status, outcome.failure) == ("transcription_failed", UNHEARD)
    assert service.outbox_for(str(note.participant_id))[-1].text == BUILT_IN_TEXTS["voice.language_unsupported"]["cy"]
    assert rows(database, ANSWERS, ANSWERS.c.step_id == "story") == [], "no English words made up from Welsh speech"
    assert service.session_status(str(note.participant_id)) == "waiting", "the question is still open"
    flag = rows(database, FLAGS, FLAGS.c.kind == "voice_failed")
    assert len(flag) == 1 and flag[0].step_id == "story" and flag[0].study_id == "ae-waiting"
    assert UNHEARD in flag[0].message and "'cy'" in flag[0].message and "tiny.en" in flag[0].message
    inbound = rows(database, INBOUND, INBOUND.c.id == note.inbound_id)[0]
    assert inbound.status == "transcription_failed" and inbound.error.startswith(f"{UNHEARD}: ")
    transcript = rows(database, TRANSCRIPTS)[0]
    assert (transcript.status, transcript.error_kind, transcript.low_confidence, transcript.answer_id) == ("failed", UNHEARD, True, None)


def test_an_english_speakers_voice_note_is_heard_in_english_and_answers(
    service: ConversationService, database: Database, say: Say, whisper: WhisperTranscriber,
    speak: Callable[[str, str], Path], tmp_path: Path,
) -> None:
    at_story(say, welsh=False)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    listening = Listening(whisper)
    audio = speak(voice_helpers.PHRASES["waiting"], "en-gb").read_bytes()
    outcome = run_pipeline(service, listening, audio, tmp_path / "audio", note.inbound_id)
    assert listening.languages == ["en"]
    assert outcome.status == "processed"
    answer = rows(database, ANSWERS, ANSWERS.c.step_id == "story")[0]
    assert answer.source == "voice" and "waiting room was cold" in answer.value.lower()
    assert rows(database, FLAGS, FLAGS.c.kind == "voice_failed") == []


def test_a_welsh_speaker_who_says_stop_in_english_is_still_stopped(
    service: ConversationService, say: Say, whisper: WhisperTranscriber, speak: Callable[[str, str], Path], tmp_path: Path,
) -> None:
    """A STOP is never lost: the English-only model's words are still read for STOP and DELETE MY DATA."""
    at_story(say, welsh=True)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    outcome = run_pipeline(service, whisper, speak("Stop", "en-gb").read_bytes(), tmp_path / "audio", note.inbound_id)
    assert outcome.status == "processed"
    assert service.session_status(str(note.participant_id)) == "stopped"
    assert service.outbox_for(str(note.participant_id))[-1].text == BUILT_IN_TEXTS["stopped"]["cy"]
