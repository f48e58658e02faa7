"""Voice answers end to end through the channels: Chorus under uvicorn with its webhooks,
dispatcher and voice pipeline; the fake Telegram Bot API serving a generated OGG/Opus
voice note through getFile, and the fake Twilio serving one at MediaUrl0 behind basic
auth. The packaged model hears a choice ("the second one") and a 1-9 rating ("seven")."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bot import voice, voice_app
from bot.app import create_app
from bot.settings import Settings
from bot.webhooks import ChannelHub, install
from nlp.transcribe import WhisperSettings, WhisperTranscriber, shared_transcriber
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.tables import ANSWERS, FLAGS, INBOUND, TRANSCRIPTS
from tests import voice_helpers
from tests.channel_helpers import EXAMPLE, FAST, TELEGRAM_SECRET, Running, post_twilio, provider_env
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

CHAT = 515151
PHONE = "+447700900321"
REPLY_WAIT = 90.0  # transcription shares two cores with the rest of the suite


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The two answers, spoken by espeak-ng and encoded as a phone sends them (OGG/Opus, 48 kHz mono)."""
    folder = tmp_path_factory.mktemp("spoken")
    made = {}
    for key, text, accent in (("choice", "the second one", "en-gb"), ("scale", "I would say seven", "en-us")):
        wav = folder / f"{key}.wav"
        subprocess.run([voice_helpers.ESPEAK, "-v", accent, "-s", "150", "-w", str(wav), text], check=True)
        made[key] = voice_helpers.encode(wav, folder / f"{key}.ogg", "ogg").read_bytes()
    return made


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


@contextmanager
def chorus_with_voice(database_url: str, env: dict[str, str], audio_dir: Path, transcriber: WhisperTranscriber) -> Iterator[Running]:
    """tests.channel_helpers.running_chorus plus the voice pipeline, sharing one transcriber."""
    settings = Settings.from_env({}, database_url=database_url, hash_key="test-key", studies_dir=str(EXAMPLE))
    app = create_app(settings)
    hub = ChannelHub.from_env(env)
    hub.limits.update(FAST)
    install(app, hub)

    def pipeline(app: FastAPI) -> voice.VoicePipeline:
        whisper = WhisperSettings()
        queue = ThreadPoolTranscriptionQueue(transcriber, settings=whisper)
        return voice.VoicePipeline(app.state.chorus.service, queue, voice_app.hub_fetch(app), voice.VoiceSettings(30.0, audio_dir),
                                   whisper, voice_app.nudger(app))

    voice_app.install(app, pipeline)
    with LocalServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        hub.dispatcher.poll_interval = 0.1  # type: ignore[union-attr]
        yield Running(app, client, hub)


def answers(running: Running) -> dict[str, tuple[Any, str]]:
    with running.chorus.database.transaction() as connection:
        found = connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.value, ANSWERS.c.source).order_by(ANSWERS.c.id)).all()
    return {row[0]: (row[1], row[2]) for row in found}


def transcripts(running: Running) -> list[Any]:
    with running.chorus.database.transaction() as connection:
        return list(connection.execute(select(TRANSCRIPTS).order_by(TRANSCRIPTS.c.id)).all())


def voice_statuses(running: Running) -> list[str]:
    with running.chorus.database.transaction() as connection:
        found = connection.execute(select(INBOUND.c.status, INBOUND.c.media).order_by(INBOUND.c.id)).all()
    return [status for status, media in found if media]


def by_voice(replies: Callable[[int], list[str]], send_voice: Callable[[], None], confirm: Callable[[], None]) -> str:
    """Send a voice note and return the next question. tiny.en is not always sure of espeak's
    voice: if the answer is read back ("I heard: ... Is that right?"), confirm it."""
    before = len(replies(0))
    send_voice()
    reply = wait_for(lambda: replies(before), REPLY_WAIT, "a reply to the voice note")[0]
    if reply.startswith("I heard:"):
        before = len(replies(0))
        confirm()
        reply = wait_for(lambda: replies(before), REPLY_WAIT, "the next question")[0]
    return str(reply)


def check_stored(running: Running, audio_dir: Path) -> None:
    stored = answers(running)
    assert stored["role"] == ("carer", "voice"), "'the second one' picked the second option"
    assert stored["rate_updates"] == (7, "voice"), "'seven' rated 7 on the 1-9 scale"
    heard = [t for t in transcripts(running) if t.answer_id is not None]
    assert [t.step_id for t in heard] == ["role", "rate_updates"] and all(t.language == "en" for t in heard)
    assert voice_statuses(running) == ["processed", "processed"]
    assert [p for p in audio_dir.rglob("*") if p.is_file()] == [], "no audio left behind"


# ----------------------------------------------------------------------------- Telegram


def telegram_voice(fake: FakeTelegram, audio: bytes) -> dict[str, Any]:
    """A voice message update whose file (served by getFile and download) is ``audio``."""
    update = fake.voice_update(CHAT)
    fake._files[update["message"]["voice"]["file_id"]] = audio
    return update


