"""A provider's opt-out stops the same phone number on the other channel, as a typed STOP does.

Twilio refuses a send with 21610 (the number texted STOP to Twilio) or 30004, WhatsApp with
63024 (blocked): the dispatcher, or the status callback, opts that participant out, and now the
same number's participant on the other channel too: their queued messages are held and their
follow-ups dropped. START still opts back in only the channel it is sent on. An inbound message
that Twilio's Advanced Opt-Out marks ``OptOutType=STOP`` (or START) is STOP (or START) whatever
its Body, so Twilio and Chorus agree on who is opted out. On SQLite and PostgreSQL, through the
fake Twilio server and signed webhooks."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.dispatcher import Dispatcher, RateLimit
from bot.scheduler import Scheduler
from bot.service import ConversationService
from channels import twilio
from storage import due_tasks
from storage.tables import AUDIT_EVENTS, ENROLMENTS, INBOUND, OUTBOUND
from tests.channel_helpers import (
    SMS_FROM,
    WHATSAPP_FROM,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
)
from tests.db_fixtures import TEST_ADDRESS_KEY
from tests.fake_telegram import LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

NUMBER, STRANGER = "+447700900321", "+447700900654"
UNSUBSCRIBED = (400, 21610, "Attempt to send to unsubscribed recipient")


def opted_out(database: Any, pid: str | None) -> bool:
    with database.transaction() as connection:
        rows = connection.execute(select(ENROLMENTS.c.opted_out).where(ENROLMENTS.c.participant_id == pid)).scalars().all()
    assert rows, f"{pid} is enrolled"
    return all(rows)


def outbox_rows(database: Any, pid: str | None) -> list[tuple[str, str | None]]:
    """(status, error) of each of the participant's outbox rows, in order."""
    o = OUTBOUND.c
    with database.transaction() as connection:
        return [(str(s), e) for s, e in connection.execute(select(o.status, o.error).where(o.participant_id == pid).order_by(o.id))]


def audited_opt_outs(database: Any, pid: str | None) -> list[tuple[str, str | None]]:
    """(actor, reason) of each opt-out audited for the participant."""
    a = AUDIT_EVENTS.c
    with database.transaction() as connection:
        rows = connection.execute(select(a.actor, a.detail).where(a.subject == pid, a.action == "opted_out").order_by(a.id)).all()
    return [(str(actor), (detail or {}).get("reason")) for actor, detail in rows]


def twilio_channels(fake: FakeTwilio, *names: str) -> dict[str, Any]:
    settings = twilio.TwilioSettings.from_env(provider_env(twilio=fake, twilio_url=fake.url))
    assert settings is not None
    client = twilio.make_client(settings)
    return {name: twilio.TwilioChannel(name, settings, client) for name in names}


def dispatch(service: ConversationService, clock: Any, channels: dict[str, Any]) -> None:
    limits = {name: RateLimit(1000, 1000) for name in channels}
    asyncio.run(Dispatcher(service.database, channels, service.studies, limits, clock=clock,
                           address_key=TEST_ADDRESS_KEY).drain())


# ----------------------------------------------------------------------------- the dispatcher


