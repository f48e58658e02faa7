"""The webhooks' guard rails: forged requests, malformed payloads, duplicates, and logs
that never name a phone number or repeat what someone wrote."""

from __future__ import annotations

import logging
import secrets
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.channel_helpers import (
    PUBLIC_URL,
    TELEGRAM_SECRET,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
    sign,
)
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

PHONE = "+447700900456"
SECRET_WORDS = "my private story about waiting"


@pytest.fixture
def both(tmp_path: Any) -> Iterator[tuple[Running, FakeTelegram, FakeTwilio]]:
    fake_tg, fake_tw = FakeTelegram(), FakeTwilio()
    with LocalServer(fake_tg.app) as tg, LocalServer(fake_tw.app) as tw:
        fake_tw.url = tw.url
        env = provider_env(fake_tg, tg.url, fake_tw, tw.url)
        with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", env) as running:
            yield running, fake_tg, fake_tw


def twilio_form(body: str = "WAIT", sid: str | None = None, sender: str = PHONE) -> dict[str, str]:
    return {"MessageSid": sid or "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+447700900999", "Body": body, "NumMedia": "0"}


def test_a_forged_or_missing_twilio_signature_gets_403_and_nothing_is_stored(both: Any) -> None:
    running, _, fake = both
    values = twilio_form()
    assert post_twilio(running, values, "not-the-auth-token").status_code == 403
    assert running.client.post("/webhooks/twilio", data=values).status_code == 403
    for_another_path = sign(PUBLIC_URL + "/webhooks/twilio", values, fake.auth_token)
    assert post_twilio(running, values, fake.auth_token, "/webhooks/twilio/status", for_another_path).status_code == 403
    assert running.inbound_count() == 0
    assert post_twilio(running, values, fake.auth_token).status_code == 200
    assert running.inbound_count() == 1


def test_a_wrong_or_missing_telegram_secret_gets_403_and_nothing_is_stored(both: Any) -> None:
    running, fake, _ = both
    update = fake.message_update(7, "/start wait")
    assert running.client.post("/webhooks/telegram", json=update).status_code == 403
    assert running.client.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}).status_code == 403
    assert running.inbound_count() == 0
    ok = running.client.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert ok.status_code == 200 and running.inbound_count() == 1


def test_malformed_payloads_get_400_or_are_acknowledged_and_ignored(both: Any) -> None:
    running, fake, tw = both
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    assert running.client.post("/webhooks/telegram", content=b"{not json", headers=headers).status_code == 400
    assert running.client.post("/webhooks/telegram", json={"hello": 1}, headers=headers).status_code == 400
    assert running.client.post("/webhooks/telegram", json=[1, 2], headers=headers).status_code == 400
    pinned = fake.message_update(7, None, pinned_message={"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}})
    assert running.client.post("/webhooks/telegram", json=pinned, headers=headers).status_code == 200  # a pin says nothing
    assert post_twilio(running, {"From": PHONE, "Body": "hi"}, tw.auth_token).status_code == 400
    assert post_twilio(running, {**twilio_form(), "NumMedia": "many"}, tw.auth_token).status_code == 400
    status_without_sid = {"MessageStatus": "delivered"}
    assert post_twilio(running, status_without_sid, tw.auth_token, "/webhooks/twilio/status").status_code == 204
    assert running.inbound_count() == 0
    # A location is no malformed payload: it is kept by its kind alone, and answered as a photo is
    # (tests/test_unexpected_messages.py).
    location = fake.message_update(7, None, location={"latitude": 51.48, "longitude": -3.18})
    assert running.client.post("/webhooks/telegram", json=location, headers=headers).status_code == 200
    assert running.inbound_count() == 1


def test_a_webhook_path_asked_with_another_method_says_post_only(both: Any) -> None:
    running, _, _ = both
    for path in ("/webhooks/telegram", "/webhooks/twilio", "/webhooks/twilio/status"):
        answer = running.client.get(path)
        assert answer.status_code == 405 and answer.headers["allow"] == "POST", path
        assert running.client.put(path, content=b"x").status_code == 405
    assert running.inbound_count() == 0


def test_a_duplicate_webhook_delivery_is_a_no_op(database_url: str) -> None:
    fake_tg, fake_tw = FakeTelegram(), FakeTwilio()
    with LocalServer(fake_tg.app) as tg, LocalServer(fake_tw.app) as tw:
        fake_tw.url = tw.url
        with running_chorus(database_url, provider_env(fake_tg, tg.url, fake_tw, tw.url)) as running:
            values = twilio_form()
            answers = [post_twilio(running, values, fake_tw.auth_token) for _ in range(3)]
            assert [a.status_code for a in answers] == [200] * 3
            # what became of it: joined in the storing transaction, then the retries are no-ops
            assert [a.headers["X-Chorus-Inbox"] for a in answers] == ["joined", "duplicate", "duplicate"]
            update = fake_tg.message_update(9, "/start wait")
            answers = [running.client.post("/webhooks/telegram", json=update,
                                           headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}) for _ in range(3)]
            assert [a.headers["X-Chorus-Inbox"] for a in answers] == ["joined", "duplicate", "duplicate"]
            wait_for(lambda: fake_tw.messages and fake_tg.sent, what="one reply each")

            running.settle()
            assert running.inbound_count() == 2
            assert len(fake_tw.messages) == 1 and len(fake_tg.sent) == 1


def test_logs_name_no_phone_number_and_repeat_no_message_text(both: Any, caplog: pytest.LogCaptureFixture) -> None:
    running, fake_tg, fake_tw = both
    caplog.set_level(logging.DEBUG)
    post_twilio(running, twilio_form("WAIT"), fake_tw.auth_token)
    post_twilio(running, twilio_form("YES"), fake_tw.auth_token)
    post_twilio(running, twilio_form(SECRET_WORDS), fake_tw.auth_token)
    post_twilio(running, twilio_form(SECRET_WORDS, sender="whatsapp:" + PHONE), "forged")
    post_twilio(running, {"From": PHONE, "Body": SECRET_WORDS}, fake_tw.auth_token)
    fake_tw.failures[PHONE] = (400, 21610, "Attempt to send to unsubscribed recipient")
    post_twilio(running, twilio_form("1"), fake_tw.auth_token)
    wait_for(lambda: "failed" in running.statuses(), what="the refused send")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "p-" in text, "participants are named by their pseudonymous id"
    assert "900456" not in text and SECRET_WORDS not in text


def test_a_sender_that_leaves_mid_body_stores_nothing_and_breaks_nothing(both: Any, caplog: pytest.LogCaptureFixture) -> None:
    running, _, fake_tw = both
    caplog.set_level(logging.INFO)
    host, port = running.client.base_url.host, running.client.base_url.port
    with socket.create_connection((host, port or 80), timeout=5) as raw:  # says 500 bytes, sends 10, hangs up
        raw.sendall(b"POST /webhooks/twilio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    b"X-Twilio-Signature: x\r\nContent-Length: 500\r\n\r\nMessageSid")
    time.sleep(0.5)
    assert running.inbound_count() == 0
    assert post_twilio(running, twilio_form("WAIT"), fake_tw.auth_token).status_code == 200, "still serving"
    assert running.inbound_count() == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a client leaving is not a server error"
