"""After DELETE MY DATA and YES, one confirmation reaches the participant on the channel they
used (SMS, WhatsApp, Telegram through the fake providers; the web simulator; ``chorus chat``),
in their language, and then no row holds their address or their words. An erasure by SMS
erases the WhatsApp participant of the same number too, and ``chorus erase`` says how many
participants it erased. On SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.chat import open_target, replay
from bot.cli import cli
from bot.service import ConversationService, ReceiveResult
from bot.settings import Settings
from flows.words import BUILT_IN_TEXTS
from storage import outbox
from storage.database import Database
from storage.tables import ANSWERS, AUDIT_EVENTS, FAREWELLS, PARTICIPANTS
from tests.channel_helpers import (
    EXAMPLE,
    TELEGRAM_SECRET,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
)
from tests.db_fixtures import TEST_ADDRESS_KEY, TEST_DATA_KEY, FakeClock
from tests.fake_telegram import FakeTelegram, wait_for
from tests.fake_twilio import FakeTwilio
from tests.test_erasure import scan_database

Say = Callable[..., ReceiveResult]
PHONE, NEIGHBOUR = "+447700900468", "+447700900579"
CHAT = 987650123
WORDS = "Prydderch waited on a trolley all night"
ERASED = BUILT_IN_TEXTS["erased"]


def count(database: Database, table: Any) -> int:
    with database.transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def needles(address: str) -> list[str]:
    return [address, address.lstrip("+"), address[-10:], WORDS, "Prydderch"]


def by_twilio(running: Running, fake: FakeTwilio, sender: str, body: str) -> str:
    """Text ``body`` from ``sender`` ('+44...' by SMS, 'whatsapp:+44...') and return the reply."""
    before = len(fake.bodies_to(sender))
    form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": fake.account_sid, "From": sender,
            "To": "+447700900999", "Body": body, "NumMedia": "0"}
    assert post_twilio(running, form, fake.auth_token).status_code == 200
    wait_for(lambda: len(fake.bodies_to(sender)) > before, what=f"a reply to {body!r}")
    return fake.bodies_to(sender)[before]


def by_telegram(running: Running, fake: FakeTelegram, text: str) -> str:
    before = len(fake.texts_to(CHAT))
    response = running.client.post("/webhooks/telegram", json=fake.message_update(CHAT, text),
                                   headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code == 200, response.text
    wait_for(lambda: len(fake.texts_to(CHAT)) > before, what=f"a reply to {text!r}")
    return fake.texts_to(CHAT)[before]


def answered_then_erased(say: Callable[[str], str], stop_first: bool) -> list[str]:
    """Join the example study, answer up to the open question (with WORDS), maybe STOP, then
    DELETE MY DATA and YES. Returns the last two replies: the question and the confirmation."""
    assert "Reply YES to take part" in say("WAIT")
    assert "Which best describes you" in say("YES")
    assert "How many times" in say("1")
    assert "What was waiting like" in say("5")
    say(WORDS)
    if stop_first:
        assert "no more messages" in say("STOP")
    return [say("DELETE MY DATA"), say("YES")]


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
def test_the_confirmation_reaches_them_and_then_no_row_holds_their_address_or_words(
    database_url: str, fake_twilio: FakeTwilio, fake_telegram: tuple[FakeTelegram, str], channel: str
) -> None:
    telegram, telegram_url = fake_telegram
    address = str(CHAT) if channel == "telegram" else PHONE
    sender = "whatsapp:" + PHONE if channel == "whatsapp" else PHONE
    with running_chorus(database_url, provider_env(telegram, telegram_url, fake_twilio, fake_twilio.url)) as running:
        database = running.chorus.database

        def say(text: str) -> str:
            if channel == "telegram":  # joined by the bot's link
                return by_telegram(running, telegram, "/start wait" if text == "WAIT" else text)
            return by_twilio(running, fake_twilio, sender, text)

        def sent() -> list[str]:
            return telegram.texts_to(CHAT) if channel == "telegram" else fake_twilio.bodies_to(sender)

        question, confirmation = answered_then_erased(say, stop_first=channel == "whatsapp")  # after STOP too
        assert question.startswith("Reply YES to delete everything")
        assert confirmation == ERASED["en"]
        wait_for(lambda: count(database, FAREWELLS) == 0, what="the confirmation's row deleted once sent")
        running.settle()
        assert sent().count(ERASED["en"]) == 1 and sent()[-1] == ERASED["en"], "sent once, and last"
        assert count(database, PARTICIPANTS) == 0
        assert scan_database(database, needles(address)) == [], "no row holds their address or their words"


def test_an_sms_erasure_erases_the_whatsapp_participant_of_the_same_number_and_the_confirmation_goes_by_sms(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url)) as running:
        database = running.chorus.database
        whatsapp = "whatsapp:" + PHONE
        for reply in ("WAIT", "YES", "2", "3", WORDS):
            by_twilio(running, fake, whatsapp, reply)
        for reply in ("WAIT", "YES", "1"):
            by_twilio(running, fake, PHONE, reply)
        for reply in ("WAIT", "YES", "3"):
            by_twilio(running, fake, NEIGHBOUR, reply)
        assert count(database, PARTICIPANTS) == 3 and WORDS in [value for _, value in running.answers()]
        by_twilio(running, fake, PHONE, "delete my data")
        on_whatsapp = len(fake.bodies_to(whatsapp))
        assert by_twilio(running, fake, PHONE, "yes") == ERASED["en"]
        wait_for(lambda: count(database, FAREWELLS) == 0, what="the confirmation's row deleted once sent")
        running.settle()
        assert len(fake.bodies_to(whatsapp)) == on_whatsapp, "the confirmation goes on the channel they used, once"
        assert count(database, PARTICIPANTS) == 1, "the neighbour stays; both of the number's participants go"
        assert running.answers() == [("consent", "yes"), ("role", "staff")]
        assert scan_database(database, needles(PHONE)) == []
        with database.transaction() as connection:
            reasons = [detail["reason"] for detail in connection.execute(
                select(AUDIT_EVENTS.c.detail).where(AUDIT_EVENTS.c.action == "erased").order_by(AUDIT_EVENTS.c.id)).scalars()]
        assert reasons == ["participant's request", "participant's request on sms, same number"]


def test_a_failed_confirmation_is_retried_with_its_key_or_dropped_and_never_kept(database_url: str, fake_twilio: FakeTwilio) -> None:
    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url)) as running:
        database = running.chorus.database
        for sender in (PHONE, NEIGHBOUR):
            by_twilio(running, fake, sender, "WAIT")
            by_twilio(running, fake, sender, "delete my data")
        fake.fail_next.append(("Body", (503, 20500, "Service Unavailable")))  # once, then it goes
        assert by_twilio(running, fake, PHONE, "YES") == ERASED["en"]
        assert fake.messages[-1]["key"], "sent with a delivery key"
        assert running.hub.dispatcher.stats.retried == 1  # type: ignore[union-attr]
        fake.failures[NEIGHBOUR] = (400, 21610, "Attempt to send to unsubscribed recipient")  # blocked at the carrier
        form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": fake.account_sid, "From": NEIGHBOUR,
                "To": "+447700900999", "Body": "YES", "NumMedia": "0"}
        assert post_twilio(running, form, fake.auth_token).status_code == 200
        wait_for(lambda: count(database, PARTICIPANTS) == 0 and count(database, FAREWELLS) == 0,
                 what="both erased, the undeliverable confirmation dropped")
        assert ERASED["en"] not in fake.bodies_to(NEIGHBOUR)
        assert fake.bodies_to(PHONE).count(ERASED["en"]) == 1
        assert scan_database(database, needles(PHONE) + needles(NEIGHBOUR)) == []


def test_a_welsh_participant_is_told_in_welsh(service: ConversationService, database: Database, say: Say) -> None:
    say("WAIT", address=PHONE)
    say("CYMRAEG", address=PHONE)
    say("dileu fy nata", address=PHONE)
    assert say("ydw", address=PHONE).status == "erased"
    with database.transaction() as connection:
        rows = connection.execute(select(FAREWELLS.c.channel, FAREWELLS.c.text, FAREWELLS.c.address_sealed)).all()
    assert [(channel, text) for channel, text, _ in rows] == [("sms", ERASED["cy"])]
    assert PHONE not in rows[0][2] and database.sealer.open(rows[0][2]) == PHONE, "the address is kept sealed, as contacts are"
    assert ERASED["cy"] != ERASED["en"]


def test_someone_with_no_conversation_is_told_too(service: ConversationService, database: Database, say: Say) -> None:
    say("delete my data", address=NEIGHBOUR)
    assert say("YES", address=NEIGHBOUR).status == "erased"
    with database.transaction() as connection:
        assert connection.execute(select(FAREWELLS.c.text)).scalars().all() == [ERASED["en"]]


def test_chorus_erase_erases_both_participants_of_a_number_and_says_how_many(
    service: ConversationService, database: Database, say: Say, example_study_path: Path
) -> None:
    sms = say("WAIT", address=PHONE).participant_id
    whatsapp = say("WAIT", address=PHONE, channel="whatsapp").participant_id
    say("yes", address=PHONE, channel="whatsapp")
    lone = say("WAIT", address=NEIGHBOUR).participant_id
    env = {"CHORUS_DATABASE_URL": database.url, "CHORUS_HASH_KEY": TEST_ADDRESS_KEY.decode(),
           "CHORUS_DATA_KEYS": TEST_DATA_KEY, "CHORUS_STUDIES_DIR": str(example_study_path)}
    result = CliRunner().invoke(cli, ["erase", str(sms), "--yes", "--by", "dpo"], env=env)
    assert result.exit_code == 0, result.output
    assert f"erased {sms}:" in result.output and f"erased {whatsapp} (the same number on another channel)" in result.output
    assert result.output.strip().endswith("erased 2 participants") and PHONE not in result.output
    assert count(database, PARTICIPANTS) == 1 and count(database, ANSWERS) == 0
    assert count(database, FAREWELLS) == 0, "a coordinator's erasure sends nothing"
    result = CliRunner().invoke(cli, ["erase", str(lone), "--yes"], env=env)
    assert result.exit_code == 0 and result.output.strip().endswith("erased 1 participant"), result.output


def test_the_simulator_shows_the_confirmation_in_the_participants_language(tmp_path: Path) -> None:
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'chorus.db'}", hash_key="test-key",
                                 studies_dir=str(EXAMPLE))
    with TestClient(create_app(settings)) as client:
        started = client.post("/api/simulator/sessions", json={"study": "ae-waiting", "language": "cy"})
        session = started.json()["session"]
        path = f"/api/simulator/sessions/{session}/messages"
        assert client.post(path, json={"text": "dileu fy nata"}).json()["messages"][0]["kind"] == "erase_confirm"
        done = client.post(path, json={"text": "ydw"}).json()
        assert [m["text"] for m in done["messages"]] == [ERASED["cy"]] and done["finished"] is True
        assert client.get(path).status_code == 404, "nothing is left of them"
        assert count(client.app.state.chorus.database, FAREWELLS) == 0  # type: ignore[attr-defined]


def test_chorus_chat_prints_the_confirmation() -> None:
    lines = list(replay(open_target(EXAMPLE), ["yes", "delete my data", "yes"]))
    assert lines[-1] == ("bot", ERASED["en"])


def test_a_confirmation_that_cannot_go_is_not_kept(database: Database, clock: FakeClock) -> None:
    """Given up on after a permanent error or MAX_ATTEMPTS, or a day old (its channel not
    configured here): deleted, address and all."""
    sealed = database.sealer.seal(PHONE)
    now = clock()
    with database.transaction() as connection:
        old = outbox.queue_farewell(connection, "telegram", sealed, ERASED["en"], now - outbox.FAREWELL_EXPIRY - timedelta(minutes=1))
        failing = outbox.queue_farewell(connection, "sms", sealed, ERASED["en"], now)
        claimed = outbox.claim_farewells(connection, database.sealer, ["sms"], now, timedelta(minutes=2))
        assert [(f.id, f.address) for f in claimed] == [(failing, PHONE)] and claimed[0].delivery_key.startswith("chorus-")
        assert outbox.claim_farewells(connection, database.sealer, ["sms"], now, timedelta(minutes=2)) == [], "claimed once"
        ids = list(connection.execute(select(FAREWELLS.c.id)).scalars())
        assert old not in ids, "a day old: deleted unsent"
        assert outbox.farewell_failed(connection, failing, True, now + timedelta(seconds=30)) is True
        assert outbox.claim_farewells(connection, database.sealer, ["sms"], now, timedelta(minutes=2)) == [], "not before its retry"
        again = outbox.claim_farewells(connection, database.sealer, ["sms"], now + timedelta(minutes=1), timedelta(minutes=2))
        assert [f.delivery_key for f in again] == [claimed[0].delivery_key], "the same key on every attempt"
        assert outbox.farewell_failed(connection, failing, False, now) is False
    assert count(database, FAREWELLS) == 0
