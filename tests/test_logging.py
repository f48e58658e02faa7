"""Structured logs (CHORUS_LOG_FORMAT=json) that carry the request id and never a phone
number, a name, a bot token or what someone wrote. Builds on test_webhooks's check of the
messages: here the whole formatted output is read, as a log shipper would."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from bot.logging_setup import QUIET, configure
from tests.channel_helpers import TELEGRAM_SECRET, post_twilio, provider_env, running_chorus
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

PHONE = "+447700900456"
SECRET_WORDS = "my private story about waiting"


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    handler = configure("DEBUG", "json")
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream, handler
    for added in [h for h in root.handlers if h.get_name() == "chorus"]:
        root.removeHandler(added)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def form(body: str, sender: str = PHONE) -> dict[str, str]:
    return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+447700900999", "Body": body, "NumMedia": "0"}


def test_json_logs_carry_the_request_id_and_no_personal_data(tmp_path: Any, captured: Any) -> None:
    stream, _ = captured
    fake_tg, fake_tw = FakeTelegram(), FakeTwilio()
    with LocalServer(fake_tg.app) as tg, LocalServer(fake_tw.app) as tw:
        fake_tw.url = tw.url
        with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(fake_tg, tg.url, fake_tw, tw.url)) as running:
            running.client.headers["X-Request-ID"] = "req-twilio-1"
            post_twilio(running, form("WAIT"), fake_tw.auth_token)
            post_twilio(running, form(SECRET_WORDS), fake_tw.auth_token)
            post_twilio(running, form(SECRET_WORDS, "whatsapp:" + PHONE), "forged")
            post_twilio(running, {"From": PHONE, "Body": SECRET_WORDS}, fake_tw.auth_token)
            fake_tw.failures[PHONE] = (400, 21610, f"Attempt to send to unsubscribed recipient {PHONE}")
            post_twilio(running, form("1"), fake_tw.auth_token)
            wait_for(lambda: "failed" in running.statuses(), what="the refused send")
            running.client.headers["X-Request-ID"] = "req-telegram-1"
            headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            running.client.post("/webhooks/telegram", json=fake_tg.message_update(4242, "/start wait"), headers=headers)
            wait_for(lambda: fake_tg.sent, what="a Telegram reply")
            logging.getLogger("chorus.test").warning("provider said %s is blocked", "07700 900456")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "something was logged"
    for entry in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= set(entry)
    received = [e for e in lines if e.get("event") == "message.received"]
    assert {e["request_id"] for e in received if e["channel"] == "sms"} == {"req-twilio-1"}
    assert {e["request_id"] for e in received if e["channel"] == "telegram"} == {"req-telegram-1"}
    assert all(e["participant_id"].startswith("p-") for e in received)
    assert any(e.get("event") == "webhook.refused" for e in lines)
    assert any(e.get("event") == "outbox.send_failed" and e["outcome"] == "failed" for e in lines)
    text = stream.getvalue()
    assert "900456" not in text and SECRET_WORDS not in text
    assert fake_tg.token.split(":")[1] not in text, "the bot token (in Telegram's URLs) stays out"
    assert "[PHONE]" in text, "a number quoted in a message is masked, not dropped with its record"


def test_text_is_the_default_and_masks_numbers_too(captured: Any) -> None:
    stream, handler = captured
    configure("INFO")
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "chorus")
    handler.setStream(stream)  # type: ignore[attr-defined]
    logging.getLogger("chorus.test").info("sending to %s failed", "whatsapp:+44 7700 900456")
    line = stream.getvalue().strip()
    assert line.endswith("INFO chorus.test sending to whatsapp:[PHONE] failed")
    with pytest.raises(ValueError):
        configure("INFO", "xml")
