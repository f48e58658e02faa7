"""Voice notes inside the conversation: the pipeline (bot/voice.py) with the real packaged
model on generated speech, the engine reading answers back ("I heard: ... Is that right?"),
failures, the acknowledgement, the transcript rows and what happens to the audio."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from bot.voice import Fetch, VoiceOutcome, VoicePipeline, VoiceSettings
from channels.base import InboundMessage, Media
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.loader import load_study
from flows.model import Flow
from flows.words import BUILT_IN_TEXTS
from nlp.audio import AudioInput
from nlp.transcribe import Transcript, WhisperSettings, WhisperTranscriber, shared_transcriber
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.database import Database
from storage.tables import ANSWERS, FLAGS, INBOUND, TRANSCRIPTS
from tests import voice_helpers
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
EXAMPLE_STUDY = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)
Say = Callable[..., ReceiveResult]


@pytest.fixture
def database_kind() -> str:
    """SQLite only here (the transcript rows are also checked on PostgreSQL below): the model is the slow part."""
    return "sqlite"


# ----------------------------------------------------------------------------- voice notes and transcribers


class Notes:
    """Generated voice notes (espeak-ng, then OGG/Opus at 48 kHz mono), made once per module."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: dict[str, bytes] = {}

    def speak(self, text: str, voice: str = "en-gb") -> bytes:
        key = f"{voice}:{text}"
        if key not in self._made:
            wav = self.folder / f"{len(self._made)}.wav"
            subprocess.run([voice_helpers.ESPEAK, "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
            self._made[key] = voice_helpers.encode(wav, wav.with_suffix(".ogg"), "ogg").read_bytes()
        return self._made[key]

    def silence(self) -> bytes:
        if "silence" not in self._made:
            self._made["silence"] = voice_helpers.silence(self.folder / "silence.ogg").read_bytes()
        return self._made["silence"]


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Notes:
    return Notes(tmp_path_factory.mktemp("notes"))


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    """The process's one real transcriber (packaged tiny.en), shared with the other voice tests."""
    return shared_transcriber(WhisperSettings())


class Watching:
    """Wraps a transcriber: notes whether the audio file existed while it was transcribed,
    and can be made slow (to see the acknowledgement) without touching the model."""

    def __init__(self, inner: Any, delay: float = 0.0) -> None:
        self.inner, self.delay = inner, delay
        self.seen: list[tuple[str, bool]] = []

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        self.seen.append((str(audio), Path(str(audio)).exists()))
        time.sleep(self.delay)
        return self.inner.transcribe(audio, language=language)


class Canned:
    """A stand-in transcriber for tests about plumbing rather than hearing."""

    def __init__(self, text: str = "It was a long night", avg_logprob: float = -0.2) -> None:
        self.text, self.avg_logprob = text, avg_logprob

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        return Transcript(self.text, "en", 2.5, self.avg_logprob, 0.05)


class Fetcher:
    """The channel's download function: serves one note, or fails as a provider would."""

    def __init__(self, audio: bytes = b"", error: Exception | None = None) -> None:
        self.audio, self.error = audio, error
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, channel: str, media: Mapping[str, Any]) -> bytes:
        self.calls.append((channel, str(media.get("url"))))
        if self.error is not None:
            raise self.error
        return self.audio


def run_pipeline(
    service: ConversationService, transcriber: Any, fetch: Fetch, audio_dir: Path, inbound_id: int,
    ack: float = 30.0, whisper_settings: WhisperSettings | None = None,
) -> VoiceOutcome:
    settings = whisper_settings or WhisperSettings()
    queue = ThreadPoolTranscriptionQueue(transcriber, settings=settings)
    pipeline = VoicePipeline(service, queue, fetch, VoiceSettings(ack, audio_dir), settings)

    async def go() -> VoiceOutcome:
        try:
            return await pipeline.process(inbound_id)
        finally:
            await pipeline.close()

    return asyncio.run(go())


# ----------------------------------------------------------------------------- reading the database


def texts(service: ConversationService, participant_id: str | None) -> list[str]:
    assert participant_id is not None
    return [entry.text for entry in service.outbox_for(participant_id)]


def rows(database: Database, table: Any, *where: Any) -> list[Any]:
    with database.transaction() as connection:
        return list(connection.execute(select(table).where(*where).order_by(table.c.id)).all())


def at_story(say: Say) -> None:
    """Join the example study and answer up to the open question 'What was waiting like?'."""
    for reply in ("WAIT", "yes", "patient", "2"):
        say(reply)


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# ----------------------------------------------------------------------------- an open answer by voice


def test_an_open_answer_by_voice_is_stored_with_its_transcript_and_the_audio_is_deleted(
    service: ConversationService, database: Database, say: Say, notes: Notes, whisper: WhisperTranscriber, tmp_path: Path,
) -> None:
    at_story(say)
    spoken = voice_helpers.PHRASES["waiting"]
    audio = notes.speak(spoken)
    note = say("", media=VOICE)
    assert note.status == "awaiting_transcript" and note.inbound_id is not None
    watching = Watching(whisper)
    outcome = run_pipeline(service, watching, Fetcher(audio), tmp_path / "audio", note.inbound_id)

    assert outcome.status == "processed" and not outcome.acknowledged
    answer = rows(database, ANSWERS, ANSWERS.c.step_id == "story")[0]
    assert answer.source == "voice" and answer.value == answer.raw and answer.inbound_id == note.inbound_id
    assert "waiting room was cold" in answer.value.lower()
    transcript = rows(database, TRANSCRIPTS)[0]
    assert (transcript.inbound_id, transcript.answer_id, transcript.step_id, transcript.status) == (note.inbound_id, answer.id, "story", "heard")
    assert transcript.text == answer.value and transcript.language == "en" and transcript.model == "tiny.en (packaged)"
    assert 2.0 < transcript.duration < 6.0 and transcript.avg_logprob < 0 and 0 <= transcript.no_speech_prob <= 1
    assert transcript.confidence == pytest.approx(2.718281828 ** transcript.avg_logprob, abs=1e-3)
    assert transcript.audio_bytes == len(audio) and transcript.audio_path is None and transcript.seconds > 0
    assert rows(database, INBOUND, INBOUND.c.id == note.inbound_id)[0].status == "processed"
    assert texts(service, note.participant_id)[-1].startswith("How well were you kept informed")
    # The audio was on disk while it was transcribed, and is gone now.
    assert watching.seen and watching.seen[0][1], "the transcriber read a spooled file"
    assert not Path(watching.seen[0][0]).exists() and files_in(tmp_path / "audio") == []


def test_a_yes_by_voice_gets_an_acknowledgement_when_transcription_is_slow(
    service: ConversationService, database: Database, say: Say, notes: Notes, whisper: WhisperTranscriber, tmp_path: Path,
) -> None:
    joined = say("WAIT")
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    slow = Watching(whisper, delay=0.3)
    outcome = run_pipeline(service, slow, Fetcher(notes.speak("yes please")), tmp_path / "audio", note.inbound_id, ack=0.05)
    assert outcome.acknowledged and outcome.status == "processed"
    said = texts(service, joined.participant_id)
    assert said[-2] == BUILT_IN_TEXTS["voice_listening"]["en"]
    assert said[-1] == "Which best describes you?"
    consent = rows(database, ANSWERS, ANSWERS.c.step_id == "consent")[0]
    assert (consent.value, consent.source) == ("yes", "voice")


def test_a_quick_transcription_is_not_acknowledged(service: ConversationService, say: Say, tmp_path: Path) -> None:
    at_story(say)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    outcome = run_pipeline(service, Canned(), Fetcher(b"OggS-canned"), tmp_path / "audio", note.inbound_id, ack=30.0)
    assert outcome.status == "processed" and not outcome.acknowledged
    assert BUILT_IN_TEXTS["voice_listening"]["en"] not in texts(service, note.participant_id)


# ----------------------------------------------------------------------------- failures


FAILURES: dict[str, dict[str, Any]] = {
    "corrupt": {"audio": b"OggS\x00this is not really a voice note"},
    "silence": {"audio": "silence"},
    "too_large": {"audio": b"never fetched", "size": 17 * 1024 * 1024},
    "too_long": {"audio": "speech", "settings": WhisperSettings(max_seconds=1.0)},
    "download_failed": {"error": RuntimeError("404 Not Found for url https://media.example.org/note.ogg")},
}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_a_voice_note_that_gives_no_answer_gets_a_kind_reply_and_a_flag(
    kind: str, service: ConversationService, database: Database, say: Say, notes: Notes, whisper: WhisperTranscriber, tmp_path: Path,
) -> None:
    case = FAILURES[kind]
    at_story(say)
    media = (Media(VOICE[0].url, "audio/ogg", case.get("size")),)
    note = say("", media=media)
    assert note.inbound_id is not None
    given = case.get("audio", b"")
    audio = notes.silence() if given == "silence" else notes.speak(voice_helpers.PHRASES["waiting"]) if given == "speech" else given
    fetch = Fetcher(audio, case.get("error"))
    settings = case.get("settings")
    transcriber = WhisperTranscriber(settings) if settings else whisper
    outcome = run_pipeline(service, transcriber, fetch, tmp_path / "audio", note.inbound_id, whisper_settings=settings)

    assert (outcome.status, outcome.failure) == ("transcription_failed", kind)
    assert texts(service, note.participant_id)[-1] == BUILT_IN_TEXTS[f"voice.{kind}"]["en"]
    inbound = rows(database, INBOUND, INBOUND.c.id == note.inbound_id)[0]
    assert inbound.status == "transcription_failed" and inbound.error.startswith(f"{kind}: ")
    assert inbound.media[0]["url"] == VOICE[0].url, "the raw inbound message stays stored"
    flag = rows(database, FLAGS, FLAGS.c.kind == "voice_failed")
    assert len(flag) == 1 and kind in flag[0].message and flag[0].step_id == "story"
    assert flag[0].participant_id == note.participant_id and flag[0].study_id == "ae-waiting"
    assert rows(database, ANSWERS, ANSWERS.c.step_id == "story") == []
    failed = rows(database, TRANSCRIPTS)[0]
    assert (failed.status, failed.error_kind, failed.answer_id, failed.text) == ("failed", kind, None, "")
    assert service.session_status(str(note.participant_id)) == "waiting", "the question is still open"
    assert files_in(tmp_path / "audio") == []
    assert (fetch.calls == []) == (kind == "too_large"), "a note the channel says is too big is never fetched"


def test_the_failure_reply_is_in_the_participants_language(service: ConversationService, say: Say, tmp_path: Path) -> None:
    at_story(say)
    say("CYMRAEG")
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    run_pipeline(service, Canned(), Fetcher(error=TimeoutError()), tmp_path / "audio", note.inbound_id)
    assert texts(service, note.participant_id)[-1] == BUILT_IN_TEXTS["voice.download_failed"]["cy"]


# ----------------------------------------------------------------------------- a small study of our own

STUDY = """
study: voice-test
title: Voice test
languages: [en]
join: {start_flow: talk, keyword: TALK}
flows: [talk.yaml]
"""
FLOW = """
flow: talk
steps:
  - id: postcode
    type: open
    text: Please type the first half of your postcode.
    accept: [text]
  - id: story
    type: open
    text: Tell us more. Type, or send a voice note.
  - id: thanks
    type: message
    text: Thank you.
"""


def small_study(folder: Path, retention: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY + retention, encoding="utf-8")
    (folder / "talk.yaml").write_text(FLOW, encoding="utf-8")
    return folder


def our_service(database: Database, folder: Path) -> ConversationService:
    return ConversationService(database, StudyRegistry.from_folder(folder), FakeClock(), address_key=TEST_ADDRESS_KEY)


def send(service: ConversationService, text: str, provider_id: str, **extra: Any) -> ReceiveResult:
    return service.receive(InboundMessage("whatsapp", "+447700900555", provider_id, text, **extra))


def test_a_question_that_wants_typing_says_so_without_fetching_the_note(database: Database, tmp_path: Path) -> None:
    service = our_service(database, small_study(tmp_path / "study"))
    send(service, "TALK", "m1")
    note = send(service, "", "m2", media=VOICE)
    assert note.inbound_id is not None
    fetch = Fetcher(b"OggS")
    outcome = run_pipeline(service, Canned(), fetch, tmp_path / "audio", note.inbound_id)
    assert outcome.status == "voice_not_accepted" and fetch.calls == []
    assert texts(service, note.participant_id)[-1] == BUILT_IN_TEXTS["voice.not_accepted"]["en"]
    assert rows(database, INBOUND, INBOUND.c.id == note.inbound_id)[0].status == "voice_not_accepted"
    assert rows(database, FLAGS) == [] and rows(database, ANSWERS) == []


def test_a_voice_note_from_someone_in_no_study_is_neither_fetched_nor_kept(
    service: ConversationService, database: Database, tmp_path: Path,
) -> None:
    note = send(service, "", "m1", media=VOICE)  # the first thing this stranger sends
    assert note.inbound_id is not None and note.status == "awaiting_transcript"
    fetch = Fetcher(b"OggS")
    outcome = run_pipeline(service, Canned(), fetch, tmp_path / "audio", note.inbound_id)
    assert outcome.status == "not_enrolled" and fetch.calls == []
    assert texts(service, note.participant_id) == ["Hello. To take part in Waiting in A&E, reply WAIT."]
    assert rows(database, INBOUND, INBOUND.c.id == note.inbound_id)[0].status == "not_enrolled"
    assert rows(database, TRANSCRIPTS) == [] and rows(database, FLAGS) == [] and files_in(tmp_path / "audio") == []


def test_a_study_that_keeps_audio_keeps_the_file_and_says_where(database: Database, tmp_path: Path) -> None:
    service = our_service(database, small_study(tmp_path / "study", "retention: {audio: keep}\n"))
    send(service, "TALK", "m1")
    send(service, "CF10", "m2")
    note = send(service, "", "m3", media=VOICE)
    assert note.inbound_id is not None
    outcome = run_pipeline(service, Canned(), Fetcher(b"OggS-kept-bytes"), tmp_path / "audio", note.inbound_id)
    kept = tmp_path / "audio" / "kept" / "voice-test" / f"{note.inbound_id}.ogg"
    assert outcome.audio_path == str(kept) and kept.read_bytes() == b"OggS-kept-bytes"
    assert kept.stat().st_mode & 0o077 == 0, "only the service's user may read a kept voice note"
    for folder in (tmp_path / "audio", kept.parent.parent, kept.parent):  # nor list them, nor the studies that keep them
        assert folder.stat().st_mode & 0o077 == 0, f"{folder} is open to other users"
    assert rows(database, TRANSCRIPTS)[0].audio_path == str(kept)
    assert texts(service, note.participant_id)[-1] == "Thank you."


def test_a_voice_note_is_claimed_once_even_if_started_twice(service: ConversationService, say: Say, tmp_path: Path) -> None:
    at_story(say)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    first = run_pipeline(service, Canned(), Fetcher(b"OggS"), tmp_path / "a", note.inbound_id)
    again = run_pipeline(service, Canned(), Fetcher(b"OggS"), tmp_path / "b", note.inbound_id)
    assert (first.status, again.status) == ("processed", "skipped")


# ----------------------------------------------------------------------------- reading an answer back (engine)


@pytest.fixture(scope="module")
def understand() -> Engine:
    loaded = load_study(EXAMPLE_STUDY / "study.yaml")
    return Engine(loaded.flows["understand"].flow, loaded.study, loaded.flows["understand"].version)


def at_role(engine: Engine) -> Any:
    return engine.handle(engine.start(NOW).state, TextInput("yes"), NOW).state


def test_a_low_confidence_voice_answer_is_read_back_and_yes_counts_it(understand: Engine) -> None:
    sprint = understand.handle(at_role(understand), TextInput("The second one.", source="voice", confidence=0.3), NOW)
    asked = sprint.messages()[-1]
    assert asked.text == 'I heard: "The second one", so your answer is Carer or family. Is that right? Reply YES or NO.'
    assert [b.value for b in asked.buttons] == ["yes", "no"]
    assert not [e for e in sprint.events if isinstance(e, RecordAnswer)] and sprint.state.step == "role"
    confirmed = understand.handle(sprint.state, TextInput("yes", button="yes", source="button"), NOW)
    answer = [e for e in confirmed.events if isinstance(e, RecordAnswer)][0]
    assert (answer.value, answer.source, answer.raw) == ("carer", "voice", "The second one.")
    assert confirmed.state.step == "visits" and confirmed.state.heard is None


def test_no_asks_again_and_a_typed_answer_replaces_what_was_heard(understand: Engine) -> None:
    heard = understand.handle(at_role(understand), TextInput("The third one.", source="voice", confidence=0.2), NOW).state
    refused = understand.handle(heard, TextInput("no"), NOW)
    assert [m.text for m in refused.messages()] == [BUILT_IN_TEXTS["voice_try_again"]["en"], "Which best describes you?"]
    assert not [e for e in refused.events if isinstance(e, RecordAnswer)] and refused.state.heard is None
    again = understand.handle(refused.state, TextInput("The third one.", source="voice", confidence=0.2), NOW).state
    typed = understand.handle(again, TextInput("1"), NOW)
    answer = [e for e in typed.events if isinstance(e, RecordAnswer)][0]
    assert (answer.value, answer.source) == ("patient", "text") and typed.state.step == "visits"


def test_a_confident_voice_answer_counts_at_once_and_an_unclear_one_says_what_was_heard(understand: Engine) -> None:
    state = at_role(understand)
    sure = understand.handle(state, TextInput("The second one.", source="voice", confidence=0.8), NOW)
    assert [e.value for e in sure.events if isinstance(e, RecordAnswer)] == ["carer"]
    unclear = understand.handle(state, TextInput("Sandbird.", source="voice", confidence=0.8), NOW)
    assert unclear.messages()[0].text.startswith('I heard: "Sandbird". Please reply with a number from 1 to 3')


def open_engine(confirm: str) -> Engine:
    flow = Flow.model_validate({"flow": "f", "steps": [
        {"id": "story", "type": "open", "text": "Tell us.", "confirm": confirm},
        {"id": "bye", "type": "end", "text": "Bye."},
    ]})
    return Engine(flow)


@pytest.mark.parametrize(("confirm", "confidence", "read_back"), [
    ("always", 0.95, True), ("low_confidence", 0.95, False), ("low_confidence", 0.2, True), ("never", 0.1, False),
])
def test_an_open_step_reads_voice_back_as_its_confirm_setting_says(confirm: str, confidence: float, read_back: bool) -> None:
    engine = open_engine(confirm)
    sprint = engine.handle(engine.start(NOW).state, TextInput("We waited {{ six }} hours", source="voice", confidence=confidence), NOW)
    first = sprint.messages()[0]
    assert first.text.startswith("I heard:") == read_back
    if read_back:
        assert first.text == 'I heard: "We waited (( six )) hours". Is that right? Reply YES or NO.', "no template marks echoed"
        done = engine.handle(sprint.state, TextInput("Yes"), NOW)
        assert [e.value for e in done.events if isinstance(e, RecordAnswer)] == ["We waited {{ six }} hours"]
    else:
        assert [e.source for e in sprint.events if isinstance(e, RecordAnswer)] == ["voice"]


@pytest.mark.parametrize("database_kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_confirmed_answer_is_linked_to_the_transcript_it_came_from(service: ConversationService, database: Database, say: Say) -> None:
    for reply in ("WAIT", "yes"):
        say(reply)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    record = {"status": "heard", "text": "The second one.", "language": "en", "confidence": 0.3, "low_confidence": True, "model": "test"}
    service.receive_transcript(note.inbound_id, "The second one.", 0.3, record)
    assert texts(service, note.participant_id)[-1].startswith('I heard: "The second one"')
    assert rows(database, TRANSCRIPTS)[0].answer_id is None, "not an answer until confirmed"
    yes = say("yes")
    answer = rows(database, ANSWERS, ANSWERS.c.step_id == "role")[0]
    assert (answer.value, answer.source, answer.inbound_id) == ("carer", "voice", yes.inbound_id)
    transcript = rows(database, TRANSCRIPTS)[0]
    assert (transcript.answer_id, transcript.inbound_id, transcript.step_id) == (answer.id, note.inbound_id, "role")


def test_the_read_back_is_sent_as_a_question() -> None:
    """The read-back is a question (kind prompt) so WhatsApp templates and the dispatcher treat it as one."""
    engine = open_engine("always")
    sprint = engine.handle(engine.start(NOW).state, TextInput("Fine", source="voice", confidence=0.9), NOW)
    assert [m.kind for m in sprint.events if isinstance(m, SendMessage)] == ["prompt"]

