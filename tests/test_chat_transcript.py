"""``chorus chat`` with replies piped in prints a transcript that reads in order: each reply as
"> reply" before what the bot said to it (bot/commands/chat.py). And a voice note sent there
is transcribed in the participant's language, as on the channels (bot/voice.py): an
English-only model asks a Welsh speaker to type, and STOP said aloud is still honoured. The
packaged tiny.en hears notes spoken by espeak-ng."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.chat import ChatSession, open_target
from bot.cli import cli
from flows.words import BUILT_IN_TEXTS
from nlp.transcribe import WhisperSettings, WhisperTranscriber, shared_transcriber
from tests import voice_helpers
from tests.voice_helpers import Listening

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
WELSH_STORY = "Roedd yr ystafell aros yn oer a doedd neb yn dweud dim wrthon ni"


def transcript_of(script: str, *options: str) -> list[str]:
    outcome = CliRunner().invoke(cli, ["chat", str(EXAMPLE), *options], input=script)
    assert outcome.exit_code == 0, outcome.output
    return [line for line in outcome.stdout.splitlines() if line]


def test_each_piped_reply_is_shown_before_what_the_bot_said_to_it() -> None:
    lines = transcript_of("yes\n2\nmaybe\n3\n")
    replies = [n for n, line in enumerate(lines) if line.startswith("> ")]
    assert [lines[n] for n in replies] == ["> yes", "> 2", "> maybe", "> 3"]
    assert lines[0].startswith("Hello there.") and replies[0] > 0, "the opening comes before the first reply"
    assert lines[replies[0] + 1] == "Which best describes you?"
    assert lines[replies[1] + 1].startswith("How many times have you been to A&E")
    assert lines[replies[2] + 1].startswith("Please reply with a number"), "the hint follows the reply it answers"
    assert lines[replies[3] + 1].startswith("What was waiting like?")


def test_the_transcript_echoes_welsh_replies_too() -> None:
    lines = transcript_of("ydw\n2\n", "--lang", "cy")
    assert lines.index("> ydw") < lines.index("Pa un sy'n eich disgrifio orau?") < lines.index("> 2")


# ----------------------------------------------------------------------------- voice notes


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("chat-notes")
    wav = folder / "welsh.wav"
    subprocess.run([voice_helpers.ESPEAK, "-v", "cy", "-s", "150", "-w", str(wav), WELSH_STORY], check=True)
    return {"welsh": voice_helpers.encode(wav, folder / "welsh.ogg", "ogg"),
            "stop": voice_helpers.speak("Stop", folder / "stop.ogg"),
            "story": voice_helpers.speak("The nurse was kind but we waited four hours", folder / "story.ogg")}


def at_the_story(transcriber: Listening, language: str) -> ChatSession:
    session = ChatSession(open_target(EXAMPLE), language, transcriber=transcriber)
    for text in ("ydw" if language == "cy" else "yes", "2", "2"):
        session.send(text)
    assert session.state.step == "story"
    return session


def test_a_welsh_speakers_note_is_transcribed_in_welsh_and_they_are_asked_to_type(
        whisper: WhisperTranscriber, notes: dict[str, Path]) -> None:
    listening = Listening(whisper)
    session = at_the_story(listening, "cy")
    _, replies = session.hear(notes["welsh"])
    assert listening.languages == ["cy"]
    assert [reply.text for reply in replies] == [BUILT_IN_TEXTS["voice.language_unsupported"]["cy"]]
    assert session.state.step == "story" and "story" not in session.state.values


def test_stop_said_aloud_by_a_welsh_speaker_still_stops(whisper: WhisperTranscriber, notes: dict[str, Path]) -> None:
    session = at_the_story(Listening(whisper), "cy")
    _, replies = session.hear(notes["stop"])
    assert [reply.kind for reply in replies] == ["stopped"] and session.state.status == "stopped"


def test_an_english_speakers_note_is_transcribed_in_english_and_answers(whisper: WhisperTranscriber, notes: dict[str, Path]) -> None:
    listening = Listening(whisper)
    session = at_the_story(listening, "en")
    heard, _ = session.hear(notes["story"])
    assert listening.languages == ["en"]
    assert heard is not None and session.state.values["story"] == heard


def test_the_piped_transcript_shows_the_voice_line_and_the_welsh_request_to_type(notes: dict[str, Path]) -> None:
    lines = transcript_of(f"ydw\n2\n2\n/voice {notes['welsh']}\n", "--lang", "cy")
    asked = lines.index(f"> /voice {notes['welsh']}")
    assert lines[asked + 1] == BUILT_IN_TEXTS["voice.language_unsupported"]["cy"]