def test_a_21610_on_sms_stops_whatsapp_to_the_same_number_holds_its_queue_and_drops_its_follow_ups(
    service: ConversationService, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio,
) -> None:
    """The SMS participant texted STOP to Twilio, not to Chorus: the next SMS is refused with
    21610. Their WhatsApp participant (same number) had consented and had a question queued and
    a follow-up planned: the question is held as a typed STOP holds it, nothing more goes by
    WhatsApp, and the follow-up is dropped when due. Another number is untouched. START on
    WhatsApp then opts WhatsApp back in, and SMS stays out."""
    by_sms = say("WAIT", address=NUMBER).participant_id
    by_whatsapp = say("WAIT", address=NUMBER, channel="whatsapp").participant_id
    stranger = say("WAIT", address=STRANGER, channel="whatsapp").participant_id
    say("YES", address=NUMBER, channel="whatsapp")
    say("YES", address=STRANGER, channel="whatsapp")
    scheduler = Scheduler(service.database, service, service.studies, clock)
    scheduler.tick()  # the follow-ups are planned
    assert [s for s, _ in outbox_rows(service.database, by_whatsapp)] == ["queued", "queued"]

    fake_twilio.failures[NUMBER] = UNSUBSCRIBED  # SMS alone: WhatsApp is addressed 'whatsapp:+44...'
    dispatch(service, clock, twilio_channels(fake_twilio, "sms"))  # WhatsApp's queue is not dispatched yet

    assert outbox_rows(service.database, by_sms) == [("failed", "ContactStopped: twilio 400 error 21610 (code 21610)")]
    assert opted_out(service.database, by_sms) and opted_out(service.database, by_whatsapp)
    assert not opted_out(service.database, stranger)
    assert outbox_rows(service.database, by_whatsapp) == [("held", "participant opted out")] * 2, "held as a typed STOP holds them"
    assert audited_opt_outs(service.database, by_sms) == [("provider", "provider error 21610")]
    assert audited_opt_outs(service.database, by_whatsapp) == [("provider", "provider error 21610 on sms")]

    dispatch(service, clock, twilio_channels(fake_twilio, "sms", "whatsapp"))
    assert fake_twilio.bodies_to("whatsapp:" + NUMBER) == [], "nothing goes by WhatsApp to the number that opted out"
    assert len(fake_twilio.bodies_to("whatsapp:" + STRANGER)) == 2, "another number still gets its messages"
    assert say("2", address=NUMBER, channel="whatsapp").outbox_ids == (), "an answer gets no reply while opted out"

    clock.advance(timedelta(days=7, hours=1))  # the vision follow-up (7 days) is due
    scheduler.tick()
    with service.database.transaction() as connection:
        tasks = {pid: [(t.flow_id, t.done, t.error) for t in due_tasks.listing(connection, None, pid, include_done=True)
                       if t.kind == "follow_up" and t.flow_id == "vision"] for pid in (by_whatsapp, stranger)}
    assert tasks[by_whatsapp] == [("vision", True, "dropped: the participant opted out")]
    assert [done for _, done, _ in tasks[stranger]] == [True] and tasks[stranger][0][2] is None, "the stranger's went"
    assert outbox_rows(service.database, by_whatsapp)[-1][0] == "held"
    assert outbox_rows(service.database, stranger)[-1][0] == "queued"

    again = say("START", address=NUMBER, channel="whatsapp")
    assert not opted_out(service.database, by_whatsapp) and opted_out(service.database, by_sms), "START: its own channel only"
    assert len(again.outbox_ids) == 1 and outbox_rows(service.database, by_whatsapp)[-1] == ("queued", None), "asked again"
    say("START", address=NUMBER)
    assert not opted_out(service.database, by_sms), "START after the provider's opt-out opts its channel back in"


def test_a_typed_stop_and_a_provider_opt_out_stop_the_other_channel_alike(
    service: ConversationService, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio,
) -> None:
    """The same two people, one stopping by a typed STOP on SMS and one by Twilio's 21610 on
    SMS: their WhatsApp participants end the same way (opted out, the same rows held)."""
    typed, refused = "+447700900111", "+447700900222"
    whatsapp = {n: say("WAIT", address=n, channel="whatsapp").participant_id for n in (typed, refused)}
    say("WAIT", address=typed)
    say("WAIT", address=refused)
    say("STOP", address=typed)
    fake_twilio.failures[refused] = UNSUBSCRIBED
    fake_twilio.failures[typed] = UNSUBSCRIBED  # Twilio refuses Chorus's own 'stopped' reply too
    dispatch(service, clock, twilio_channels(fake_twilio, "sms"))
    assert opted_out(service.database, whatsapp[typed]) and opted_out(service.database, whatsapp[refused])
    assert outbox_rows(service.database, whatsapp[typed]) == outbox_rows(service.database, whatsapp[refused])
    assert audited_opt_outs(service.database, whatsapp[typed])[0] == ("participant", "STOP on sms")
    assert audited_opt_outs(service.database, whatsapp[refused]) == [("provider", "provider error 21610 on sms")]
    for number in (typed, refused):  # START where the STOP did not come: that channel is back, the other stays out
        say("START", address=number, channel="whatsapp")
        assert not opted_out(service.database, whatsapp[number])
        assert opted_out(service.database, say("hello", address=number).participant_id)


# ----------------------------------------------------------------------------- webhooks


@pytest.fixture
def chorus_and_twilio(database_url: str) -> Iterator[tuple[Running, FakeTwilio]]:
    fake = FakeTwilio()
    with LocalServer(fake.app) as server:
        fake.url = server.url
        with running_chorus(database_url, provider_env(twilio=fake, twilio_url=server.url)) as running:
            yield running, fake


def inbound(body: str, sender: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "A" + "C" * 33, "From": sender,
            "To": WHATSAPP_FROM if sender.startswith("whatsapp:") else SMS_FROM, "Body": body, "NumMedia": "0", **extra}


