"""Bad input at scale: hypothesis throws structured nonsense, arbitrary JSON and raw bytes at
the webhooks on a real server (SQLite and PostgreSQL), signed properly so it reaches the
parsers, and signed wrongly so it must stop at the door. Whatever arrives: no 5xx, a forged
request stores nothing, what is accepted is stored as sent, and the answers already stored
for another participant are untouched."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from storage.tables import ANSWERS, INBOUND, PARTICIPANTS
from tests.channel_helpers import (
    TELEGRAM_SECRET,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
)
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

EXAMPLES = 80
SEED_PHONE = "+447700900001"
SEED_CHAT = 4242
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])

texts = st.text(max_size=200)
nasty = st.one_of(st.sampled_from(["", "\x00", "a\x00b", "🙂" * 50, "\u202e", "%00", "' OR 1=1 --", "\r\n", "9" * 400]), texts)
ints = st.one_of(st.integers(-(2**31), 2**31), st.integers(-(2**70), 2**70))
json_values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | ints | nasty,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty, inner, max_size=4), max_leaves=20)


def _telegram_user() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"id": ints, "is_bot": st.booleans(), "first_name": nasty},
                                 optional={"language_code": nasty, "username": nasty, "last_name": json_values})


def _telegram_message() -> st.SearchStrategy[dict[str, Any]]:
    chat = st.fixed_dictionaries({"id": ints.filter(lambda n: n != SEED_CHAT),
                                  "type": st.sampled_from(["private", "group", "channel", "supergroup", "nonsense"])})
    voice = st.fixed_dictionaries({"file_id": nasty, "file_unique_id": nasty, "duration": ints},
                                  optional={"mime_type": nasty, "file_size": ints})
    return st.fixed_dictionaries(
        {"message_id": ints, "date": ints, "chat": chat},
        optional={"from": _telegram_user(), "text": nasty, "caption": nasty, "voice": voice, "audio": voice,
                  "video_note": voice, "reply_markup": json_values, "entities": json_values, "sticker": json_values})


def telegram_updates() -> st.SearchStrategy[Any]:
    message = _telegram_message()
    callback = st.fixed_dictionaries({"id": nasty, "from": _telegram_user(), "chat_instance": nasty},
                                     optional={"data": nasty, "message": message})
    update = st.fixed_dictionaries({"update_id": ints},
                                   optional={"message": message, "callback_query": callback, "edited_message": message})
    return st.one_of(update, update.map(lambda u: {**u, "update_id": str(u["update_id"])}), json_values)


TWILIO_KEYS = ["MessageSid", "AccountSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0",
               "ButtonPayload", "ListId", "MessageStatus", "ErrorCode", "SmsStatus", "ProfileName", "WaId"]


def twilio_forms() -> st.SearchStrategy[dict[str, str]]:
    sid = st.one_of(st.just("SM").map(lambda p: p + secrets.token_hex(16)), st.from_regex(r"\A[SM]M[0-9a-f]{32}\Z"), nasty)
    sender = st.one_of(st.sampled_from(["+447700900123", "whatsapp:+447700900124", "whatsapp:", "+", "sms:+1"]), nasty)
    fields = st.fixed_dictionaries(
        {"MessageSid": sid, "From": sender.filter(lambda s: SEED_PHONE not in s)},
        optional={"Body": nasty, "NumMedia": st.one_of(st.sampled_from(["0", "1", "10", "-1", "99999999999999999999"]), nasty),
                  "MediaUrl0": nasty, "MediaContentType0": st.one_of(st.just("audio/ogg"), nasty), "To": nasty,
                  "ButtonPayload": nasty, "ListId": nasty, "ProfileName": nasty, "AccountSid": nasty})
    extra = st.dictionaries(st.one_of(st.sampled_from(TWILIO_KEYS), nasty), nasty, max_size=5)
    return st.builds(lambda a, b: {**b, **a}, fields, extra)


def status_forms() -> st.SearchStrategy[dict[str, str]]:
    statuses = st.one_of(st.sampled_from(["queued", "sent", "delivered", "read", "failed", "undelivered"]), nasty)
    fields = st.fixed_dictionaries({"MessageSid": st.one_of(nasty, st.just("SM" + "0" * 32)), "MessageStatus": statuses},
                                   optional={"ErrorCode": nasty, "To": nasty, "From": nasty})
    extra = st.dictionaries(st.sampled_from(TWILIO_KEYS), nasty, max_size=4)
    return st.one_of(fields, extra, st.builds(lambda a, b: {**b, **a}, fields, extra))


# ----------------------------------------------------------------------------- the running server


@pytest.fixture
def chorus(database_url: str) -> Iterator[tuple[Running, FakeTelegram, FakeTwilio]]:
    fake_tg, fake_tw = FakeTelegram(), FakeTwilio()
    with LocalServer(fake_tg.app) as tg, LocalServer(fake_tw.app) as tw:
        fake_tw.url = tw.url
        with running_chorus(database_url, provider_env(fake_tg, tg.url, fake_tw, tw.url)) as running:
            _seed(running, fake_tw, fake_tg)
            yield running, fake_tg, fake_tw


def _seed(running: Running, fake_tw: FakeTwilio, fake_tg: FakeTelegram) -> None:
    """A participant part-way through, with answers stored, on each channel."""
    for body in ["WAIT", "yes", "3", "2 3"]:
        form = {"MessageSid": "SM" + secrets.token_hex(16), "From": SEED_PHONE, "To": "+447700900999", "Body": body, "NumMedia": "0"}
        assert post_twilio(running, form, fake_tw.auth_token).status_code == 200
    for text in ["/start wait", "yes"]:
        response = running.client.post("/webhooks/telegram", json=fake_tg.message_update(SEED_CHAT, text),
                                       headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
        assert response.status_code == 200
    wait_for(lambda: len(_snapshot(running)[0]) >= 4, what="the seeded answers")


def _snapshot(running: Running) -> tuple[list[Any], list[Any]]:
    with running.chorus.database.transaction() as connection:
        answers = [tuple(r) for r in connection.execute(select(ANSWERS).order_by(ANSWERS.c.id))]
        people = [tuple(r) for r in connection.execute(select(PARTICIPANTS).order_by(PARTICIPANTS.c.id))]
    return answers, people


def _unchanged(before: tuple[list[Any], list[Any]], running: Running) -> None:
    answers, people = _snapshot(running)
    assert answers[:len(before[0])] == before[0], "the answers stored before the fuzz changed"
    seeded = {p[0] for p in before[1]}
    assert [p for p in people if p[0] in seeded] == before[1], "the participants stored before the fuzz changed"


def _stored_text(running: Running, channel: str, provider_id: str) -> str | None:
    with running.chorus.database.transaction() as connection:
        found = connection.execute(select(INBOUND.c.text).where(INBOUND.c.channel == channel, INBOUND.c.provider_id == provider_id))
        return found.scalar()


# ----------------------------------------------------------------------------- the fuzz


def test_telegram_fuzz_with_the_right_secret(chorus: Any) -> None:
    running, _, _ = chorus
    before = _snapshot(running)
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}

    @FUZZ
    @given(update=telegram_updates())
    @example(update={"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"},
                                                 "from": {"id": 5, "is_bot": False, "first_name": "x"}, "sticker": []}})
    @example(update={"update_id": 2, "message": {"message_id": 1, "date": 10**15, "chat": {"id": 5, "type": "private"},
                                                 "from": {"id": 5, "is_bot": False, "first_name": "x"}, "text": "hi"}})
    @example(update={"update_id": 3, "message": {"message_id": 1, "date": 1, "chat": {"id": 2**70, "type": "private"},
                                                 "from": {"id": 5, "is_bot": False, "first_name": "\x00"}, "text": "a\x00b"}})
    def send(update: Any) -> None:
        response = running.client.post("/webhooks/telegram", json=update, headers=headers)
        assert response.status_code in (200, 400), response.text

    send()

    @FUZZ
    @given(body=st.binary(max_size=2000))
    def send_bytes(body: bytes) -> None:
        response = running.client.post("/webhooks/telegram", content=body, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code in (200, 400), response.text

    send_bytes()
    _unchanged(before, running)


def test_telegram_fuzz_with_a_wrong_secret_stores_nothing(chorus: Any) -> None:
    running, fake, _ = chorus
    count = running.inbound_count()

    @FUZZ
    @given(secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=80), text=nasty,
           chat=st.integers(1, 2**40))
    def send(secret: str, text: str, chat: int) -> None:
        assume(secret != TELEGRAM_SECRET)
        response = running.client.post("/webhooks/telegram", json=fake.message_update(chat, text),
                                       headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert response.status_code == 403

    send()
    assert running.inbound_count() == count


def test_twilio_fuzz_with_valid_signatures(chorus: Any) -> None:
    running, _, fake = chorus
    before = _snapshot(running)
    seen: set[str] = set()

    @FUZZ
    @given(form=twilio_forms())
    @example(form={"MessageSid": "SM" + "1" * 32, "From": "+447700900777", "Body": "a\x00b", "NumMedia": "0"})
    @example(form={"MessageSid": "SM" + "2" * 32, "From": "whatsapp:+44\x00", "Body": "x", "NumMedia": "1",
                   "MediaUrl0": "\x00", "MediaContentType0": "audio/ogg\x00"})
    def send(form: dict[str, str]) -> None:
        response = post_twilio(running, form, fake.auth_token)
        assert response.status_code in (200, 400), response.text
        fresh = form["MessageSid"] not in seen
        seen.add(form["MessageSid"])
        if response.status_code == 200 and fresh:  # stored as sent (the database cannot hold NUL; it is dropped)
            assert _stored_text(running, "whatsapp" if form["From"].lower().startswith("whatsapp:") else "sms",
                                form["MessageSid"]) == form.get("Body", "").replace("\x00", "")

    send()

    @FUZZ
    @given(form=status_forms())
    @example(form={"MessageSid": "a\x00b", "MessageStatus": "delivered", "To": "+1"})
    @example(form={"MessageSid": "SM" + "0" * 32, "MessageStatus": "fail\x00ed", "ErrorCode": "1\x002"})
    def status(form: dict[str, str]) -> None:
        response = post_twilio(running, form, fake.auth_token, "/webhooks/twilio/status")
        assert response.status_code == 204, response.text

    status()
    _unchanged(before, running)


def test_twilio_fuzz_with_random_signatures_stores_nothing(chorus: Any) -> None:
    running, _, fake = chorus
    count = running.inbound_count()

    @FUZZ
    @given(form=twilio_forms(), signature=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60),
           path=st.sampled_from(["/webhooks/twilio", "/webhooks/twilio/status"]))
    def send(form: dict[str, str], signature: str, path: str) -> None:
        response = post_twilio(running, form, fake.auth_token, path, signature)
        assert response.status_code == 403, response.text

    send()
    assert running.inbound_count() == count


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab=&%+2F0gé ;\x00"), max_size=40) | st.text(max_size=40))
@example("Body=Hello+there%21&From=%2B447700900001&Empty=&Bare&&To=a%zz")
def test_the_webhook_form_parser_reads_exactly_what_the_standard_library_does(text: str) -> None:
    from urllib.parse import parse_qsl

    from bot.webhooks import urlencoded

    assert urlencoded(text) == dict(parse_qsl(text, keep_blank_values=True))
