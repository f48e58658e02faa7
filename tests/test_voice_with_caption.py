"""A voice note sent with words (a Telegram caption, a WhatsApp message's body) loses nothing:
the speech is transcribed, and the answer is the caption, then the transcript, recorded once as
a voice answer; when the note gives no transcript, the caption alone is the answer and the
failure is flagged for the coordinator; a caption that is a command (/stop) is obeyed as typed.

End to end, as tests/test_voice_channels.py: Chorus under uvicorn with its webhooks, dispatcher
and voice pipeline, the fake Telegram Bot API serving the note through getFile, the fake Twilio
at MediaUrl0, and the packaged model hearing speech made by espeak-ng and encoded by ffmpeg."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.voice import captioned
from flows.words import BUILT_IN_TEXTS
from nlp.transcribe import WhisperSettings, WhisperTranscriber, shared_transcriber
from storage.tables import ANSWERS, FLAGS, INBOUND, TRANSCRIPTS
from tests import voice_helpers
from tests.channel_helpers import TELEGRAM_SECRET, Running, post_twilio, provider_env
from tests.fake_telegram import FakeTelegram, wait_for
from tests.fake_twilio import FakeTwilio
from tests.test_voice_channels import REPLY_WAIT, chorus_with_voice

CHAT = 626262
PHONE = "+447700900654"
CAPTION = "We came in at 2am with my dad"
SPOKEN = voice_helpers.PHRASES["waiting"]
""""The waiting room was cold and nobody told us anything"."""
STORY = "What was waiting like?"
NEXT = "How well were you kept informed"
KINDS = {"voice": ("ogg", "audio/ogg"), "audio": ("mp3", "audio/mpeg"), "video_note": ("m4a", None),
         "document": ("m4a", "audio/mp4")}
"""Each spoken thing Telegram sends: how its file is encoded, and the mime type it declares
(a round video note declares none: its sound is read as audio/mp4)."""


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """:data:`SPOKEN` as a phone sends it in each format (OGG/Opus for a voice note)."""
    folder = tmp_path_factory.mktemp("captioned")
    return {fmt: voice_helpers.speak(SPOKEN, folder / "waiting.ogg", fmt).read_bytes() for fmt in ("ogg", "mp3", "m4a")}


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


# ----------------------------------------------------------------------------- reading what was stored


def rows(running: Running, table: Any, *where: Any) -> list[Any]:
    with running.chorus.database.transaction() as connection:
        return list(connection.execute(select(table).where(*where).order_by(table.c.id)).all())


def voice_messages(running: Running) -> list[Any]:
    return [row for row in rows(running, INBOUND) if row.media]


def check_caption_then_transcript(running: Running) -> None:
    """One answer to the story, by voice: the caption, then what was said; the transcript row
    holds what was said alone and is linked to the answer; the note is processed; no audio left."""
    answers = rows(running, ANSWERS, ANSWERS.c.step_id == "story")
    assert len(answers) == 1, "recorded once"
    answer, note = answers[0], voice_messages(running)[-1]
    heard = rows(running, TRANSCRIPTS)
    assert len(heard) == 1 and heard[0].status == "heard" and heard[0].step_id == "story"
    assert "waiting room was cold" in heard[0].text.lower(), "the speech was transcribed"
    assert CAPTION.lower() not in heard[0].text.lower(), "the transcript row holds what was said, not the caption"
    assert answer.value == f"{CAPTION}. {heard[0].text}", "the caption first, as written, then the transcript"
    assert (answer.source, answer.inbound_id, heard[0].answer_id) == ("voice", note.id, answer.id)
    assert (note.text, note.status) == (CAPTION, "processed")


def by_voice(replies: Callable[[int], list[str]], send: Callable[[], None], confirm: Callable[[], None]) -> str:
    """Send the note; return the next question. If tiny.en was unsure and the answer is read back,
    the read-back holds the caption and the transcript, and YES counts it."""
    before = len(replies(0))
    send()
    reply = str(wait_for(lambda: replies(before), REPLY_WAIT, "a reply to the voice note")[0])
    if reply.startswith("I heard:"):
        assert CAPTION in reply and "waiting room" in reply.lower(), reply
        before = len(replies(0))
        confirm()
        reply = str(wait_for(lambda: replies(before), REPLY_WAIT, "the next question")[0])
    return reply


# ----------------------------------------------------------------------------- Telegram


class TelegramChat:
    """One participant on Telegram, posting updates to Chorus's webhook."""

    def __init__(self, running: Running, fake: FakeTelegram) -> None:
        self.running, self.fake = running, fake

    def post(self, update: dict[str, Any]) -> None:
        response = self.running.client.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
        assert response.status_code == 200, response.text

    def replies(self, before: int) -> list[str]:
        return self.fake.texts_to(CHAT)[before:]

    def say(self, update: dict[str, Any], what: str) -> None:
        before = len(self.replies(0))
        self.post(update)
        wait_for(lambda: any(what in text for text in self.replies(before)), REPLY_WAIT, repr(what))

    def to_story(self) -> None:
        """Join the example study and answer up to its open question, which takes voice."""
        self.say(self.fake.message_update(CHAT, "/start wait"), "Reply YES to take part")
        self.say(self.fake.callback_update(CHAT, "yes"), "Which best describes you?")
        self.say(self.fake.callback_update(CHAT, "patient"), "How many times")
        self.say(self.fake.message_update(CHAT, "2"), STORY)

    def spoken_update(self, audio: bytes, caption: str, kind: str = "voice") -> dict[str, Any]:
        """A voice note (or audio file, video note, audio document) whose file is ``audio``, with ``caption``."""
        fmt, content_type = KINDS[kind]
        if kind == "document":
            file_id = f"doc-{len(self.fake._files)}"
            item: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id + "u", "file_name": f"answer.{fmt}"}
            update = self.fake.message_update(CHAT, None, document=item)
        else:
            update = self.fake.voice_update(CHAT, kind)
            item = update["message"][kind]
        item.update(file_size=len(audio), **({"mime_type": content_type} if content_type else {}))
        self.fake._files[item["file_id"]] = audio
        update["message"]["caption"] = caption
        return update

    def confirm(self) -> None:
        self.post(self.fake.callback_update(CHAT, "yes"))


