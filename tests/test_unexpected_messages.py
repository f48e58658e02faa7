"""Messages Chorus cannot read get a clear reply, and nothing of what they hold is kept.

A Telegram location, live location, venue, contact, poll or dice (and a WhatsApp location or
contact card, an MMS picture) is answered as a photo is, and recorded by its kind alone. An
edited Telegram message is not read: the answer it gave stands, and the participant is told
how to change it, once however often the webhook is retried. End to end through the real
webhooks (the fake Telegram Bot API, signed Twilio webhooks), and through the service."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.service import ConversationService, ReceiveResult
from channels import telegram, twilio
from channels.base import EDITED, InboundMessage, Media, is_edit
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, INBOUND
from tests.channel_helpers import (
    TELEGRAM_SECRET,
    post_twilio,
    provider_env,
    running_chorus,
    update_and_settle,
)
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

CHAT = 626262
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
BOT = telegram.make_bot(telegram.TelegramSettings("123456:test-token"))
VOICE_OR_TEXT = "Sorry, we can only read text and voice notes. Please type your answer, or send a voice note."
TEXT_ONLY = "Sorry, we can only read text. Please type your answer."
EDIT_NOTICE = ("Sorry, we can't read edited messages: we still have what yours said at first. "
               "To change an answer, send the new one (e.g. \"sorry I meant 3\"), or reply BACK.")
EDIT_NOTICE_CY = ("Mae'n ddrwg gennym, allwn ni ddim darllen negeseuon wedi'u golygu: mae gennym ni'r hyn roedd eich neges "
                  "yn ei ddweud i ddechrau. I newid ateb, anfonwch yr ateb newydd (e.e. \"sori, 3 o'n i'n feddwl\"), neu atebwch YN ÔL.")
ROLE = "Which best describes you?"
VISITS = "How many times have you been to A&E in the last year?"

# What the participant shares, none of which may be kept anywhere.
LATITUDE, LONGITUDE = "51.50736", "-3.19047"
PRIVATE = ("51.507", "-3.190", "07700900777", "7700900777", "Megan Prydderch", "Ysbyty Athrofaol", "Heol Fictoria",
           "Which ward were you on", "staff car park level 2")
PLACE = {"latitude": float(LATITUDE), "longitude": float(LONGITUDE)}
SHARED: dict[str, dict[str, Any]] = {
    "location": {"location": PLACE},
    "live location": {"location": {**PLACE, "live_period": 900}},
    "venue": {"venue": {"location": PLACE, "title": "Ysbyty Athrofaol", "address": "Heol Fictoria"}, "location": PLACE},
    "contact": {"contact": {"phone_number": "+447700900777", "first_name": "Megan", "last_name": "Prydderch"}},
    "poll": {"poll": {"id": "p1", "question": "Which ward were you on?",
                      "options": [{"text": t, "voter_count": 0, "persistent_id": t} for t in "AB"],
                      "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
                      "allows_multiple_answers": False, "allows_revoting": False,
                      "members_only": False}},
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
}


def everything_stored(database: Database) -> str:
    """Every row of every table (storage.tables, registered with SQLModel's metadata), as text."""
    with database.transaction() as connection:
        return "\n".join(repr(connection.execute(select(table)).all()) for table in SQLModel.metadata.sorted_tables)


def edit_of(fake: FakeTelegram, original: dict[str, Any], chat: int = CHAT, **content: Any) -> dict[str, Any]:
    """Telegram's update for an edit of ``original`` (a message update) to ``content``: its own update id."""
    update = fake.message_update(chat, None)
    message = {**update.pop("message"), "message_id": original["message"]["message_id"], "edit_date": int(time.time()), **content}
    return {**update, "edited_message": message}


def inbound_rows(database: Database) -> list[tuple[str, str, list[dict[str, Any]]]]:
    with database.transaction() as connection:
        query = select(INBOUND.c.status, INBOUND.c.text, INBOUND.c.media).order_by(INBOUND.c.id)
        return [(row[0], row[1], list(row[2] or [])) for row in connection.execute(query)]


def answers_to(database: Database, step: str) -> list[Any]:
    with database.transaction() as connection:
        query = select(ANSWERS.c.value).where(ANSWERS.c.step_id == step).order_by(ANSWERS.c.id)
        return list(connection.execute(query).scalars())


# ----------------------------------------------------------------------------- parsing


def test_a_location_contact_poll_or_dice_is_kept_by_its_kind_alone() -> None:
    fake = FakeTelegram()
    kinds = {}
    for name, content in SHARED.items():
        message = telegram.parse_update(fake.message_update(CHAT, None, **content), BOT).message
        assert message is not None, name
        assert message.text == "" and len(message.media) == 1 and not is_edit(message.media), name
        assert not any(secret in repr(message) for secret in (*PRIVATE, LATITUDE)), name
        kinds[name] = message.media[0].content_type
    assert kinds == {"location": "application/x-telegram-location", "live location": "application/x-telegram-location",
                     "venue": "application/x-telegram-venue", "contact": "application/x-telegram-contact",
                     "poll": "application/x-telegram-poll", "dice": "application/x-telegram-dice"}
    pinned = fake.message_update(CHAT, None, pinned_message={"message_id": 1, "date": 0, "chat": {"id": CHAT, "type": "private"}})
    assert telegram.parse_update(pinned, BOT).message is None, "a service message says nothing"


def test_an_edit_is_marked_as_one_and_is_not_read_as_an_answer() -> None:
    """Its words ride on the edit mark until the service reads them once for STOP, START and
    words of risk (bot/edit_notices.py); the end-to-end test below checks none is kept."""
    fake = FakeTelegram()
    original = fake.message_update(CHAT, "7")
    edit = edit_of(fake, original, text="3, sorry, the night nurse Megan Prydderch")
    message = telegram.parse_update(edit, BOT, telegram.Ticks()).message
    assert message is not None and is_edit(message.media) and message.text == "" and message.button is None
    assert message.provider_id == str(edit["update_id"]) != str(original["update_id"])
    from bot.edit_notices import words_of_edit
    assert words_of_edit([{"url": m.url, "content_type": m.content_type} for m in message.media]).endswith("Megan Prydderch")
    live = fake.message_update(CHAT, None, location={**PLACE, "live_period": 900})
    moved = edit_of(fake, live, location={"latitude": 51.6, "longitude": -3.2, "live_period": 900})
    assert telegram.parse_update(moved, BOT) == telegram.ParsedUpdate(), "a live location moving is not answered"
    group = edit_of(fake, original, text="3")
    group["edited_message"]["chat"] = {"id": -100, "type": "group", "title": "Ward"}
    assert telegram.parse_update(group, BOT) == telegram.ParsedUpdate()


def twilio_form(sender: str, **fields: str) -> dict[str, str]:
    return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+447700900999",
            "Body": "", "NumMedia": "0", **fields}