def test_voice_answers_to_a_choice_and_a_1_to_9_scale_are_understood_on_telegram(
    tmp_path: Path, fake_telegram: tuple[FakeTelegram, str], spoken: dict[str, bytes], whisper: WhisperTranscriber,
) -> None:
    fake, url = fake_telegram
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    audio_dir = tmp_path / "audio"
    with chorus_with_voice(f"sqlite:///{tmp_path / 'c.db'}", provider_env(fake, url), audio_dir, whisper) as running:

        def post(update: dict[str, Any]) -> None:
            response = running.client.post("/webhooks/telegram", json=update, headers=headers)
            assert response.status_code == 200, response.text

        def replies(before: int) -> list[str]:
            return fake.texts_to(CHAT)[before:]

        post(fake.message_update(CHAT, "/start wait"))
        wait_for(lambda: fake.texts_to(CHAT), what="the consent question")
        post(fake.callback_update(CHAT, "yes"))
        wait_for(lambda: fake.texts_to(CHAT)[-1] == "Which best describes you?", what="the role question")

        def confirm() -> None:
            post(fake.callback_update(CHAT, "yes"))

        next_question = by_voice(replies, lambda: post(telegram_voice(fake, spoken["choice"])), confirm)
        assert next_question.startswith("How many times have you been to A&E")

        pid = running.chorus.service.participant_for("telegram", str(CHAT))
        running.chorus.service.start_flow(pid, "ae-waiting", "vision")
        wait_for(lambda: fake.texts_to(CHAT)[-1].startswith("Regular updates"), REPLY_WAIT, "the first rating")
        next_question = by_voice(replies, lambda: post(telegram_voice(fake, spoken["scale"])), confirm)
        assert next_question.startswith("Pain relief within 30 minutes")
        assert len(fake.calls_to("getFile")) == 2
        check_stored(running, audio_dir)


# ----------------------------------------------------------------------------- WhatsApp (Twilio)


def test_voice_answers_to_a_choice_and_a_1_to_9_scale_are_understood_on_whatsapp(
    tmp_path: Path, fake_twilio: FakeTwilio, spoken: dict[str, bytes], whisper: WhisperTranscriber,
) -> None:
    fake, sender = fake_twilio, "whatsapp:" + PHONE
    audio_dir = tmp_path / "audio"
    env = provider_env(twilio=fake, twilio_url=fake.url)
    with chorus_with_voice(f"sqlite:///{tmp_path / 'c.db'}", env, audio_dir, whisper) as running:
        count = iter(range(1000))

        def post(body: str = "", **extra: str) -> None:
            form = {"MessageSid": f"SM{next(count):032x}", "AccountSid": fake.account_sid, "From": sender,
                    "To": "whatsapp:+447700900888", "Body": body, "NumMedia": "0", **extra}
            response = post_twilio(running, form, fake.auth_token)
            assert response.status_code == 200 and "<Response/>" in response.text

        def replies(before: int) -> list[str]:
            return fake.bodies_to(sender)[before:]

        def voice_note(audio: bytes) -> Callable[[], None]:
            return lambda: post(NumMedia="1", MediaUrl0=fake.add_media(audio), MediaContentType0="audio/ogg")

        post("WAIT")
        wait_for(lambda: replies(0), what="the consent question")
        post("YES")
        wait_for(lambda: replies(0)[-1].startswith("Which best describes you?"), what="the role question")
        next_question = by_voice(replies, voice_note(spoken["choice"]), lambda: post("YES"))
        assert next_question.startswith("How many times have you been to A&E")

        pid = running.chorus.service.participant_for("whatsapp", PHONE)
        running.chorus.service.start_flow(pid, "ae-waiting", "vision")
        wait_for(lambda: replies(0)[-1].startswith("Regular updates"), REPLY_WAIT, "the first rating")
        next_question = by_voice(replies, voice_note(spoken["scale"]), lambda: post("YES"))
        assert next_question.startswith("Pain relief within 30 minutes")
        check_stored(running, audio_dir)


def test_a_voice_note_twilio_will_not_serve_gets_a_reply_and_a_flag(tmp_path: Path, fake_twilio: FakeTwilio, whisper: WhisperTranscriber) -> None:
    fake, sender = fake_twilio, "whatsapp:" + PHONE
    env = provider_env(twilio=fake, twilio_url=fake.url)
    with chorus_with_voice(f"sqlite:///{tmp_path / 'c.db'}", env, tmp_path / "audio", whisper) as running:
        base = {"AccountSid": fake.account_sid, "From": sender, "To": "whatsapp:+447700900888", "Body": ""}
        post_twilio(running, {**base, "MessageSid": "SM" + "1" * 32, "Body": "WAIT", "NumMedia": "0"}, fake.auth_token)
        wait_for(lambda: fake.bodies_to(sender), what="the consent question")
        missing = fake.add_media(b"OggS") + "-gone"
        post_twilio(running, {**base, "MessageSid": "SM" + "2" * 32, "NumMedia": "1", "MediaUrl0": missing,
                              "MediaContentType0": "audio/ogg"}, fake.auth_token)
        wait_for(lambda: "couldn't fetch that voice note" in fake.bodies_to(sender)[-1], REPLY_WAIT, "the download failure reply")
        assert voice_statuses(running) == ["transcription_failed"]
        with running.chorus.database.transaction() as connection:
            error = connection.execute(select(INBOUND.c.error).where(INBOUND.c.status == "transcription_failed")).scalar_one()
            flags = connection.execute(select(FLAGS.c.kind, FLAGS.c.step_id)).all()
        assert error == "download_failed: MediaUnavailable: HTTP 404", "the error names no URL"
        assert [tuple(flag) for flag in flags] == [("voice_failed", "consent")], "the coordinator sees the failure"
