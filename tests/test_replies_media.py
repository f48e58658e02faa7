"""A photo, sticker, video or file sent without words: recorded, answered by saying what we can
read (voice notes only where the channel and the question take them), and never one of the
question's tries. Through the conversation service (and Telegram's webhook end to end)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.inbound import awaits_transcript
from bot.safeguarding import checks_from_env
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels import telegram, twilio
from channels.base import InboundMessage, Media
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, INBOUND
from tests.channel_helpers import TELEGRAM_SECRET, provider_env, running_chorus
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for

Say = Callable[..., ReceiveResult]
PHONE = "+447700900001"
ROLE = "Which best describes you?"
VOICE_OR_TEXT = "Sorry, we can only read text and voice notes. Please type your answer, or send a voice note."
TEXT_ONLY = "Sorry, we can only read text. Please type your answer."


def photo_on_whatsapp(sender: str = PHONE, content_type: str = "image/jpeg") -> InboundMessage:
    """A WhatsApp photo with no caption, as Twilio's webhook posts it."""
    media_id = "ME" + secrets.token_hex(16)
    return twilio.parse_message({
        "MessageSid": "MM" + secrets.token_hex(16), "From": f"whatsapp:{sender}", "Body": "", "NumMedia": "1",
        "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/{media_id}",
        "MediaContentType0": content_type,
    })