def whatsapp_location(sender: str, body: str = "") -> dict[str, str]:
    return twilio_form(sender, Body=body, Latitude=LATITUDE, Longitude=LONGITUDE, Address="Heol Fictoria",
                       Label="Ysbyty Athrofaol", MessageType="location")


def whatsapp_contact(sender: str, body: str = "") -> dict[str, str]:
    media = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME" + secrets.token_hex(16)
    return twilio_form(sender, Body=body, NumMedia="1", MediaUrl0=media, MediaContentType0="text/vcard", MessageType="contacts")


def test_a_whatsapp_location_or_contact_card_keeps_no_place_name_number_or_link() -> None:
    sender = "whatsapp:+447700900321"
    located = twilio.parse_message(whatsapp_location(sender, body=f"https://maps.google.com/?q={LATITUDE},{LONGITUDE}"))
    assert located.text == "" and located.media == (Media("twilio:location", "application/x-whatsapp-location"),)
    card = twilio.parse_message(whatsapp_contact(sender, body="Megan Prydderch"))
    assert card.text == "" and card.media == (Media("twilio:contact", "text/vcard"),)
    for message in (located, card):
        assert not any(secret in repr(message) for secret in (*PRIVATE, LATITUDE, "api.twilio.com"))
    mms = twilio.parse_message(twilio_form("+447700900321", Body="our ward's number", NumMedia="1", MediaContentType0="text/x-vcard",
                                           MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM2/Media/ME2"))
    assert mms.text == "our ward's number", "what someone typed beside a card by MMS is read"


# ----------------------------------------------------------------------------- Telegram, end to end


@pytest.fixture
def fake_telegram_server() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        yield fake, server.url



def test_a_location_contact_or_poll_mid_question_is_answered_and_nothing_of_it_kept(
    database_url: str, fake_telegram_server: tuple[FakeTelegram, str], caplog: pytest.LogCaptureFixture,
) -> None:
    fake, url = fake_telegram_server
    caplog.set_level(logging.DEBUG)
    with running_chorus(database_url, provider_env(fake, url)) as running:
        update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "/start wait"))
        assert update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "yes")) == [ROLE]
        sent = {name: fake.message_update(CHAT, None, **content) for name, content in SHARED.items()}
        for name, update in sent.items():
            assert update_and_settle(running, fake, CHAT, update) == [VOICE_OR_TEXT], name
        moved = edit_of(fake, sent["live location"], location={"latitude": 51.6, "longitude": -3.2, "live_period": 900})
        assert update_and_settle(running, fake, CHAT, moved, replies=0) == [], "a live location's moves are not answered, nor kept"
        assert update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "1"))[0].startswith(VISITS), "no try of the question used up"
        database = running.chorus.database
        rows = inbound_rows(database)
        assert [media[0]["content_type"] for _, text, media in rows if not text] == [
            "application/x-telegram-location", "application/x-telegram-location", "application/x-telegram-venue",
            "application/x-telegram-contact", "application/x-telegram-poll", "application/x-telegram-dice"]
        assert [status for status, _, _ in rows] == ["joined"] + ["processed"] * (len(rows) - 1)
        stored = everything_stored(database)
    assert "application/x-telegram-contact" in stored, "(the dump holds the inbox)"
    assert not [secret for secret in PRIVATE if secret in stored]
    said = "\n".join(record.getMessage() for record in caplog.records)
    assert not [secret for secret in PRIVATE if secret in said]


