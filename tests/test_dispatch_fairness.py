"""Each channel is claimed and paced on its own: a backlog on one (an SMS round at 1 message a
second) never holds up another (a Telegram or WhatsApp reply), and per-participant order and
exactly-once claiming hold across channels. Through the real channel classes to the fake
providers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from bot.dispatcher import DEFAULT_LIMITS, Dispatcher, RateLimit
from channels import telegram, twilio
from storage import outbox
from storage.tables import CONTACTS, OUTBOUND
from tests.channel_helpers import provider_env
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.test_dispatcher import Recorder

SMS_BACKLOG = 80
"""More SMS participants than a dispatcher has in hand (64): before, the rest of the queue waited for their slots."""
CHAT = 5551234
WHATSAPP = "+447700900456"


def real_channels(fake_twilio: FakeTwilio, fake_telegram: tuple[FakeTelegram, str]) -> dict[str, Any]:
    settings = twilio.TwilioSettings.from_env(provider_env(twilio=fake_twilio, twilio_url=fake_twilio.url))
    assert settings is not None and settings.sms_rate == 1.0, "SMS at its default rate: 1 message a second"
    client = twilio.make_client(settings)
    fake, url = fake_telegram
    return {"sms": twilio.TwilioChannel("sms", settings, client), "whatsapp": twilio.TwilioChannel("whatsapp", settings, client),
            "telegram": telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url)))}


async def until(check: Callable[[], Any], timeout: float) -> float:
    """Seconds until ``check()`` is true (fails after ``timeout``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, "timed out"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def test_a_telegram_or_whatsapp_reply_goes_at_once_behind_an_sms_backlog(
    service: Any, say: Callable[..., Any], fake_twilio: FakeTwilio, fake_telegram: tuple[FakeTelegram, str],
) -> None:
    """The operator's test: an SMS round of 80 at 1/s is going out; a Telegram participant and
    a WhatsApp participant write meanwhile. Their replies go within seconds (before:
    after the SMS ahead of them had freed the dispatcher's slots, over 15 s here, minutes in
    the field). The SMS keep to 1 a second and all go, once each."""
    for n in range(SMS_BACKLOG):
        say("WAIT", address=f"+4477009{n:05d}")
    fake, _ = fake_telegram
    channels = real_channels(fake_twilio, fake_telegram)
    sender = Dispatcher(service.database, channels, service.studies, dict(DEFAULT_LIMITS), clock=service.clock, heartbeat_every=60)

    async def scenario() -> tuple[float, float, int, float]:
        running = asyncio.create_task(sender.run())
        await until(lambda: fake_twilio.messages, 10)  # the round is going out
        started = time.monotonic()
        await asyncio.to_thread(say, "/start wait", address=str(CHAT), channel="telegram")
        await asyncio.to_thread(say, "WAIT", address=WHATSAPP, channel="whatsapp")
        sender.nudge()  # as the inbox worker does after each message
        telegram_after, whatsapp_after = await asyncio.gather(until(lambda: fake.texts_to(CHAT), 30),
                                                              until(lambda: fake_twilio.bodies_to("whatsapp:" + WHATSAPP), 30))
        sms_sent = sum(1 for m in fake_twilio.messages if not m["to"].startswith("whatsapp:"))
        elapsed = time.monotonic() - started
        await sender.stop()
        await running
        await channels["telegram"].close()
        return telegram_after, whatsapp_after, sms_sent, elapsed

    telegram_after, whatsapp_after, sms_sent, elapsed = asyncio.run(scenario())
    print(f"telegram reply after {telegram_after:.2f}s, whatsapp reply after {whatsapp_after:.2f}s behind {SMS_BACKLOG} SMS")
    # before, they waited for the SMS ahead to free the dispatcher's 64 slots: over 15 s at 1 a second. Within
    # 1-2 s on a quiet machine; 8 s leaves room for a loaded one (3.9 s seen in CI with other work on its cores)
    assert telegram_after < 8.0 and whatsapp_after < 8.0, (telegram_after, whatsapp_after)
    assert sms_sent <= elapsed + 2, "SMS kept to 1 a second meanwhile"
    sms = [m["to"] for m in fake_twilio.messages if not m["to"].startswith("whatsapp:")]
    assert len(sms) == len(set(sms)), "no SMS twice"


def test_each_channel_has_its_own_room_and_refills_it(service: Any, say: Callable[..., Any], clock: Any) -> None:
    """A slow channel with a backlog fills only its own room; a fast one still claims, sends
    and claims again (the drain of the fast channel is not bound to the slow one's)."""
    slow, fast = Recorder("sms"), Recorder("telegram")
    for n in range(12):
        say("WAIT", address=f"+4477008{n:05d}")
    for n in range(12):
        say("/start wait", address=str(7000 + n), channel="telegram")
    sender = Dispatcher(service.database, {"sms": slow, "telegram": fast}, service.studies,
                        {"sms": RateLimit(2), "telegram": RateLimit(1000, 1000)}, clock=clock, max_in_flight=2, batch=2,
                        poll_interval=60, heartbeat_every=60)

    async def scenario() -> tuple[float, int]:
        running = asyncio.create_task(sender.run())
        took = await until(lambda: len(fast.sent) == 12, 10)
        sms_then = len(slow.sent)
        await sender.stop()
        await running
        return took, sms_then

    took, sms_then = asyncio.run(scenario())
    assert took < 2.0, f"the 12 Telegram messages took {took:.1f}s"
    assert sms_then <= 5, "the SMS went at their own pace (2 a second) meanwhile"


def _second_contact(service: Any, participant_id: str, channel: str, address: str) -> int:
    with service.database.transaction() as connection:
        return int(connection.execute(insert(CONTACTS).values(
            participant_id=participant_id, channel=channel, address_hash=f"{channel}-{address}",
            address_sealed=service.database.sealer.seal(address), created_at=datetime.now(UTC)).returning(CONTACTS.c.id)).scalar_one())


def _queue(service: Any, participant_id: str, contact: dict[str, int], channels: list[str]) -> list[int]:
    rows = [{"participant_id": participant_id, "contact_id": contact[channel], "channel": channel, "study_id": "ae-waiting",
             "text": f"message {n}", "buttons": [], "multiple": False, "kind": "info", "created_at": datetime.now(UTC)} for n, channel in enumerate(channels)]
    with service.database.transaction() as connection:
        return outbox.queue(connection, rows)


def test_a_participant_with_two_channels_gets_their_messages_in_order(service: Any, say: Callable[..., Any], clock: Any) -> None:
    """Claims are per channel, so one channel's claim may stop short of a participant's next
    message while another channel's takes a later one: that later one waits for its turn."""
    pid = say("WAIT", address="+447700900111").participant_id
    with service.database.transaction() as connection:
        sms_contact = connection.execute(select(CONTACTS.c.id).where(CONTACTS.c.participant_id == pid)).scalar_one()
    contact = {"sms": sms_contact, "telegram": _second_contact(service, pid, "telegram", "4242")}
    queued = _queue(service, pid, contact, ["sms", "sms", "telegram", "sms", "telegram", "telegram"])
    log: list[int] = []
    limits = {"sms": RateLimit(1000), "telegram": RateLimit(1000, 1000)}
    sender = Dispatcher(service.database, {"sms": Logged("sms", log), "telegram": Logged("telegram", log)}, service.studies, limits,
                        clock=clock, batch=1)
    asyncio.run(sender.drain())
    assert log == [_ids(service, pid)[0], *queued], "each once, in the order they were queued"


class Logged(Recorder):
    """A recorder that also writes what it sends in a log shared with other channels."""

    def __init__(self, name: str, log: list[int]) -> None:
        super().__init__(name)
        self.log = log

    async def send(self, message: Any, content: Any = None) -> str:
        sent = await super().send(message, content)
        self.log.append(message.outbox_id)
        return sent


def _ids(service: Any, participant_id: str) -> list[int]:
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        return list(connection.execute(select(o.id).where(o.participant_id == participant_id).order_by(o.id)).scalars())


def test_two_dispatchers_on_mixed_channels_send_each_row_once_and_in_order(service: Any, say: Callable[..., Any], clock: Any) -> None:
    for n in range(15):
        say("WAIT", address=f"+4477007{n:05d}")
        say("YES", address=f"+4477007{n:05d}")
        say("/start wait", address=str(8000 + n), channel="telegram")
        say("yes", address=str(8000 + n), channel="telegram")
    log: list[int] = []
    channels = [{"sms": Logged("sms", log), "telegram": Logged("telegram", log)} for _ in range(2)]
    limits = {"sms": RateLimit(1000), "telegram": RateLimit(1000, 1000)}

    o = OUTBOUND.c

    def waiting() -> int:
        with service.database.transaction() as connection:
            return len(connection.execute(select(o.id).where(o.status == "queued")).all())

    async def both() -> None:
        # a drain ends when its dispatcher finds nothing it may claim, which can be while the other
        # holds a participant's earlier row (their later rows wait for it); a running dispatcher
        # looks again, so the two drain until nothing waits (bounded)
        for _ in range(20):
            await asyncio.gather(*(Dispatcher(service.database, c, service.studies, limits, clock=clock, batch=3,
                                              max_in_flight=2).drain() for c in channels))
            if not waiting():
                return

    asyncio.run(both())
    with service.database.transaction() as connection:
        queued = connection.execute(select(o.id, o.participant_id, o.status).order_by(o.id)).all()
    assert sorted(log) == [row_id for row_id, _, _ in queued], "each row sent once"
    assert {status for _, _, status in queued} == {"sent"}
    participant_of = {row_id: pid for row_id, pid, _ in queued}
    for pid in set(participant_of.values()):
        theirs = [row_id for row_id in log if participant_of[row_id] == pid]
        assert theirs == sorted(theirs), "one participant's messages in order, whichever dispatcher sent them"
