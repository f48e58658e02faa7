"""Delphi round 2 feedback as each participant sees it, end to end: Chorus served by uvicorn,
the embedded dispatcher sending to the fake Telegram and Twilio servers over loopback.

Telegram gets the chart as a real PNG upload (sendPhoto) with the feedback as its caption and
the keyboard under it; WhatsApp gets a signed MediaUrl that Twilio would fetch from us (and
a forged or expired link is refused); SMS gets the short text alone; a Welsh participant
gets Welsh feedback.
"""

from __future__ import annotations

import functools
import re
import secrets
import shutil
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from channels.base import InboundMessage
from flows.population import delphi_value
from storage.tables import ENROLMENTS, MEDIA, OUTBOUND
from tests.channel_helpers import (
    TELEGRAM_SECRET,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
)
from tests.desk_helpers import add_answers
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

PRIORITIES = Path(__file__).resolve().parent.parent / "flows" / "examples" / "priorities"
STUDY = "priorities"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ITEMS = [line for line in (PRIORITIES / "items.txt").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
FIRST = ITEMS[0]
# Round 1: spread out, so no item reaches consensus and round 2 starts with the first item.
PATIENT_SCORES = [8, 8, 7, 9, 3, 5]
STAFF_SCORES = [4, 5, 6, 8]
CHAT, PHONE, WELSH_CHAT = 424242, "+447700900123", 515151


@pytest.fixture
def studies(tmp_path: Path) -> Path:
    """The priorities example, offered in English and Welsh (groups named in both)."""
    folder = tmp_path / "studies" / STUDY
    shutil.copytree(PRIORITIES, folder)
    study = folder / "study.yaml"
    text = study.read_text(encoding="utf-8").replace("languages: [en]", "languages: [en, cy]")
    text = text.replace("label: Patients and carers", "label: {en: Patients and carers, cy: Cleifion a gofalwyr}")
    text = text.replace("  en: If you need urgent help, call NHS 111, or 999 in an emergency.",
                        "  en: If you need urgent help, call NHS 111, or 999 in an emergency.\n"
                        "  cy: Os oes angen help brys arnoch, ffoniwch GIG 111, neu 999 mewn argyfwng.")
    study.write_text(text, encoding="utf-8")
    return folder.parent


@pytest.fixture
def chorus(tmp_path: Path, studies: Path) -> Iterator[tuple[Running, FakeTelegram, FakeTwilio]]:
    fake_tg, fake_tw = FakeTelegram(), FakeTwilio()
    with LocalServer(fake_tg.app) as tg, LocalServer(fake_tw.app) as tw:
        fake_tw.url = tw.url
        env = provider_env(fake_tg, tg.url, fake_tw, tw.url)
        with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", env, studies_dir=studies) as running:
            yield running, fake_tg, fake_tw


# ----------------------------------------------------------------------------- helpers


def telegram_says(running: Running, fake: FakeTelegram, chat: int, text: str) -> None:
    response = running.client.post("/webhooks/telegram", json=fake.message_update(chat, text),
                                   headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code == 200
    running.settle()  # the webhook only stores the message; the inbox worker processes it


def twilio_says(running: Running, fake: FakeTwilio, sender: str, text: str) -> None:
    form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": fake.account_sid, "From": sender,
            "To": "+447700900999", "Body": text, "NumMedia": "0"}
    assert post_twilio(running, form, fake.auth_token).status_code == 200
    running.settle()


def round_one(running: Running, pid: str, group: str, score: int) -> None:
    rows = [{"participant_id": pid, "study_id": STUDY, "flow_id": "round1", "flow_version_id": 1, "flow_version": "test",
             "step_id": "rate", "item": item, "value": delphi_value("community", 1, score)} for item in ITEMS]
    add_answers(running.chorus.database, rows)
    with running.chorus.database.transaction() as connection:
        connection.execute(update(ENROLMENTS).where(ENROLMENTS.c.participant_id == pid).values(group=group))


def panel(running: Running) -> None:
    """Ten others rated every item in round 1 (they joined by SMS, in-process)."""
    service = running.chorus.service
    for n, (group, score) in enumerate([("patient", s) for s in PATIENT_SCORES] + [("staff", s) for s in STAFF_SCORES]):
        joined = service.receive(InboundMessage("sms", f"+4477009{n:05d}", f"SM{n:032x}", text="PRIORITY"))
        assert joined.participant_id is not None
        round_one(running, joined.participant_id, group, score)


def start_round_two(running: Running, channel: str, address: str, own: int | None, group: str = "patient") -> str:
    """Round 2 for a participant who gave ``own`` to every item in round 1 (None: already recorded)."""
    service = running.chorus.service
    pid = service.participant_for(channel, address)
    assert pid is not None
    if own is not None:
        round_one(running, pid, group, own)
    service.population.forget(STUDY)
    assert service.start_flow(pid, STUDY, "round2")
    running.hub.dispatcher.nudge()  # type: ignore[union-attr]
    return pid


def _chart_to(fake: FakeTelegram, chat: int) -> dict[str, Any] | None:
    """The first photo sent to ``chat``, if any yet."""
    return next((m for m in fake.sent if m["chat"]["id"] == chat and "photo" in m), None)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def assert_feedback(text: str, own: int) -> None:
    """Own score, then everyone's and each group's share of 7-9 and median."""
    assert f"Last time you said {own}." in text
    assert re.search(r"Everyone: \d+% said 7-9 \(median [\d.]+\)\.", text), text
    assert re.search(r"Patients and carers: \d+% said 7-9 \(median [\d.]+\)\.", text), text
    assert "Staff: 25% said 7-9 (median 5.5)." in text, "four staff: 4, 5, 6 and 8"


# ----------------------------------------------------------------------------- Telegram


def test_telegram_gets_the_chart_as_a_png_photo_with_the_feedback_as_its_caption(chorus: Any) -> None:
    running, fake, _ = chorus
    panel(running)
    telegram_says(running, fake, CHAT, "/start priority")
    start_round_two(running, "telegram", str(CHAT), own=7)
    photo = wait_for(lambda: next((m for m in fake.sent if m["chat"]["id"] == CHAT and "photo" in m), None), 20, "the chart")
    png = fake.photo_bytes(photo)
    width, height = png_size(png)
    assert 200 <= width <= 1200 and 200 <= height <= 1200
    caption = photo["caption"]
    assert caption.startswith(f"1/{len(ITEMS)}: {FIRST}")
    assert_feedback(caption, 7)
    keyboard = [b["callback_data"].split("~", 1)[1] for row in photo["reply_markup"]["inline_keyboard"] for b in row]
    assert keyboard[:9] == [str(n) for n in range(1, 10)] and "keep" in keyboard and "unsure" in keyboard
    upload = fake.calls_to("sendPhoto")[-1]
    assert isinstance(upload["photo"], bytes) and upload["photo"] == png, "sent as a multipart upload"
    # Tapping "Keep 7" under the photo answers, and the next item comes with its own chart.
    response = running.client.post("/webhooks/telegram", json=fake.callback_update(CHAT, "keep", photo),
                                    headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code == 200
    wait_for(lambda: sum(1 for m in fake.sent if m["chat"]["id"] == CHAT and "photo" in m) == 2, 20, "the second chart")
    assert f"2/{len(ITEMS)}: {ITEMS[1]}" in fake.last_to(CHAT)["caption"]


def test_a_chart_is_stored_once_for_everyone_who_sees_the_same_picture(chorus: Any) -> None:
    running, fake, _ = chorus
    panel(running)
    for chat in (CHAT, CHAT + 1):
        telegram_says(running, fake, chat, "/start priority")
        round_one(running, running.chorus.service.participant_for("telegram", str(chat)), "patient", 7)
    for chat in (CHAT, CHAT + 1):  # the same results and own score: the same picture
        start_round_two(running, "telegram", str(chat), own=None)
    wait_for(lambda: len([m for m in fake.sent if "photo" in m]) == 2, 20, "both charts")
    first, second = (fake.photo_bytes(m) for m in fake.sent if "photo" in m)
    assert first == second
    with running.chorus.database.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(MEDIA)).scalar_one() == 1
        media_ids = connection.execute(select(OUTBOUND.c.media_id).where(OUTBOUND.c.media_id.is_not(None))).scalars().all()
    assert len(media_ids) == 2 and len(set(media_ids)) == 1


# ----------------------------------------------------------------------------- WhatsApp and SMS


def test_whatsapp_gets_a_signed_media_url_that_serves_the_png(chorus: Any) -> None:
    running, _, fake = chorus
    panel(running)
    twilio_says(running, fake, "whatsapp:" + PHONE, "PRIORITY")
    start_round_two(running, "whatsapp", PHONE, own=8)
    sent = wait_for(lambda: next((m for m in fake.messages if m["to"] == "whatsapp:" + PHONE and m["media_urls"]), None), 20, "the chart")
    assert_feedback(sent["body"], 8)
    (url,) = sent["media_urls"]
    parts = urlsplit(url)
    assert url.startswith("https://chorus.example.org/media/")
    assert PHONE.strip("+") not in url and "p-" not in url, "nothing personal in the link"
    fetched = running.client.get(f"{parts.path}?{parts.query}")  # what Twilio does, with no credentials
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    png_size(fetched.content)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    media_id = int(parts.path.rsplit("/", 1)[-1])
    forged = [
        f"/media/{media_id}?exp={query['exp']}&sig={'0' * 64}",  # a made-up signature
        f"/media/{media_id + 1}?exp={query['exp']}&sig={query['sig']}",  # another image with this one's signature
        f"/media/{media_id}?exp={int(query['exp']) + 3600}&sig={query['sig']}",  # a later expiry, same signature
        f"/media/{media_id}",  # no signature at all
    ]
    for path in forged:
        assert running.client.get(path).status_code == 403, path
    links = running.app.state.media_links
    expired = links.url(media_id, now=time.time() - links.ttl - 60)
    expired_parts = urlsplit(expired)
    assert running.client.get(f"{expired_parts.path}?{expired_parts.query}").status_code == 403


def test_sms_gets_the_feedback_as_text_only(chorus: Any) -> None:
    running, _, fake = chorus
    panel(running)
    twilio_says(running, fake, PHONE, "PRIORITY")
    pid = start_round_two(running, "sms", PHONE, own=7)
    body = wait_for(lambda: next((b for b in fake.bodies_to(PHONE) if FIRST in b), None), 20, "the first item")
    assert_feedback(body, 7)
    assert all(not m["media_urls"] for m in fake.messages), "no MMS"
    with running.chorus.database.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(MEDIA)).scalar_one() == 0, "no chart drawn for SMS"
        assert connection.execute(select(OUTBOUND.c.media_id).where(OUTBOUND.c.participant_id == pid)).scalars().all() == [None] * 3


