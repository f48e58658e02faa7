"""Running Chorus for real (uvicorn on loopback, lifespan and embedded dispatcher included)
against the fake providers, and signing Twilio webhooks as Twilio does."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.dispatcher import RateLimit
from bot.settings import Settings
from bot.webhooks import ChannelHub, install
from storage.tables import ANSWERS, INBOUND, OUTBOUND
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
TELEGRAM_SECRET = "telegram-webhook-secret-123"
PUBLIC_URL = "https://chorus.example.org"
SMS_FROM = "+447700900999"
WHATSAPP_FROM = "+447700900888"
FAST = {"telegram": RateLimit(200, 100), "sms": RateLimit(200), "whatsapp": RateLimit(200)}


@dataclass
class Running:
    app: Any
    client: httpx.Client
    hub: ChannelHub

    @property
    def chorus(self) -> Any:
        return self.app.state.chorus

    def count(self, table: Any) -> int:
        with self.chorus.database.transaction() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())

    def inbound_count(self) -> int:
        return self.count(INBOUND)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the inbox worker has processed every stored message and the embedded
        dispatcher has dealt with everything queued."""
        wait_for(lambda: not self.unprocessed() and not {"queued", "sending"} & set(self.statuses()), timeout,
                 "the inbox and outbox to settle")

    def unprocessed(self) -> int:
        with self.chorus.database.transaction() as connection:
            query = select(func.count()).select_from(INBOUND).where(INBOUND.c.status == "received")
            return int(connection.execute(query).scalar_one())

    def answers(self) -> list[tuple[str, Any]]:
        """(step, value) of every answer stored, in order."""
        with self.chorus.database.transaction() as connection:
            query = select(ANSWERS.c.step_id, ANSWERS.c.value).order_by(ANSWERS.c.id)
            return [(step, value) for step, value in connection.execute(query)]

    def statuses(self) -> list[str]:
        with self.chorus.database.transaction() as connection:
            return list(connection.execute(select(OUTBOUND.c.status).order_by(OUTBOUND.c.id)).scalars())


def provider_env(telegram: FakeTelegram | None = None, telegram_url: str = "", twilio: FakeTwilio | None = None,
                 twilio_url: str = "") -> dict[str, str]:
    env: dict[str, str] = {"CHORUS_PUBLIC_URL": PUBLIC_URL}
    if telegram is not None:
        env.update(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET, CHORUS_TELEGRAM_API_BASE=telegram_url)
    if twilio is not None:
        env.update(TWILIO_ACCOUNT_SID=twilio.account_sid, TWILIO_AUTH_TOKEN=twilio.auth_token, TWILIO_SMS_FROM=SMS_FROM,
                   TWILIO_WHATSAPP_FROM=WHATSAPP_FROM, CHORUS_TWILIO_API_BASE=twilio_url)
    return env


@contextmanager
def running_chorus(database_url: str, env: dict[str, str], polling: bool = False, studies_dir: Path = EXAMPLE) -> Iterator[Running]:
    settings = Settings.from_env({}, database_url=database_url, hash_key="test-key", studies_dir=str(studies_dir))
    app = create_app(settings)
    hub = ChannelHub.from_env(env)
    hub.limits.update(FAST)
    hub.telegram_polling = polling
    install(app, hub)
    with LocalServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        hub.dispatcher.poll_interval = 0.1  # type: ignore[union-attr]
        yield Running(app, client, hub)


def sign(url: str, form: dict[str, str], auth_token: str) -> str:
    return RequestValidator(auth_token).compute_signature(url, form)


def post_twilio(running: Running, form: dict[str, str], auth_token: str, path: str = "/webhooks/twilio",
                signature: str | None = None) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature if signature is not None else sign(PUBLIC_URL + path, form, auth_token)}
    return running.client.post(path, data=form, headers=headers)


def twilio_form(sender: str, body: str = "", **extra: str) -> dict[str, str]:
    """An inbound Twilio webhook's form with a new MessageSid, from ``sender`` (``whatsapp:+44...`` on WhatsApp)."""
    return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+447700900999", "Body": body, "NumMedia": "0", **extra}


def text_and_settle(running: Running, fake: FakeTwilio, sender: str, body: str) -> list[str]:
    """Send ``body`` from ``sender``; every reply it got once the inbox and outbox settle."""
    before = len(fake.bodies_to(sender))
    assert post_twilio(running, twilio_form(sender, body), fake.auth_token).status_code == 200
    running.settle()
    return fake.bodies_to(sender)[before:]


def update_and_settle(running: Running, fake: FakeTelegram, chat_id: int, update: dict[str, Any], replies: int = 1) -> list[str]:
    """Post a Telegram update to the webhook; the texts sent back to ``chat_id`` once
    ``replies`` have come and everything has settled."""
    before = len(fake.texts_to(chat_id))
    response = running.client.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code == 200, response.text
    wait_for(lambda: len(fake.texts_to(chat_id)) >= before + replies, what=f"{replies} replies")
    running.settle()
    return fake.texts_to(chat_id)[before:]
