"""A voice note in another of the study's languages, one the speech model cannot transcribe, from
someone whose conversation is in a language it hears (a Welsh speaker in an English conversation
of the Welsh and English example study, and the English-only tiny.en): not read back as English
nonsense ("I heard: ..."), but answered, in English and in Welsh, that we could not understand it,
with a request to type and the offer of Welsh ("Am Gymraeg, atebwch CYMRAEG."). English notes the
model merely doubts are read back as before. And a captioned voice note that gave no transcript
tells its sender that their written words were kept.

The packaged tiny.en on notes spoken by espeak-ng (its Welsh and English voices), encoded by
ffmpeg as OGG/Opus, through the real voice pipeline on SQLite."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from bot.voice import SUSPECTED, UNHEARD, VoiceOutcome
from bot.voice_replies import offered_languages
from flows.words import BUILT_IN_TEXTS, Words
from nlp.transcribe import WhisperTranscriber, model_hears
from storage.database import Database
from storage.tables import ANSWERS, FLAGS, INBOUND, TRANSCRIPTS
from tests import voice_helpers
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.test_voice_language import VOICE, WELSH_STORY, at_story, rows, run_pipeline
from tests.test_voice_language import speak as speak  # noqa: F401  (the fixture, shared)
from tests.test_voice_language import whisper as whisper  # noqa: F401

Say = Callable[..., ReceiveResult]
Speak = Callable[[str, str], Path]

WELSH = [
    WELSH_STORY,
    "Mae parcio yn yr ysbyty yn llawer rhy ddrud i deuluoedd",
    "Dw i ddim yn siŵr",
    "Roedd y meddyg yn garedig ond roedd rhaid aros yn hir",
    "Doedd neb wedi esbonio beth oedd yn digwydd i fy mam",
    "Roedd y fferyllydd yn wych",
    "Ces i fy anfon adref heb unrhyw wybodaeth",
]
"""Welsh sentences of six words or more that tiny.en makes English words of ("the star met that
was annoyed..."), believing few of them."""
DOUBTED_ENGLISH = "Please make it easier to get repeat prescriptions."
"""Heard as "Please make it easy on your repeat prescription." at confidence 0.30: doubted on every
count, but half its words are believed. The closest English note to the rule's line."""
ENGLISH = [
    DOUBTED_ENGLISH,
    "The waiting list for physiotherapy is over six months.",
    "The nurse rang me back within ten minutes, which was brilliant.",
    "I tried to ring the surgery at eight in the morning and the phone line was engaged for forty minutes.",
    voice_helpers.PHRASES["waiting"],
    "The video calls were fine but the sound kept cutting out",
]
"""English sentences, clear and garbled (the low-confidence ones are read back, as ever)."""
SILENT_WELSH = "Roedd y nyrs yn garedig iawn"
"""'The nurse was very kind': tiny.en makes no words of it at all (no_speech)."""
CAPTION = "We came in at 2am with my dad"
OFFER = "Am Gymraeg, atebwch CYMRAEG."


@pytest.fixture
def database_kind() -> str:
    """SQLite only: what the model hears, not where it is stored, is under test."""
    return "sqlite"


def voice_note_at_story(service: ConversationService, say: Say, whisper: WhisperTranscriber, audio: bytes, tmp_path: Path,
                        welsh: bool, caption: str = "") -> tuple[ReceiveResult, VoiceOutcome]:
    """A participant (in Welsh or English) at the open question sends a voice note of ``audio``
    (with ``caption``), through the real voice pipeline: what storing it said, and its outcome."""
    at_story(say, welsh=welsh)
    note = say(caption, media=VOICE)
    assert note.inbound_id is not None
    return note, run_pipeline(service, whisper, audio, tmp_path / "audio", note.inbound_id)


def not_understood_in_both() -> str:
    texts = BUILT_IN_TEXTS["voice.not_understood"]
    return f"{texts['en']}\n\n{texts['cy']} {OFFER}"


# ----------------------------------------------------------------------------- the rule, on real speech


def test_most_welsh_speech_heard_as_english_sounds_foreign(whisper: WhisperTranscriber, speak: Speak) -> None:  # noqa: F811
    """The rule's margin on these synthetic notes is thin, and the model's probabilities depend on
    the CPU's arithmetic (CTranslate2 picks its kernels by instruction set): all seven sounded
    foreign on session 16's machine, four on session 17's (an AMD EPYC). A majority must; a note the rule misses is
    read back as doubted, as before it existed. No English note may (the test below)."""
    missed = []
    for text in WELSH:
        heard = whisper.transcribe(speak(text, "cy"), language="en")
        assert heard.unheard_language is None, "English was the language it was told"
        assert heard.multilingual is False
        if not heard.sounds_foreign:
            missed.append((heard.text, round(heard.confidence, 2)))
    assert len(missed) < len(WELSH) / 2, missed


@pytest.mark.parametrize("text", ENGLISH)
def test_english_speech_does_not_sound_foreign_even_when_doubted(whisper: WhisperTranscriber, speak: Speak, text: str) -> None:  # noqa: F811
    heard = whisper.transcribe(speak(text, "en-gb"), language="en")
    assert not heard.sounds_foreign, (heard.text, heard.confidence, [round(w.probability, 2) for w in heard.words])


def test_a_short_note_is_not_judged(whisper: WhisperTranscriber, speak: Speak) -> None:  # noqa: F811
    heard = whisper.transcribe(speak("pedwar", "cy"), language="en")
    assert heard.low_confidence and len(heard.words) < heard.foreign.words and not heard.sounds_foreign


@pytest.mark.parametrize(("language", "multilingual", "hears"), [
    ("en", False, True), ("en-GB", False, True), ("cy", False, False), ("cy", True, True), ("cy", None, True),
    ("gd", True, False), ("gd", None, False), (None, False, True),
])
def test_which_languages_a_model_hears(language: str | None, multilingual: bool | None, hears: bool) -> None:
    assert model_hears(language, multilingual) is hears


# ----------------------------------------------------------------------------- in the conversation


def test_a_welsh_note_in_an_english_conversation_is_not_read_back_but_answered_in_both_languages(
    service: ConversationService, database: Database, say: Say, whisper: WhisperTranscriber, speak: Speak,  # noqa: F811
    tmp_path: Path,
) -> None:
    note, outcome = voice_note_at_story(service, say, whisper, speak(WELSH_STORY, "cy").read_bytes(), tmp_path, welsh=False)

    participant = str(note.participant_id)
    assert (outcome.status, outcome.failure) == ("transcription_failed", SUSPECTED)
    said = service.outbox_for(participant)[-1].text
    assert said == not_understood_in_both()
    assert "I heard" not in said
    assert rows(database, ANSWERS, ANSWERS.c.step_id == "story") == [], "no English words made up from Welsh speech"
    assert service.session_status(participant) == "waiting", "the question is still open"
    flag = rows(database, FLAGS, FLAGS.c.kind == "voice_failed")
    assert len(flag) == 1 and flag[0].step_id == "story" and SUSPECTED in flag[0].message and "'cy'" in flag[0].message
    assert WELSH_STORY.split()[0] not in flag[0].message
    inbound = rows(database, INBOUND, INBOUND.c.id == note.inbound_id)[0]
    assert inbound.status == "transcription_failed" and inbound.error.startswith(f"{SUSPECTED}: ")
    transcript = rows(database, TRANSCRIPTS)[0]
    assert (transcript.status, transcript.error_kind, transcript.low_confidence, transcript.answer_id) == ("failed", SUSPECTED, True, None)
    assert transcript.text, "what the model wrote is kept for the coordinator"

    say("CYMRAEG")
    assert BUILT_IN_TEXTS["language_changed"]["cy"] in [m.text for m in service.outbox_for(participant)], "the offer works"


def test_a_doubted_english_note_in_the_same_study_is_read_back_as_before(
    service: ConversationService, database: Database, say: Say, whisper: WhisperTranscriber, speak: Speak,  # noqa: F811
    tmp_path: Path,
) -> None:
    note, outcome = voice_note_at_story(service, say, whisper, speak(DOUBTED_ENGLISH, "en-gb").read_bytes(), tmp_path, welsh=False)
    assert outcome.status == "processed"
    said = service.outbox_for(str(note.participant_id))[-1].text
    assert said.startswith('I heard: "Please make it') and said.endswith("Is that right? Reply YES or NO.")
    assert rows(database, FLAGS, FLAGS.c.kind == "voice_failed") == []
    assert rows(database, TRANSCRIPTS)[0].status == "heard"


def test_a_welsh_speakers_note_is_still_answered_in_welsh_alone(
    service: ConversationService, say: Say, whisper: WhisperTranscriber, speak: Speak, tmp_path: Path,  # noqa: F811
) -> None:
    """Their own language is the one the model cannot hear: as before, asked in Welsh to type."""
    note, outcome = voice_note_at_story(service, say, whisper, speak(WELSH_STORY, "cy").read_bytes(), tmp_path, welsh=True)
    assert outcome.failure == UNHEARD
    assert service.outbox_for(str(note.participant_id))[-1].text == BUILT_IN_TEXTS["voice.language_unsupported"]["cy"]


def test_welsh_the_model_makes_no_words_of_is_offered_welsh_too(
    service: ConversationService, say: Say, whisper: WhisperTranscriber, speak: Speak, tmp_path: Path,  # noqa: F811
) -> None:
    note, outcome = voice_note_at_story(service, say, whisper, speak(SILENT_WELSH, "cy").read_bytes(), tmp_path, welsh=False)
    assert (outcome.status, outcome.failure) == ("transcription_failed", "no_speech")
    texts = BUILT_IN_TEXTS
    expected = f"{texts['voice.no_speech']['en']}\n\n{texts['voice.not_understood']['cy']} {OFFER}"
    assert service.outbox_for(str(note.participant_id))[-1].text == expected


def test_silence_is_not_offered_another_language(
    service: ConversationService, say: Say, whisper: WhisperTranscriber, tmp_path: Path,  # noqa: F811
) -> None:
    audio = voice_helpers.silence(tmp_path / "silence.ogg").read_bytes()
    note, outcome = voice_note_at_story(service, say, whisper, audio, tmp_path, welsh=False)
    assert outcome.failure == "silence"
    assert service.outbox_for(str(note.participant_id))[-1].text == BUILT_IN_TEXTS["voice.silence"]["en"]


@pytest.fixture
def english_only(database: Database, example_study_path: Path, clock: FakeClock, tmp_path: Path) -> ConversationService:
    """The example study with English alone: no language the model cannot hear."""
    from bot.safeguarding import checks_from_env

    folder = tmp_path / "english-only"
    shutil.copytree(example_study_path, folder)
    study = yaml.safe_load((folder / "study.yaml").read_text())
    study["languages"] = ["en"]
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True))
    return ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