def test_a_captioned_telegram_voice_note_answers_with_the_caption_then_the_transcript(
    database_url: str, tmp_path: Path, fake_telegram: tuple[FakeTelegram, str], spoken: dict[str, bytes], whisper: WhisperTranscriber,
) -> None:
    fake, url = fake_telegram
    audio_dir = tmp_path / "audio"
    with chorus_with_voice(database_url, provider_env(fake, url), audio_dir, whisper) as running:
        chat = TelegramChat(running, fake)
        chat.to_story()
        next_question = by_voice(chat.replies, lambda: chat.post(chat.spoken_update(spoken["ogg"], CAPTION)), chat.confirm)
        assert next_question.startswith(NEXT)
        check_caption_then_transcript(running)
        assert len(fake.calls_to("getFile")) == 1, "the note was fetched to be transcribed"
        assert [p for p in audio_dir.rglob("*") if p.is_file()] == [], "no audio left behind"
        assert rows(running, FLAGS) == []


@pytest.mark.parametrize("kind", ["audio", "video_note", "document"])
def test_an_audio_file_a_video_note_or_an_audio_document_with_a_caption_is_transcribed_too(
    kind: str, tmp_path: Path, fake_telegram: tuple[FakeTelegram, str], spoken: dict[str, bytes], whisper: WhisperTranscriber,
) -> None:
    fake, url = fake_telegram
    with chorus_with_voice(f"sqlite:///{tmp_path / 'c.db'}", provider_env(fake, url), tmp_path / "audio", whisper) as running:
        chat = TelegramChat(running, fake)
        chat.to_story()
        update = chat.spoken_update(spoken[KINDS[kind][0]], CAPTION, kind)
        assert by_voice(chat.replies, lambda: chat.post(update), chat.confirm).startswith(NEXT)
        check_caption_then_transcript(running)