def participant(running: Running, channel: str, number: str) -> str:
    """The participant who wrote from ``number`` on ``channel`` (their first inbound message's)."""
    with running.chorus.database.transaction() as connection:
        rows = connection.execute(select(INBOUND.c.participant_id).where(INBOUND.c.channel == channel).order_by(INBOUND.c.id)).scalars()
        found = [pid for pid in rows if pid is not None]
    assert found, f"someone wrote on {channel}"
    return str(found[0])


def join_both(running: Running, fake: FakeTwilio) -> tuple[str, str]:
    for sender in (NUMBER, "whatsapp:" + NUMBER):
        assert post_twilio(running, inbound("WAIT", sender), fake.auth_token).status_code == 200
    wait_for(lambda: fake.bodies_to(NUMBER) and fake.bodies_to("whatsapp:" + NUMBER), what="both consent questions")
    running.settle()
    return participant(running, "sms", NUMBER), participant(running, "whatsapp", NUMBER)


def test_a_63024_status_callback_on_whatsapp_stops_sms_to_the_same_number(chorus_and_twilio: Any) -> None:
    """WhatsApp reports a sent message undelivered with 63024 (blocked): the WhatsApp
    participant and the same number's SMS participant are both opted out; a reply by SMS
    then gets nothing back."""
    running, fake = chorus_and_twilio
    by_sms, by_whatsapp = join_both(running, fake)
    sid = next(m["sid"] for m in fake.messages if m["to"] == "whatsapp:" + NUMBER)
    callback = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "63024", "AccountSid": "A" + "C" * 33,
                "From": "whatsapp:" + WHATSAPP_FROM, "To": "whatsapp:" + NUMBER}
    assert post_twilio(running, callback, fake.auth_token, "/webhooks/twilio/status").status_code == 204
    database = running.chorus.database
    assert opted_out(database, by_whatsapp) and opted_out(database, by_sms)
    assert audited_opt_outs(database, by_sms) == [("provider", "provider error 63024 on whatsapp")]
    sent_by_sms = len(fake.bodies_to(NUMBER))
    post_twilio(running, inbound("YES", NUMBER), fake.auth_token)
    running.settle()
    assert len(fake.bodies_to(NUMBER)) == sent_by_sms, "nothing more by SMS"


def test_opt_out_type_stop_and_start_from_twilio_are_obeyed_whatever_the_body(chorus_and_twilio: Any) -> None:
    """Advanced Opt-Out is on, with a Welsh keyword Chorus does not know: Twilio posts it with
    OptOutType=STOP. Chorus records it as a typed STOP (the inbound text, the audit, the
    same number on WhatsApp stopped too). OptOutType=START with another unknown word opts
    back in the channel it came on."""
    running, fake = chorus_and_twilio
    by_sms, by_whatsapp = join_both(running, fake)
    answer = post_twilio(running, inbound("PEIDIWCH", NUMBER, OptOutType="STOP"), fake.auth_token)
    assert answer.status_code == 200
    running.settle()
    database = running.chorus.database
    assert opted_out(database, by_sms) and opted_out(database, by_whatsapp)
    assert audited_opt_outs(database, by_sms) == [("participant", None)]
    assert audited_opt_outs(database, by_whatsapp) == [("participant", "STOP on sms")]
    with database.transaction() as connection:
        texts = connection.execute(select(INBOUND.c.text).where(INBOUND.c.participant_id == by_sms).order_by(INBOUND.c.id)).scalars()
        assert list(texts) == ["WAIT", "STOP"]

    post_twilio(running, inbound("YMLAEN", "whatsapp:" + NUMBER, OptOutType="start"), fake.auth_token)
    running.settle()
    assert not opted_out(database, by_whatsapp) and opted_out(database, by_sms)


def test_the_parse_takes_opt_out_type_over_the_body_and_leaves_help_to_it() -> None:
    sender = "whatsapp:" + NUMBER
    stop = twilio.parse_message(inbound("Na", sender, OptOutType="STOP", ButtonPayload="yes", NumMedia="1",
                                        MediaUrl0="https://api.twilio.com/x/ME1", MediaContentType0="audio/ogg"))
    assert (stop.channel, stop.text, stop.button, stop.media) == ("whatsapp", "STOP", None, ())
    assert twilio.parse_message(inbound("Ailgychwyn", NUMBER, OptOutType=" Start ")).text == "START"
    assert twilio.parse_message(inbound("CYMORTH", NUMBER, OptOutType="HELP")).text == "CYMORTH"
    assert twilio.parse_message(inbound("3", NUMBER)).text == "3"
