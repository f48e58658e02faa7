"""Voice notes in ``chorus chat`` (bot/chat.py, bot/commands/chat.py): ``/voice FILE`` sends an
audio file as a voice note, heard by the real packaged model, and what is typed after it is
handled after its transcript."""

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
from tests.test_voice_language_offer import OFFER, not_understood_in_both

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
STORY = "The nurse was kind but we waited four hours to see a doctor"


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("notes")
    made = {key: voice_helpers.speak(text, folder / f"{key}.ogg") for key, text in (("story", STORY), ("stop", "Stop"))}
    made["silence"] = voice_helpers.silence(folder / "silence.ogg")
    return made


def at_the_story(whisper: WhisperTranscriber) -> ChatSession:
    session = ChatSession(open_target(EXAMPLE), transcriber=whisper)
    for text in ("yes", "2", "2"):
        replies = session.send(text)
    assert replies[-1].text.startswith("What was waiting like?")
    return session


def test_a_voice_note_then_a_typed_number_answer_in_the_order_they_were_sent(notes: dict[str, Path]) -> None:
    script = "yes\n2\n2\n/voice {story}\n2\n".format(story=notes["story"])
    outcome = CliRunner().invoke(cli, ["chat", str(EXAMPLE)], input=script)
    assert outcome.exit_code == 0, outcome.output
    assert "(heard: " in outcome.stderr and "nurse" in outcome.stderr.lower()
    said = outcome.stdout
    informed, thanks = said.index("How well were you kept informed"), said.index("Thank you for your time")
    assert informed < thanks, "the transcript answered the story, then the typed 2 the next question"


def test_the_transcript_is_a_voice_answer(whisper: WhisperTranscriber, notes: dict[str, Path]) -> None:
    session = at_the_story(whisper)
    heard, replies = session.hear(notes["story"])
    assert heard is not None and "nurse" in heard.lower()
    assert replies[-1].text.startswith("How well were you kept informed")
    assert session.state.values["story"] == heard


def test_stop_said_aloud_stops(whisper: WhisperTranscriber, notes: dict[str, Path]) -> None:
    session = at_the_story(whisper)
    _, replies = session.hear(notes["stop"])
    assert [(reply.kind, reply.text) for reply in replies] == [("stopped", BUILT_IN_TEXTS["stopped"]["en"])]
    assert session.state.status == "stopped" and "story" not in session.state.values


def test_a_note_with_no_words_gets_the_kind_reply_and_the_question_waits(whisper: WhisperTranscriber, notes: dict[str, Path]) -> None:
    session = at_the_story(whisper)
    heard, replies = session.hear(notes["silence"])
    assert heard is None and [reply.text for reply in replies] == [BUILT_IN_TEXTS["voice.silence"]["en"]]
    assert session.state.step == "story"


def test_a_question_that_wants_typing_says_so(whisper: WhisperTranscriber, notes: dict[str, Path], tmp_path: Path) -> None:
    flow = tmp_path / "typed.yaml"
    flow.write_text("flow: typed\nsteps:\n  - id: code\n    type: open\n    text: Type the code on your card.\n"
                    "    accept: [text]\n", encoding="utf-8")
    session = ChatSession(open_target(flow), transcriber=whisper)
    heard, replies = session.hear(notes["story"])
    assert heard is None and [reply.text for reply in replies] == [BUILT_IN_TEXTS["voice.not_accepted"]["en"]]
    assert session.state.step == "code" and not session.state.values


def test_voice_without_a_file_is_explained(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(cli, ["chat", str(EXAMPLE)], input=f"/voice {tmp_path / 'nothing.ogg'}\nyes\n")
    assert outcome.exit_code == 0
    assert "/voice needs an audio file" in outcome.stderr
    assert "Which best describes you?" in outcome.stdout, "the chat carries on"


def test_a_welsh_note_in_an_english_chat_is_answered_as_the_channels_answer_it(whisper: WhisperTranscriber,
                                                                              tmp_path: Path) -> None:
    """As bot/voice.py: not read back as English words, but asked to type, in both languages, with
    Welsh offered (tests/test_voice_language_offer.py); the story still waits for its answer."""
    wav = tmp_path / "welsh.wav"
    subprocess.run([voice_helpers.ESPEAK, "-v", "cy", "-s", "150", "-w", str(wav),
                    "Mae parcio yn yr ysbyty yn llawer rhy ddrud i deuluoedd"], check=True)
    session = at_the_story(whisper)
    heard, replies = session.hear(voice_helpers.encode(wav, tmp_path / "welsh.ogg", "ogg"))
    assert heard
    assert [reply.text for reply in replies] == [not_understood_in_both()] and OFFER in replies[0].text
    assert session.state.step == "story" and "story" not in session.state.values