FAILURES = {"corrupt": b"OggS\x00this is not really a voice note", "silence": None}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_a_captioned_voice_note_that_gives_no_transcript_keeps_the_caption_as_the_answer_and_is_flagged(
    kind: str, database_url: str, tmp_path: Path, fake_telegram: tuple[FakeTelegram, str], whisper: WhisperTranscriber,
) -> None:
    fake, url = fake_telegram
    audio = FAILURES[kind] or voice_helpers.silence(tmp_path / "silence.ogg").read_bytes()
    with chorus_with_voice(database_url, provider_env(fake, url), tmp_path / "audio", whisper) as running:
        chat = TelegramChat(running, fake)
        chat.to_story()
        chat.say(chat.spoken_update(audio, CAPTION), NEXT)

        answers = rows(running, ANSWERS, ANSWERS.c.step_id == "story")
        assert [(a.value, a.source) for a in answers] == [(CAPTION, "text")], "the caption alone is the answer, once"
        failed = rows(running, TRANSCRIPTS)
        assert [(t.status, t.error_kind, t.text, t.step_id) for t in failed] == [("failed", kind, "", "story")]
        flags = rows(running, FLAGS, FLAGS.c.kind == "voice_failed")
        assert len(flags) == 1 and flags[0].step_id == "story"
        assert kind in flags[0].message and "its caption was taken as the answer" in flags[0].message
        note = voice_messages(running)[-1]
        assert note.status == "processed" and note.error.startswith(f"{kind}: "), "the failure stays on the message"
        assert BUILT_IN_TEXTS[f"voice.{kind}"]["en"] not in chat.replies(0), "not asked to type what was answered"
        assert chat.replies(0)[-1].startswith(NEXT)


def test_a_caption_that_is_a_command_is_obeyed_and_the_note_is_not_transcribed(
    tmp_path: Path, fake_telegram: tuple[FakeTelegram, str], spoken: dict[str, bytes], whisper: WhisperTranscriber,
) -> None:
    fake, url = fake_telegram
    with chorus_with_voice(f"sqlite:///{tmp_path / 'c.db'}", provider_env(fake, url), tmp_path / "audio", whisper) as running:
        chat = TelegramChat(running, fake)
        chat.to_story()
        chat.say(chat.spoken_update(spoken["ogg"], "/stop"), "no more messages")
        running.settle()
        assert fake.calls_to("getFile") == [], "STOP needs no audio: the note is neither fetched nor kept"
        assert rows(running, TRANSCRIPTS) == [] and rows(running, ANSWERS, ANSWERS.c.step_id == "story") == []
        assert voice_messages(running)[-1].status == "processed"


# ----------------------------------------------------------------------------- WhatsApp (Twilio)


def test_a_whatsapp_voice_note_with_a_body_answers_with_the_body_then_the_transcript(
    tmp_path: Path, fake_twilio: FakeTwilio, spoken: dict[str, bytes], whisper: WhisperTranscriber,
) -> None:
    fake, sender = fake_twilio, "whatsapp:" + PHONE
    env = provider_env(twilio=fake, twilio_url=fake.url)
    with chorus_with_voice(f"sqlite:///{tmp_path / 'c.db'}", env, tmp_path / "audio", whisper) as running:
        count = iter(range(1000))

        def post(body: str = "", **extra: str) -> None:
            form = {"MessageSid": f"SM{next(count):032x}", "AccountSid": fake.account_sid, "From": sender,
                    "To": "whatsapp:+447700900888", "Body": body, "NumMedia": "0", **extra}
            response = post_twilio(running, form, fake.auth_token)
            assert response.status_code == 200 and "<Response/>" in response.text

        def replies(before: int) -> list[str]:
            return fake.bodies_to(sender)[before:]

        for said, asked in (("WAIT", "Reply YES"), ("YES", "Which best describes you?"), ("1", "How many times"), ("2", STORY)):
            before = len(replies(0))
            post(said)
            wait_for(lambda: any(asked in text for text in replies(before)), REPLY_WAIT, repr(asked))  # noqa: B023

        def voice_note() -> None:
            post(CAPTION, NumMedia="1", MediaUrl0=fake.add_media(spoken["ogg"]), MediaContentType0="audio/ogg")

        assert by_voice(replies, voice_note, lambda: post("YES")).startswith(NEXT)
        check_caption_then_transcript(running)


# ----------------------------------------------------------------------------- how the two are joined


@pytest.mark.parametrize(("caption", "transcript", "answer"), [
    ("my answer", "It was cold.", "my answer. It was cold."),
    ("Four hours!", " It was cold. ", "Four hours! It was cold."),
    ("  ", "It was cold.", "It was cold."),
    ("my answer", "", "my answer"),
])
def test_the_caption_comes_first_then_what_was_said(caption: str, transcript: str, answer: str) -> None:
    assert captioned(caption, transcript) == answer
