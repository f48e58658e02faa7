"""Voice notes in the web chat simulator (bot/simulator.py): a recording sent to
``POST /api/simulator/sessions/{session}/voice`` is transcribed by the real packaged model, and a
message typed while it is being transcribed waits for the transcript, as on the webhooks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import voice, voice_app
from bot.app import create_app
from bot.settings import Settings
from nlp.audio import AudioInput
from nlp.transcribe import Transcript, WhisperSettings, WhisperTranscriber, shared_transcriber
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.tables import ANSWERS
from tests import voice_helpers

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples"
STORY = "The nurse was kind but we waited four hours to see a doctor"
WAIT = 90.0


class Held:
    """The real transcriber, waiting for the test's word before it listens: a voice note still
    being transcribed while the participant types."""

    def __init__(self, inner: WhisperTranscriber) -> None:
        self.inner, self.settings = inner, inner.settings
        self.listening, self.go = threading.Event(), threading.Event()

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        self.listening.set()
        assert self.go.wait(WAIT), "the test never let the transcriber go"
        return self.inner.transcribe(audio, language=language)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return voice_helpers.speak(STORY, tmp_path_factory.mktemp("spoken") / "story.ogg").read_bytes()


@pytest.fixture
def held() -> Held:
    return Held(shared_transcriber(WhisperSettings()))


@pytest.fixture
def client(tmp_path: Path, held: Held) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=EXAMPLE, key_file=tmp_path / "chorus.key",
                        data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)

    def pipeline(app: FastAPI) -> voice.VoicePipeline:
        whisper = WhisperSettings()
        queue = ThreadPoolTranscriptionQueue(held, settings=whisper)
        return voice.VoicePipeline(app.state.chorus.service, queue, voice_app.hub_fetch(app, whisper.max_bytes),
                                   voice.VoiceSettings(30.0, tmp_path / "audio"), whisper, voice_app.nudger(app), turn_poll=0.05)

    voice_app.install(app, pipeline)
    with TestClient(app) as test_client:
        yield test_client


def at_the_story(client: TestClient) -> str:
    """A simulator session answered up to the open question 'What was waiting like?'."""
    started = client.post("/api/simulator/sessions", json={"study": "ae-waiting"})
    assert started.status_code == 200, started.text
    session: str = started.json()["session"]
    for text in ("yes", "2", "2"):
        said = say(client, session, text)
    assert said["messages"][-1]["text"].startswith("What was waiting like?")
    return session


def say(client: TestClient, session: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/simulator/sessions/{session}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def send_voice(client: TestClient, session: str, audio: bytes, content_type: str = "audio/ogg") -> dict[str, Any]:
    response = client.post(f"/api/simulator/sessions/{session}/voice", content=audio, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def until_done(client: TestClient, session: str) -> list[dict[str, Any]]:
    """The messages the page's polling would show, until nothing of the participant's waits."""
    shown: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT
    while True:
        polled = client.get(f"/api/simulator/sessions/{session}/messages").json()
        shown += polled["messages"]
        if not polled["waiting"]:
            return shown
        assert time.monotonic() < deadline, "the voice note was never done"
        time.sleep(0.05)


def answers(client: TestClient) -> dict[str, tuple[Any, str]]:
    database = client.app.state.chorus.database  # type: ignore[attr-defined]
    with database.transaction() as connection:
        rows = connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.value, ANSWERS.c.source).order_by(ANSWERS.c.id)).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_a_message_typed_while_a_voice_note_is_transcribed_is_handled_after_the_transcript(
    client: TestClient, held: Held, story: bytes,
) -> None:
    session = at_the_story(client)
    sent = send_voice(client, session, story)
    assert sent["waiting"] is True and sent["messages"] == []
    assert held.listening.wait(WAIT)

    typed = say(client, session, "2")
    assert typed["waiting"] is True and typed["messages"] == [], "the 2 waits for the transcript"
    assert "story" not in answers(client)

    held.go.set()
    shown = [message["text"] for message in until_done(client, session)]
    stored = answers(client)
    assert stored["story"][1] == "voice" and "nurse" in str(stored["story"][0]).lower()
    assert stored["informed"] == (2, "text"), "the typed 2 answered the question after the story"
    assert shown[0].startswith("How well were you kept informed"), "the transcript's reply comes first"
    assert shown[-1].startswith("Thank you for your time"), "then the reply to the 2"


def test_a_voice_note_alone_is_answered_through_the_polled_messages(client: TestClient, held: Held, story: bytes) -> None:
    session = at_the_story(client)
    held.go.set()
    send_voice(client, session, story, "audio/ogg; codecs=opus")
    shown = [message["text"] for message in until_done(client, session)]
    assert shown and shown[-1].startswith("How well were you kept informed")
    assert answers(client)["story"][1] == "voice"


def test_a_typed_message_with_nothing_waiting_is_answered_at_once(client: TestClient) -> None:
    session = at_the_story(client)
    answered = say(client, session, "The chairs were hard")
    assert answered["waiting"] is False
    assert answered["messages"][-1]["text"].startswith("How well were you kept informed")


def test_a_voice_note_must_be_audio_and_not_empty(client: TestClient) -> None:
    session = at_the_story(client)
    for content, content_type, status in ((b"hello", "text/plain", 415), (b"", "audio/ogg", 422)):
        response = client.post(f"/api/simulator/sessions/{session}/voice", content=content, headers={"Content-Type": content_type})
        assert response.status_code == status, response.text
    response = client.post("/api/simulator/sessions/sim-nobody/voice", content=b"OggS", headers={"Content-Type": "audio/ogg"})
    assert response.status_code == 404


# ----------------------------------------------------------------------------- the page, in a real browser


@pytest.mark.browser
def test_on_the_page_a_voice_note_and_a_number_typed_straight_after_it_answer_in_order(
    tmp_path: Path, held: Held, story: bytes,
) -> None:
    from tests.browser import chromium_page, running_server, screenshot

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=EXAMPLE, key_file=tmp_path / "chorus.key",
                        data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)
    voice_app.install(app, lambda app: voice.VoicePipeline(
        app.state.chorus.service, ThreadPoolTranscriptionQueue(held, settings=WhisperSettings()), voice_app.hub_fetch(app),
        voice.VoiceSettings(30.0, tmp_path / "audio"), WhisperSettings(), voice_app.nudger(app), turn_poll=0.05))
    note = tmp_path / "story.ogg"
    note.write_bytes(story)
    with running_server(app) as base, chromium_page() as page:
        page.goto(base + "/")
        page.wait_for_selector("#study option", state="attached")
        page.click("#start")
        page.click(".choices button[data-value='yes']")
        page.click(".choices button[data-value='carer']")
        page.wait_for_selector("text=How many times have you been")
        page.fill("#text", "2")
        page.press("#text", "Enter")
        page.wait_for_selector("text=What was waiting like?")
        page.set_input_files("#voice", str(note))
        assert held.listening.wait(WAIT)
        page.fill("#text", "2")
        page.press("#text", "Enter")
        held.go.set()
        page.wait_for_selector("text=What you told us goes straight to the team", timeout=WAIT * 1000)
        said = page.locator(".msg.bot").all_inner_texts()
        informed = next(i for i, text in enumerate(said) if text.startswith("How well were you kept informed"))
        assert said[informed + 1].startswith("Thank you for your time"), said
        assert page.locator(".msg.me").all_inner_texts()[-2:] == ["Voice note: story.ogg", "2"]
        screenshot(page, "simulator-voice-note")
    stored = {row[0]: row[1] for row in _answers_of(app)}
    assert stored["story"] == "voice" and stored["informed"] == "text"


def _answers_of(app: FastAPI) -> list[tuple[str, str]]:
    with app.state.chorus.database.transaction() as connection:
        return [(row[0], row[1]) for row in connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.source))]