def test_an_edit_is_answered_once_and_the_answer_first_given_stands(
    database_url: str, fake_telegram_server: tuple[FakeTelegram, str],
) -> None:
    fake, url = fake_telegram_server
    with running_chorus(database_url, provider_env(fake, url)) as running:
        update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "/start wait"))
        update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "yes"))
        assert update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "1"))[0].startswith(VISITS)
        seven = fake.message_update(CHAT, "7")
        assert update_and_settle(running, fake, CHAT, seven)[0].startswith("What was waiting like?")
        edit = edit_of(fake, seven, text="three")
        assert update_and_settle(running, fake, CHAT, edit) == [EDIT_NOTICE]
        retried = [running.client.post("/webhooks/telegram", json=edit, headers=HEADERS) for _ in range(2)]
        assert [r.headers["X-Chorus-Inbox"] for r in retried] == ["duplicate", "duplicate"]
        running.settle()
        assert fake.texts_to(CHAT).count(EDIT_NOTICE) == 1, "a retried webhook of the edit is not answered again"
        database = running.chorus.database
        assert answers_to(database, "visits") == [7]
        edits = [(status, text, media) for status, text, media in inbound_rows(database) if is_edit(media)]
        assert edits == [("edited", "", [{"url": "telegram:edited", "content_type": EDITED, "size": None}])]
        assert "three" not in everything_stored(database)
        assert update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "sorry I meant 3"))[0].startswith("Changed your answer to 3")
        assert answers_to(database, "visits")[-1] == 3, "what the notice says to do changes the answer"


