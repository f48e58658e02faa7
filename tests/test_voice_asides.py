"""A story said in a voice note at a question that takes no free text is kept as a comment, as a
typed one is (flows/asides.py): source ``voice``, its transcript row pointing at it, and the
export saying how sure the recogniser was. One heard with low confidence is read back first
("I heard: ... Is that right?") and kept only on YES, as a doubtful voice answer is."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.export import export_study
from bot.service import ConversationService
from flows.engine import TextInput
from flows.events import RecordAnswer, RecordComment
from flows.words import BUILT_IN_TEXTS
from nlp.transcribe import WhisperSettings, WhisperTranscriber, shared_transcriber
from storage.database import Database
from storage.tables import ANSWERS, COMMENTS, TRANSCRIPTS
from tests.engine_chat import Chat
from tests.test_voice_conversation import VOICE, Fetcher, Notes, Say, rows, run_pipeline, texts

STORY = "well the nurse was lovely but we waited six hours and my dad was in pain the whole time"
CHOICE = {"id": "role", "type": "choice", "text": "Who are you?", "options": ["Patient", "Carer", "NHS staff"]}
SCALE = {"id": "rate", "type": "scale", "text": "How was it?", "min": 1, "max": 5}
END = {"id": "end", "type": "end", "text": "Bye"}
NOTED = BUILT_IN_TEXTS["aside_noted"]["en"]
NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def database_kind() -> str:
    """SQLite unless said (the linking is also checked on PostgreSQL below)."""
    return "sqlite"


def spoken(chat: Chat, text: str, confidence: float) -> list[str]:
    sprint = chat.engine.handle(chat.state, TextInput(text, source="voice", confidence=confidence), NOW)
    chat.state, chat.last = sprint.state, sprint
    return [m.text for m in sprint.messages()]


def kept(chat: Chat) -> list[RecordComment]:
    return [e for e in chat.last.events if isinstance(e, RecordComment)]


# ----------------------------------------------------------------------------- the engine, fed a transcript


@pytest.mark.parametrize("step", [CHOICE, SCALE], ids=["choice", "scale"])
def test_a_story_said_with_confidence_is_kept_at_once_and_uses_no_try(step: dict[str, object]) -> None:
    chat = Chat({**step, "max_tries": 1}, END)
    said = spoken(chat, STORY, 0.9)
    assert kept(chat) == [RecordComment(str(step["id"]), STORY, "voice")]
    assert said[0] == NOTED and said[1].startswith(str(step["text"]))
    assert chat.state.tries == 0 and chat.state.step == step["id"] and chat.state.heard is None


def test_a_story_heard_with_low_confidence_is_read_back_and_kept_only_on_yes() -> None:
    chat = Chat(CHOICE, END)
    said = spoken(chat, STORY, 0.2)
    assert said == [f'I heard: "{STORY}". Is that right? Reply YES or NO.'] and kept(chat) == []
    assert chat.state.tries == 0 and chat.state.heard is not None
    yes = chat.send("yes")
    assert kept(chat) == [RecordComment("role", STORY, "voice")]
    assert [m.text for m in yes.messages()][0] == NOTED and chat.state.tries == 0 and chat.state.step == "role"
    assert not [e for e in yes.events if isinstance(e, RecordAnswer)]


def test_no_to_a_story_read_back_keeps_nothing_and_asks_again() -> None:
    chat = Chat(CHOICE, END)
    spoken(chat, STORY, 0.2)
    no = chat.send("no")
    assert kept(chat) == [] and [m.text for m in no.messages()] == [BUILT_IN_TEXTS["voice_try_again"]["en"], "Who are you?"]
    assert chat.state.tries == 0 and chat.state.heard is None


def test_a_voice_try_at_the_question_is_still_an_answer_or_unclear_not_a_comment() -> None:
    chat = Chat(CHOICE, END)
    spoken(chat, "i would say carer really honestly if i had to pick", 0.9)
    assert kept(chat) == [] and [e.value for e in chat.last.events if isinstance(e, RecordAnswer)] == ["Carer"]
    chat = Chat(CHOICE, END)
    said = spoken(chat, "Sandbird.", 0.9)  # too short to be a story: the hint, with what was heard
    assert kept(chat) == [] and said[0].startswith('I heard: "Sandbird".') and chat.state.tries == 1


# ----------------------------------------------------------------------------- stored, linked and exported


def at_role(say: Say) -> None:
    for reply in ("WAIT", "yes"):
        say(reply)


@pytest.mark.parametrize("database_kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_spoken_story_is_kept_linked_to_its_transcript_and_exported_with_its_confidence(
    service: ConversationService, database: Database, say: Say, tmp_path: Path,
) -> None:
    at_role(say)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    record = {"status": "heard", "text": STORY, "language": "en", "confidence": 0.3, "low_confidence": True, "model": "test"}
    service.receive_transcript(note.inbound_id, STORY, 0.3, record)
    assert texts(service, note.participant_id)[-1].startswith(f'I heard: "{STORY}"')
    assert rows(database, COMMENTS) == [], "not kept until confirmed"
    yes = say("yes")
    (comment,) = rows(database, COMMENTS)
    assert (comment.text, comment.source, comment.step_id, comment.inbound_id) == (STORY, "voice", "role", yes.inbound_id)
    (transcript,) = rows(database, TRANSCRIPTS)
    assert (transcript.comment_id, transcript.answer_id, transcript.inbound_id) == (comment.id, None, note.inbound_id)
    assert texts(service, note.participant_id)[-2:][0] == BUILT_IN_TEXTS["aside_noted"]["en"]

    answer_note = say("", media=VOICE)  # then the question answered by voice: its own transcript, not the story's
    assert answer_note.inbound_id is not None
    heard = {**record, "text": "the second one", "confidence": 0.9, "low_confidence": False}
    service.receive_transcript(answer_note.inbound_id, "the second one", 0.9, heard)
    (answer,) = rows(database, ANSWERS, ANSWERS.c.step_id == "role", ANSWERS.c.skipped.is_(False))
    linked = {t.inbound_id: (t.answer_id, t.comment_id) for t in rows(database, TRANSCRIPTS)}
    assert linked == {note.inbound_id: (None, comment.id), answer_note.inbound_id: (answer.id, None)}

    exported = export_study(database, "ae-waiting", tmp_path / "export")
    assert exported.comments is not None
    with exported.comments.open(encoding="utf-8") as file:
        (row,) = list(csv.DictReader(file))
    assert (row["source"], row["voice_confidence"], row["voice_low_confidence"]) == ("voice", "0.30", "true")
    say("Delete my data")
    assert say("YES").status == "erased"
    assert rows(database, COMMENTS) == [] and rows(database, TRANSCRIPTS) == []


def test_a_typed_comment_has_no_voice_confidence_in_the_export(service: ConversationService, database: Database, say: Say,
                                                               tmp_path: Path) -> None:
    at_role(say)
    say(STORY)
    exported = export_study(database, "ae-waiting", tmp_path / "export")
    assert exported.comments is not None
    with exported.comments.open(encoding="utf-8") as file:
        (row,) = list(csv.DictReader(file))
    assert (row["source"], row["voice_confidence"], row["voice_low_confidence"]) == ("text", "", "")


# ----------------------------------------------------------------------------- a real voice note


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Notes:
    return Notes(tmp_path_factory.mktemp("notes"))


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


def test_a_story_in_a_real_voice_note_is_kept_as_a_comment(
    service: ConversationService, database: Database, say: Say, notes: Notes, whisper: WhisperTranscriber, tmp_path: Path,
) -> None:
    at_role(say)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    # (no 'no one' or 'one of': a number the question would take is a try at it, not a story)
    audio = notes.speak("The waiting room was freezing and we sat there all night with no news at all")
    outcome = run_pipeline(service, whisper, Fetcher(audio), tmp_path / "audio", note.inbound_id)
    assert outcome.status == "processed"
    (transcript,) = rows(database, TRANSCRIPTS)
    if texts(service, note.participant_id)[-1].startswith("I heard:"):  # espeak through tiny.en may be heard doubtfully
        assert rows(database, COMMENTS) == [], "read back, not kept until confirmed"
        say("yes")
    (comment,) = rows(database, COMMENTS)
    assert comment.source == "voice" and comment.step_id == "role" and comment.text == transcript.text
    assert "waiting room was freezing" in comment.text.lower()
    assert rows(database, TRANSCRIPTS)[0].comment_id == comment.id
    assert rows(database, ANSWERS, ANSWERS.c.step_id == "role") == [], "a story is no answer: the question is asked again"
    assert texts(service, note.participant_id)[-1].startswith("Which best describes you?")