def test_in_an_english_only_study_a_welsh_sounding_note_is_read_back_as_before(
    english_only: ConversationService, database: Database, whisper: WhisperTranscriber, speak: Speak, tmp_path: Path,  # noqa: F811
) -> None:
    from channels.base import InboundMessage

    sent = iter(range(1, 100))

    def say(text: str, **extra: Any) -> ReceiveResult:
        return english_only.receive(InboundMessage("sms", "+447700900001", f"sms-{next(sent)}", text, **extra))

    note, outcome = voice_note_at_story(english_only, say, whisper, speak(WELSH_STORY, "cy").read_bytes(), tmp_path, welsh=False)
    assert outcome.status == "processed"
    assert english_only.outbox_for(str(note.participant_id))[-1].text.startswith("I heard:")
    assert rows(database, FLAGS, FLAGS.c.kind == "voice_failed") == []


def test_a_language_the_study_has_no_words_in_is_not_offered_in_english_again(service: ConversationService) -> None:
    study = service.studies.get("ae-waiting").study.model_copy(update={"languages": ["en", "cy", "gd"]})
    said = offered_languages(Words(study), "Sorry.", "en", ("cy", "gd"))
    assert said == f"Sorry.\n\n{BUILT_IN_TEXTS['voice.not_understood']['cy']} {OFFER}"
    assert offered_languages(Words(study), "Mae'n ddrwg.", "cy", ("cy",)) == "Mae'n ddrwg.", "never offered their own language"