def test_telegram_is_asked_for_edits_by_webhook_and_by_polling(
    tmp_path: Any, fake_telegram_server: tuple[FakeTelegram, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    fake, url = fake_telegram_server
    for key, value in provider_env(fake, url).items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert "edited_message" in fake.webhook["allowed_updates"]
    with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(fake, url), polling=True) as running:
        fake.queue_update(fake.message_update(CHAT, "/start wait"))
        wait_for(lambda: fake.texts_to(CHAT), what="the consent question")
        yes = fake.message_update(CHAT, "yes")
        fake.queue_update(yes)
        wait_for(lambda: ROLE in fake.texts_to(CHAT), what="the role question")
        fake.queue_update(edit_of(fake, yes, text="no"))
        wait_for(lambda: EDIT_NOTICE in fake.texts_to(CHAT), what="the edit's notice")
        running.settle()
        assert running.chorus.service.session_status(running.chorus.service.participant_for("telegram", str(CHAT))) == "waiting"
    assert all("edited_message" in call["allowed_updates"] for call in fake.calls_to("getUpdates"))


# ----------------------------------------------------------------------------- WhatsApp and SMS, end to end


def test_a_whatsapp_location_or_contact_card_and_an_mms_picture_are_answered_and_keep_nothing(tmp_path: Any) -> None:
    fake_tw = FakeTwilio()
    whatsapp, sms = "whatsapp:+447700900321", "+447700900654"
    with LocalServer(fake_tw.app) as server:
        fake_tw.url = server.url
        with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(twilio=fake_tw, twilio_url=server.url)) as running:
            def say(form: dict[str, str]) -> list[str]:
                before = len(fake_tw.bodies_to(form["From"]))
                assert post_twilio(running, form, fake_tw.auth_token).status_code == 200
                wait_for(lambda: len(fake_tw.bodies_to(form["From"])) > before, what="a reply")
                running.settle()
                return fake_tw.bodies_to(form["From"])[before:]

            for sender in (whatsapp, sms):
                say(twilio_form(sender, Body="WAIT"))
                assert say(twilio_form(sender, Body="yes"))[0].startswith(ROLE)
            assert say(whatsapp_location(whatsapp)) == [VOICE_OR_TEXT]
            assert say(whatsapp_location(whatsapp, body=f"https://maps.google.com/?q={LATITUDE},{LONGITUDE}")) == [VOICE_OR_TEXT]
            assert say(whatsapp_contact(whatsapp)) == [VOICE_OR_TEXT]
            assert say(whatsapp_contact(whatsapp, body="Megan Prydderch")) == [VOICE_OR_TEXT]
            picture = fake_tw.add_media(b"\xff\xd8\xff\xe0 a jpeg")
            mms = twilio_form(sms, NumMedia="1", MediaContentType0="image/jpeg",
                              MediaUrl0=f"{server.url}/2010-04-01/Accounts/{fake_tw.account_sid}/Messages/MM1/Media/{picture}")
            assert say(mms) == [TEXT_ONLY], "no voice notes offered by SMS"
            for sender in (whatsapp, sms):
                assert say(twilio_form(sender, Body="1"))[0].startswith(VISITS), "no try used up"
            stored = everything_stored(running.chorus.database)
    assert "twilio:contact" in stored and "x-whatsapp-location" in stored
    assert not [secret for secret in (*PRIVATE, "maps.google", "/Messages/MM1/Media/ME") if secret in stored]


# ----------------------------------------------------------------------------- the service


TG = "515253"


def tg(text: str = "", start_param: str | None = None) -> InboundMessage:
    return InboundMessage("telegram", TG, "tg-" + secrets.token_hex(6), text, start_param=start_param)


def an_edit(address: str = TG, channel: str = "telegram") -> InboundMessage:
    return InboundMessage(channel, address, "edit-" + secrets.token_hex(6), media=(Media("telegram:edited", EDITED),))


def replies(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


def session_of(service: ConversationService, pid: str | None) -> tuple[str, str | None]:
    assert pid is not None
    with service.database.transaction() as connection:
        session = repository.latest_session(connection, pid)
    assert session is not None
    return session.status, session.state.get("step")


def test_an_edit_is_told_in_welsh_and_leaves_a_snoozed_question_snoozed(service: ConversationService) -> None:
    pid = service.receive(tg("START", "wait")).participant_id
    service.receive(tg("CYMRAEG"))
    service.receive(tg("ydw"))
    before = session_of(service, pid)
    edit = an_edit()
    result = service.receive(edit)
    assert (result.status, replies(service, result)) == ("edited", [EDIT_NOTICE_CY])
    assert session_of(service, pid) == before
    assert service.receive(edit).status == "duplicate"
    service.receive(tg("later"))
    assert session_of(service, pid)[0] == "snoozed"
    assert replies(service, service.receive(an_edit())) == [EDIT_NOTICE_CY]
    assert session_of(service, pid)[0] == "snoozed", "an edit is no reply to the snoozed question"


def test_an_edit_after_the_end_stop_or_from_a_stranger_gets_what_any_wordless_message_would(service: ConversationService) -> None:
    pid = service.receive(tg("START", "wait")).participant_id
    for answer in ("yes", "1", "7", "the wait was long and nobody told us anything", "2"):
        service.receive(tg(answer))
    assert session_of(service, pid)[0] == "ended"
    result = service.receive(an_edit())
    assert (result.status, replies(service, result)) == ("edited", ["Thank you, that's all for now."])
    service.receive(tg("STOP"))
    result = service.receive(an_edit())
    assert (result.status, result.outbox_ids) == ("edited", ())
    stranger = service.receive(an_edit("919191"))
    assert replies(service, stranger) == ["Hello. To take part in Waiting in A&E, reply WAIT."]


def test_only_a_channel_that_reports_edits_can_send_one(service: ConversationService) -> None:
    phone = "+447700900888"
    service.receive(InboundMessage("whatsapp", phone, "wa-1", "WAIT"))
    service.receive(InboundMessage("whatsapp", phone, "wa-2", "yes"))
    result = service.receive(an_edit(phone, "whatsapp"))
    assert (result.status, replies(service, result)) == ("processed", [VOICE_OR_TEXT])
