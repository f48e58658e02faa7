"""SMS and WhatsApp end to end: webhooks signed with the twilio library's RequestValidator,
sends through twilio.rest.Client to a local server speaking Twilio's Messages API."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from channels import twilio
from channels.base import OutboundMessage
from channels.errors import ContactStopped, InvalidAddress, ServerError, Throttled
from flows.events import Button
from flows.sms import count_segments
from tests.channel_helpers import (
    PUBLIC_URL,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
    sign,
    twilio_form,
)
from tests.fake_telegram import wait_for
from tests.fake_twilio import VOICE_BYTES, FakeTwilio

PHONE = "+447700900123"


def text(running: Running, fake: FakeTwilio, sender: str, body: str, replies: int = 1, **extra: str) -> list[str]:
    to = sender
    before = len(fake.bodies_to(to))
    response = post_twilio(running, twilio_form(sender, body, **extra), fake.auth_token)
    assert response.status_code == 200 and "<Response/>" in response.text
    wait_for(lambda: len(fake.bodies_to(to)) >= before + replies, what=f"{replies} replies")
    return fake.bodies_to(to)[before:]


@pytest.mark.parametrize("sender", [PHONE, "whatsapp:" + PHONE], ids=["sms", "whatsapp"])
def test_a_participant_completes_the_study_by_sms_and_whatsapp_with_stop_and_start(
    database_url: str, fake_twilio: FakeTwilio, sender: str
) -> None:
    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url)) as running:
        assert "Reply YES to take part" in text(running, fake, sender, "WAIT")[0]
        role = text(running, fake, sender, "YES")[0]
        assert role.startswith("Which best describes you?") and "1) Patient" in role
        assert "How many times" in text(running, fake, sender, "1")[0]
        assert "no more messages" in text(running, fake, sender, "STOP")[0]
        count = len(fake.messages)
        post_twilio(running, twilio_form(sender, "5"), fake.auth_token)
        running.settle()
        assert len(fake.messages) == count, "nothing is sent while stopped"
        assert text(running, fake, sender, "START", replies=2)[1].startswith("How many times")
        assert "What was waiting like" in text(running, fake, sender, "5")[0]
        assert "kept informed" in text(running, fake, sender, "Long and cold")[0]
        assert "Thank you" in text(running, fake, sender, "4")[0]
        expected_from = "whatsapp:+447700900888" if sender.startswith("whatsapp:") else "+447700900999"
        assert {m["from"] for m in fake.messages} == {expected_from}
        assert all(m["status_callback"] == PUBLIC_URL + "/webhooks/twilio/status" for m in fake.messages)
        assert running.inbound_count() == 9


def test_a_whatsapp_voice_note_is_stored_and_fetched_with_the_account_credentials(tmp_path: Any, fake_twilio: FakeTwilio) -> None:
    fake = fake_twilio
    with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(twilio=fake, twilio_url=fake.url)) as running:
        sender = "whatsapp:" + PHONE
        text(running, fake, sender, "WAIT")
        url = fake.add_media()
        post_twilio(running, twilio_form(sender, "", NumMedia="1", MediaUrl0=url, MediaContentType0="audio/ogg"), fake.auth_token)
        with running.chorus.database.transaction() as connection:
            from sqlalchemy import select

            from storage.tables import INBOUND

            media, status = connection.execute(select(INBOUND.c.media, INBOUND.c.status).order_by(INBOUND.c.id.desc())).first()
        assert status in ("awaiting_transcript", "transcribing", "transcription_failed") and media[0]["content_type"] == "audio/ogg"
        assert asyncio.run(twilio.fetch_media(running.hub.twilio_settings, media[0]["url"])) == VOICE_BYTES  # type: ignore[arg-type]


def test_delivery_callbacks_mark_messages_delivered_or_failed(tmp_path: Any, fake_twilio: FakeTwilio) -> None:
    fake = fake_twilio
    with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(twilio=fake, twilio_url=fake.url)) as running:
        text(running, fake, PHONE, "WAIT")
        running.settle()  # the send is recorded (Twilio's callbacks come after its answer to the send)
        sid = fake.messages[-1]["sid"]
        report = {"MessageSid": sid, "MessageStatus": "delivered", "To": PHONE, "From": "+447700900999", "AccountSid": fake.account_sid}
        assert post_twilio(running, report, fake.auth_token, "/webhooks/twilio/status").status_code == 204
        assert running.statuses() == ["delivered"]
        text(running, fake, PHONE, "YES")
        running.settle()
        sid = fake.messages[-1]["sid"]
        failed = {**report, "MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "21610"}
        assert post_twilio(running, failed, fake.auth_token, "/webhooks/twilio/status").status_code == 204
        assert running.statuses() == ["delivered", "failed"]
        count = len(fake.messages)
        post_twilio(running, twilio_form(PHONE, "1"), fake.auth_token)  # opted out by the carrier: nothing more goes
        running.settle()
        assert len(fake.messages) == count


def test_whatsapp_options_use_quick_reply_and_list_picker_templates(fake_twilio: FakeTwilio) -> None:
    fake = fake_twilio
    settings = twilio.TwilioSettings(fake.account_sid, fake.auth_token, whatsapp_from="+447700900888", api_base=fake.url)
    channel = twilio.TwilioChannel("whatsapp", settings)
    content = twilio.Content("HX" + "1" * 32, {"1": "Which?", "2": "Patient", "3": "patient"})
    asyncio.run(channel.send(OutboundMessage("whatsapp", PHONE, "Which?", (Button("Patient", "patient"),)), content))
    sent = fake.messages[-1]
    assert sent["to"] == "whatsapp:" + PHONE and sent["content_sid"] == content.sid
    assert json.loads(sent["content_variables"]) == content.variables
    reply = twilio.parse_message(twilio_form("whatsapp:" + PHONE, "Patient", ButtonPayload="patient", ButtonText="Patient"))
    assert reply.channel == "whatsapp" and reply.address == PHONE and reply.button == "patient"


def test_long_sms_prompts_are_split_at_sentence_boundaries(fake_twilio: FakeTwilio) -> None:
    fake = fake_twilio
    settings = twilio.TwilioSettings(fake.account_sid, fake.auth_token, sms_from="+447700900999", api_base=fake.url)
    sentence = "This sentence is here to make the message long enough to need several parts. "
    long_text = (sentence * 12).strip()
    asyncio.run(twilio.TwilioChannel("sms", settings).send(OutboundMessage("sms", PHONE, long_text)))
    parts = fake.bodies_to(PHONE)
    assert len(parts) > 1 and "".join(p.replace(" ", "") for p in parts) == long_text.replace(" ", "")
    assert all(p.endswith(".") and count_segments(p).segments <= twilio.MAX_SMS_SEGMENTS for p in parts)
    welsh = "Diolch yn fawr iawn am eich amser heddiw ŵ. " * 8
    assert all(count_segments(p).encoding == "UCS-2" and count_segments(p).segments <= 3 for p in twilio.split_sms(welsh.strip()))


def test_twilio_errors_map_to_the_catalogue(fake_twilio: FakeTwilio) -> None:
    fake = fake_twilio
    fake.failures.update({"+1": (400, 21610, "Attempt to send to unsubscribed recipient"), "+2": (400, 21211, "Invalid 'To' Phone Number"),
                          "+3": (429, 20429, "Too Many Requests"), "+4": (503, 20500, "Service unavailable")})
    channel = twilio.TwilioChannel("sms", twilio.TwilioSettings(fake.account_sid, fake.auth_token, sms_from="+4", api_base=fake.url))

    def error_for(to: str) -> Exception:
        try:
            asyncio.run(channel.send(OutboundMessage("sms", to, "hi")))
        except Exception as error:
            return error
        raise AssertionError("no error")

    stopped, invalid, throttled, down = (error_for(n) for n in ("+1", "+2", "+3", "+4"))
    assert isinstance(stopped, ContactStopped) and stopped.code == "21610" and not stopped.retryable
    assert isinstance(invalid, InvalidAddress) and not invalid.retryable
    assert isinstance(throttled, Throttled) and throttled.retryable
    assert isinstance(down, ServerError) and down.retryable
    unreachable = twilio.TwilioChannel("sms", twilio.TwilioSettings("AC1", "x", sms_from="+4", api_base="http://127.0.0.1:9"))
    with pytest.raises(ServerError):
        asyncio.run(unreachable.send(OutboundMessage("sms", "+5", "hi")))


def test_signatures_are_computed_over_the_public_url() -> None:
    values = twilio_form(PHONE, "WAIT")
    good = sign(PUBLIC_URL + "/webhooks/twilio", values, "token")
    assert twilio.signature_valid("token", PUBLIC_URL + "/webhooks/twilio", values, good)
    assert not twilio.signature_valid("token", "http://127.0.0.1/webhooks/twilio", values, good)
    assert not twilio.signature_valid("token", PUBLIC_URL + "/webhooks/twilio", {**values, "Body": "STOP"}, good)


def test_whatsapp_images_go_as_a_signed_media_url_and_sms_never_carries_one(fake_twilio: FakeTwilio) -> None:
    from channels.base import Attachment
    from channels.media_links import MediaLinks

    fake = fake_twilio
    links = MediaLinks(b"k" * 32, PUBLIC_URL)
    settings = twilio.TwilioSettings(fake.account_sid, fake.auth_token, sms_from="+447700900999", whatsapp_from="+447700900888",
                                     api_base=fake.url)
    whatsapp = twilio.TwilioChannel("whatsapp", settings, media_links=links)
    chart = Attachment(7, "image/png", b"\x89PNG\r\n\x1a\nrest")
    asyncio.run(whatsapp.send(OutboundMessage("whatsapp", PHONE, "Your chart", attachment=chart)))
    (url,) = fake.messages[-1]["media_urls"]
    assert fake.messages[-1]["body"] == "Your chart" and url.startswith(f"{PUBLIC_URL}/media/7?exp=")
    long_text = "Why it matters. " * 80
    quick = twilio.Content("HX" + "2" * 32, {"1": "Which?"})
    for text, content in ((long_text, None), ("Which?", quick)):  # too long for a caption; a quick-reply template
        count = len(fake.messages)
        asyncio.run(whatsapp.send(OutboundMessage("whatsapp", PHONE, text, attachment=chart), content))
        image, words = fake.messages[count:]
        assert image["media_urls"] and not image["body"], "the image first, on its own"
        assert not words["media_urls"] and (words["body"] == long_text or words["content_sid"] == quick.sid)
    count = len(fake.messages)
    fake.fail_next.append(("Body", (503, 20500, "Service unavailable")))  # the image goes, the text does not
    with pytest.raises(ServerError):
        asyncio.run(whatsapp.send(OutboundMessage("whatsapp", PHONE, long_text, outbox_id=9, attachment=chart)))
    asyncio.run(whatsapp.send(OutboundMessage("whatsapp", PHONE, long_text, outbox_id=9, attachment=chart)))  # the retry
    assert [(bool(m["media_urls"]), m["body"]) for m in fake.messages[count:]] == [(True, ""), (False, long_text)], "one image"
    count = len(fake.messages)
    sms = twilio.TwilioChannel("sms", settings, media_links=links)
    assert not sms.capabilities.images
    asyncio.run(sms.send(OutboundMessage("sms", PHONE, "Your scores", attachment=chart)))
    assert [m["media_urls"] for m in fake.messages[count:]] == [[]], "no MMS"


def test_a_message_carries_its_delivery_key_so_a_resend_after_a_crash_is_delivered_once(fake_twilio: FakeTwilio) -> None:
    settings = twilio.TwilioSettings(fake_twilio.account_sid, fake_twilio.auth_token, sms_from="+447700900999",
                                     api_base=fake_twilio.url)
    channel = twilio.TwilioChannel("sms", settings)
    message = OutboundMessage("sms", PHONE, "Hello.", outbox_id=7, delivery_key="chorus-0123abcd")
    first = asyncio.run(channel.send(message))
    again = asyncio.run(channel.send(message))  # as after a crash: the same row, the same key
    assert again == first and fake_twilio.bodies_to(PHONE) == ["Hello."] and fake_twilio.replayed == ["chorus-0123abcd"]
    long = OutboundMessage("sms", PHONE, "A sentence that goes on. " * 30, delivery_key="chorus-long")
    asyncio.run(channel.send(long))
    assert [m["key"] for m in fake_twilio.messages[1:]] == ["chorus-long", "chorus-long.1"], "one key per part"
    asyncio.run(channel.send(OutboundMessage("sms", PHONE, "No key.")))
    assert fake_twilio.messages[-1]["key"] is None


def test_a_task_queue_that_is_down_after_the_commit_still_answers_200(database_url: str, fake_twilio: FakeTwilio) -> None:
    """A broker outage after the message and its reply are committed: Twilio gets 200 (a retry
    would be a duplicate and change nothing), and the reply still goes at the dispatcher's poll."""

    class Down:
        def enqueue(self, *_: Any) -> None:
            raise ConnectionRefusedError("the broker is down")

    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url)) as running:
        working, running.app.state.tasks = running.app.state.tasks, Down()
        response = post_twilio(running, twilio_form(PHONE, "WAIT"), fake.auth_token)
        assert response.status_code == 200 and response.headers["X-Chorus-Inbox"] == "joined"
        assert running.inbound_count() == 1
        running.app.state.tasks = working
        wait_for(lambda: fake.bodies_to(PHONE), what="the reply, sent at the dispatcher's poll")


def test_sends_do_not_wait_for_a_busy_default_thread_pool(fake_twilio: FakeTwilio) -> None:
    """Twilio's REST calls block: they run in their own threads, so neither a pool of hanging
    sends nor other work in asyncio's default pool holds up the other."""
    fake = fake_twilio
    settings = twilio.TwilioSettings(fake.account_sid, fake.auth_token, sms_from="+447700900999", api_base=fake.url)
    channel = twilio.TwilioChannel("sms", settings)
    release = threading.Event()

    async def run() -> str:
        loop = asyncio.get_running_loop()
        blockers = [loop.run_in_executor(None, release.wait, 30) for _ in range(64)]  # every default thread taken
        try:
            return await asyncio.wait_for(channel.send(OutboundMessage("sms", PHONE, "Hello")), 10)
        finally:
            release.set()
            await asyncio.gather(*blockers)

    assert asyncio.run(run()).startswith("SM")
    assert fake.bodies_to(PHONE) == ["Hello"]
