"""Secrets and personal data never reach the logs: a whole conversation over the real
webhooks (Telegram, SMS and WhatsApp through Twilio), replies sent by the dispatcher to the
fake providers, a refused send and an erasure, with every logger at DEBUG."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.channel_helpers import (
    TELEGRAM_SECRET,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
)
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

PHONE, WHATSAPP_PHONE, CHAT_ID = "+447700900456", "+447700900457", 918273645
STORY = "my private story about waiting with Gwenllian"


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[Running, FakeTelegram, FakeTwilio]]:
    fake_tg, fake_tw = FakeTelegram(token="987654:SECRET-bot-token-xyz"), FakeTwilio()
    with LocalServer(fake_tg.app) as tg, LocalServer(fake_tw.app) as tw:
        fake_tw.url = tw.url
        with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(fake_tg, tg.url, fake_tw, tw.url)) as running:
            yield running, fake_tg, fake_tw


def form(body: str, sender: str = PHONE) -> dict[str, str]:
    return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+447700900999", "Body": body, "NumMedia": "0"}


def test_a_conversation_at_debug_logs_no_number_token_or_text(both: Any, caplog: pytest.LogCaptureFixture) -> None:
    running, fake_tg, fake_tw = both
    caplog.set_level(logging.DEBUG)
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    for text in ("/start wait", "yes", "patient", "2", STORY):
        response = running.client.post("/webhooks/telegram", json=fake_tg.message_update(CHAT_ID, text), headers=headers)
        assert response.status_code == 200
    for text in ("WAIT", "yes", "carer", "3", STORY, "DELETE MY DATA", "YES"):
        assert post_twilio(running, form(text), fake_tw.auth_token).status_code == 200
        running.settle()
    for text in ("WAIT", "yes"):
        assert post_twilio(running, form(text, "whatsapp:" + WHATSAPP_PHONE), fake_tw.auth_token).status_code == 200
    fake_tw.failures["whatsapp:" + WHATSAPP_PHONE] = (400, 21610, "Attempt to send to unsubscribed recipient")
    post_twilio(running, form("staff", "whatsapp:" + WHATSAPP_PHONE), fake_tw.auth_token)
    wait_for(lambda: "failed" in running.statuses(), what="the refused send")
    running.settle()
    assert fake_tg.texts_to(CHAT_ID) and fake_tw.bodies_to(PHONE), "the replies went out"
    question = fake_tg.texts_to(CHAT_ID)[-1]

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) > 20 and "p-" in logged, "the logs were captured, naming participants by pseudonym"
    for secret in (fake_tg.token, fake_tg.token.split(":")[1], fake_tw.auth_token, TELEGRAM_SECRET):
        assert secret not in logged
    for personal in ("900456", "900457", str(CHAT_ID), STORY, "Gwenllian", question):
        assert personal not in logged, personal