# ----------------------------------------------------------------------------- Welsh


def test_a_welsh_participant_gets_welsh_feedback_and_a_welsh_chart(chorus: Any) -> None:
    running, fake, _ = chorus
    panel(running)
    telegram_says(running, fake, WELSH_CHAT, "/start priority")
    telegram_says(running, fake, WELSH_CHAT, "CYMRAEG")
    telegram_says(running, fake, CHAT, "/start priority")
    service = running.chorus.service
    for chat in (WELSH_CHAT, CHAT):  # the same group, score and results: only the language differs
        round_one(running, service.participant_for("telegram", str(chat)), "staff", 6)
    for chat in (WELSH_CHAT, CHAT):
        start_round_two(running, "telegram", str(chat), own=None)
    welsh, english = (
        wait_for(functools.partial(_chart_to, fake, chat), 20, "a chart")
        for chat in (WELSH_CHAT, CHAT)
    )
    caption = welsh["caption"]
    assert "Y tro diwethaf, fe roesoch chi 6." in caption
    assert re.search(r"Pawb: dywedodd \d+% 7-9 \(canolrif [\d.]+\)\.", caption), caption
    assert "Staff: dywedodd 17% 7-9 (canolrif 6)." in caption, "six staff: 4, 5, 6, 6, 6 and 8"
    assert re.search(r"Cleifion a gofalwyr: dywedodd \d+% 7-9", caption), "the study's Welsh name for the group"
    assert "1-3 ddim yn bwysig" in caption and "7-9 hanfodol" in caption
    assert "Last time" not in caption and "Everyone" not in caption
    labels = [b["text"] for row in welsh["reply_markup"]["inline_keyboard"] for b in row]
    assert "Cadw 6" in labels and "Ddim yn siŵr" in labels
    assert "Last time you said 6." in english["caption"] and "Patients and carers: " in english["caption"]
    assert fake.photo_bytes(welsh) != fake.photo_bytes(english), "the chart's words are Welsh too"