# ----------------------------------------------------------------------------- a caption kept


def test_a_captioned_note_that_gives_no_transcript_tells_its_sender_the_words_were_kept(
    service: ConversationService, database: Database, say: Say, whisper: WhisperTranscriber, tmp_path: Path,  # noqa: F811
) -> None:
    note, outcome = voice_note_at_story(service, say, whisper, b"OggS\x00this is not really a voice note", tmp_path, welsh=True, caption=CAPTION)
    assert (outcome.status, outcome.failure) == ("caption_kept", "corrupt")
    said = [m.text for m in service.outbox_for(str(note.participant_id))]
    notice = said.index(BUILT_IN_TEXTS["voice.caption_kept"]["cy"])
    assert notice == len(said) - 2, "told in their language, then the next question"
    assert [(a.value, a.source) for a in rows(database, ANSWERS, ANSWERS.c.step_id == "story")] == [(CAPTION, "text")]
    flags = rows(database, FLAGS, FLAGS.c.kind == "voice_failed")
    assert len(flags) == 1 and "its caption was taken as the answer" in flags[0].message
    assert rows(database, TRANSCRIPTS)[0].error_kind == "corrupt"


def test_a_captioned_welsh_note_in_an_english_conversation_keeps_the_caption_and_says_so(
    service: ConversationService, database: Database, say: Say, whisper: WhisperTranscriber, speak: Speak,  # noqa: F811
    tmp_path: Path,
) -> None:
    note, outcome = voice_note_at_story(service, say, whisper, speak(WELSH_STORY, "cy").read_bytes(), tmp_path, welsh=False, caption=CAPTION)
    assert (outcome.status, outcome.failure) == ("caption_kept", SUSPECTED)
    said = [m.text for m in service.outbox_for(str(note.participant_id))]
    assert BUILT_IN_TEXTS["voice.caption_kept"]["en"] in said and not any(text.startswith("I heard") for text in said)
    assert [a.value for a in rows(database, ANSWERS, ANSWERS.c.step_id == "story")] == [CAPTION]