def texts(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


def session_state(service: ConversationService, pid: str) -> dict[str, Any]:
    with service.database.transaction() as connection:
        session = repository.latest_session(connection, pid)
    assert session is not None
    return {"status": session.status, **session.state}


def answered(database: Database, pid: str) -> list[tuple[str, object, bool]]:
    with database.transaction() as connection:
        query = select(ANSWERS.c.step_id, ANSWERS.c.value, ANSWERS.c.skipped).where(ANSWERS.c.participant_id == pid)
        return [(row[0], row[1], row[2]) for row in connection.execute(query.order_by(ANSWERS.c.id))]


def test_photos_on_whatsapp_get_told_what_we_read_and_use_up_no_tries(service: ConversationService, database: Database, say: Say) -> None:
    pid = say("WAIT", channel="whatsapp").participant_id
    say("yes", channel="whatsapp")
    assert pid is not None
    for _ in range(4):  # more than the question's three tries
        sent = service.receive(photo_on_whatsapp())
        assert sent.status == "processed" and texts(service, sent) == [VOICE_OR_TEXT]
        state = session_state(service, pid)
        assert (state["status"], state["step"], state["tries"]) == ("waiting", "role", 0)
    assert answered(database, pid) == [("consent", "yes", False)], "nothing skipped, nothing recorded as an answer"
    with database.transaction() as connection:
        photos = connection.execute(select(INBOUND.c.text, INBOUND.c.media, INBOUND.c.status).where(INBOUND.c.text == "")).all()
    assert len(photos) == 4 and all(media[0]["content_type"] == "image/jpeg" and status == "processed" for _, media, status in photos)
    assert "How many times" in texts(service, say("1", channel="whatsapp"))[0], "the question still takes its answer"


def test_a_tries_count_is_kept_across_a_photo(service: ConversationService, database: Database, say: Say) -> None:
    pid = say("WAIT", channel="whatsapp").participant_id
    say("yes", channel="whatsapp")
    assert pid is not None
    say("purple", channel="whatsapp")
    service.receive(photo_on_whatsapp(content_type="video/mp4"))
    assert session_state(service, pid)["tries"] == 1
    say("green", channel="whatsapp")
    assert texts(service, say("orange", channel="whatsapp"))[0] == "Let's leave that one and move on.", "three words, three tries"


def test_an_empty_sms_gets_asked_to_type_with_no_voice_notes_offered(service: ConversationService, say: Say) -> None:
    pid = say("WAIT").participant_id
    say("yes")
    assert pid is not None
    assert texts(service, say("")) == [TEXT_ONLY]
    assert session_state(service, pid)["tries"] == 0


def test_a_photo_while_snoozed_gets_the_question_again(service: ConversationService, say: Say) -> None:
    pid = say("WAIT", channel="whatsapp").participant_id
    say("yes", channel="whatsapp")
    say("later", channel="whatsapp")
    assert pid is not None
    assert texts(service, service.receive(photo_on_whatsapp())) == [VOICE_OR_TEXT, ROLE]
    assert session_state(service, pid)["status"] == "waiting"


def test_the_reply_is_in_the_participants_language(service: ConversationService, say: Say) -> None:
    say("WAIT", channel="whatsapp")
    say("CYMRAEG", channel="whatsapp")
    assert texts(service, service.receive(photo_on_whatsapp())) == [
        "Mae'n ddrwg gennym, dim ond testun a negeseuon llais y gallwn ni eu darllen. Teipiwch eich ateb, neu anfonwch neges llais."]


def test_a_stranger_sending_a_photo_is_told_how_to_join(service: ConversationService) -> None:
    result = service.receive(photo_on_whatsapp("+447700900077"))
    assert result.status == "not_enrolled"
    assert texts(service, result) == ["Hello. To take part in Waiting in A&E, reply WAIT."]


TYPED = {"flow": "typed", "steps": [
    {"id": "story", "type": "open", "text": "Tell us in writing, please.", "accept": ["text"]},
    {"id": "bye", "type": "end", "text": "Thank you."},
]}


@pytest.fixture
def typed_only(database: Database, tmp_path: Path, clock: FakeClock) -> ConversationService:
    folder = tmp_path / "typed"
    folder.mkdir()
    study = {"study": "typed", "title": "Typed", "languages": ["en"], "join": {"start_flow": "typed", "keyword": "TYPE"},
             "flows": ["typed.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    (folder / "typed.yaml").write_text(yaml.safe_dump(TYPED), encoding="utf-8")
    return ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


def test_a_question_that_wants_typing_offers_no_voice_notes(typed_only: ConversationService) -> None:
    typed_only.receive(InboundMessage("whatsapp", PHONE, "wa-1", "TYPE"))
    assert texts(typed_only, typed_only.receive(photo_on_whatsapp())) == [TEXT_ONLY]


# ----------------------------------------------------------------------------- Telegram

BOT = telegram.make_bot(telegram.TelegramSettings("123456:test-token"))
CHAT = 515151


def parsed(fake: FakeTelegram, **content: Any) -> InboundMessage:
    found = telegram.parse_update(fake.message_update(CHAT, None, **content), BOT).message
    assert found is not None
    return found


def file(file_id: str, **extra: Any) -> dict[str, Any]:
    return {"file_id": file_id, "file_unique_id": file_id + "-u", **extra}


def test_telegram_media_without_a_caption_is_kept_with_its_kind() -> None:
    fake = FakeTelegram()
    photo = parsed(fake, photo=[file("small", width=90, height=90, file_size=900), file("large", width=800, height=800, file_size=8000)])
    assert photo.text == "" and photo.media == (Media("telegram-file:large", "image/jpeg", 8000, "large"),)
    sticker = parsed(fake, sticker=file("st", type="regular", width=512, height=512, is_animated=False, is_video=False))
    moving = parsed(fake, sticker=file("mv", type="regular", width=512, height=512, is_animated=False, is_video=True))
    document = parsed(fake, document=file("doc", file_name="scan.pdf", mime_type="application/pdf", file_size=1234))
    video = parsed(fake, video=file("vid", width=640, height=480, duration=5))
    gif = parsed(fake, animation=file("gif", width=200, height=200, duration=2), document=file("gif"))
    kinds = [m.media[0].content_type for m in (sticker, moving, document, video, gif)]
    assert kinds == ["image/webp", "video/webm", "application/pdf", "video/mp4", "video/mp4"]
    assert not any(awaits_transcript(m) for m in (photo, sticker, moving, document, video, gif))
    captioned = parsed(fake, photo=[file("p", width=1, height=1)], caption="the queue at 3am")
    assert captioned.text == "the queue at 3am" and captioned.media[0].content_type == "image/jpeg"


def test_a_telegram_video_note_waits_for_its_transcript_as_a_voice_note_does() -> None:
    note = telegram.parse_update(FakeTelegram().voice_update(CHAT, "video_note"), BOT).message
    assert note is not None and note.media[0].content_type == "audio/mp4" and awaits_transcript(note)


def test_a_photo_on_telegram_is_answered_end_to_end(database_url: str) -> None:
    fake = FakeTelegram()
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    with LocalServer(fake.app) as server, running_chorus(database_url, provider_env(fake, server.url)) as running:
        def send(update: dict[str, Any], replies: int) -> list[str]:
            before = len(fake.texts_to(CHAT))
            assert running.client.post("/webhooks/telegram", json=update, headers=headers).status_code == 200
            wait_for(lambda: len(fake.texts_to(CHAT)) >= before + replies, what=f"{replies} replies")
            return fake.texts_to(CHAT)[before:]

        assert "Reply YES to take part" in send(fake.message_update(CHAT, "/start wait"), 1)[0]
        for number in range(3):
            photo = [file(f"photo-{number}", width=800, height=600, file_size=5000)]
            assert send(fake.message_update(CHAT, None, photo=photo), 1) == [VOICE_OR_TEXT]
        assert send(fake.message_update(CHAT, "yes"), 1) == [ROLE], "the consent question was still being asked"
        running.settle()
        assert running.inbound_count() == 5
