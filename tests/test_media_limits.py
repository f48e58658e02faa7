"""A voice note larger than CHORUS_VOICE_MAX_BYTES is refused before its download completes:
from the size the provider declares, or as soon as the bytes streamed in pass the limit."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from channels import telegram, twilio
from channels.media import MediaTooLarge
from storage.tables import TRANSCRIPTS
from tests.channel_helpers import post_twilio, provider_env, running_chorus
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

LIMIT = 100_000


def _settings(fake: FakeTwilio) -> twilio.TwilioSettings:
    found = twilio.TwilioSettings.from_env(provider_env(twilio=fake, twilio_url=fake.url))
    assert found is not None
    return found


def test_twilio_media_declared_too_large_is_refused_from_its_length(fake_twilio: FakeTwilio) -> None:
    url = fake_twilio.add_media(b"\0" * (3 * LIMIT))
    with pytest.raises(MediaTooLarge) as refused:
        asyncio.run(twilio.fetch_media(_settings(fake_twilio), url, max_bytes=LIMIT))
    assert refused.value.declared == 3 * LIMIT
    assert asyncio.run(twilio.fetch_media(_settings(fake_twilio), url, max_bytes=3 * LIMIT)) == b"\0" * (3 * LIMIT)


def test_an_endless_stream_without_a_length_is_cut_off_at_the_limit(fake_twilio: FakeTwilio) -> None:
    served = {"bytes": 0}
    endless = FastAPI()

    @endless.get("/media")
    async def media() -> StreamingResponse:
        async def chunks() -> Any:
            while True:
                served["bytes"] += 16_384
                yield b"\1" * 16_384
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), media_type="audio/ogg")

    with LocalServer(endless) as server, pytest.raises(MediaTooLarge) as refused:
        asyncio.run(asyncio.wait_for(twilio.fetch_media(_settings(fake_twilio), server.url + "/media", max_bytes=LIMIT), 20))
    assert refused.value.declared is None
    assert served["bytes"] < 200 * LIMIT, "the download stopped soon after the limit"


def test_telegram_media_too_large_by_get_file_is_never_downloaded() -> None:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        update = fake.voice_update(7)
        file_id = update["message"]["voice"]["file_id"]
        fake._files[file_id] = b"\2" * (2 * LIMIT)

        async def download(limit: int) -> bytes:
            channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=server.url)))
            try:
                return await channel.download(file_id, limit)
            finally:
                await channel.close()

        with pytest.raises(MediaTooLarge) as refused:
            asyncio.run(download(LIMIT))
        assert refused.value.declared == 2 * LIMIT
        assert asyncio.run(download(2 * LIMIT)) == b"\2" * (2 * LIMIT)


def test_a_too_large_whatsapp_voice_note_gets_a_kind_reply_and_is_never_transcribed(
        tmp_path: Any, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_VOICE_MAX_BYTES", str(LIMIT))
    monkeypatch.setenv("CHORUS_VOICE_AUDIO_DIR", str(tmp_path / "audio"))
    fake = fake_twilio
    sender = "whatsapp:+447700900456"
    with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(twilio=fake, twilio_url=fake.url)) as running:
        def say(**extra: str) -> None:
            form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": sender,
                    "To": "+447700900999", "Body": "", "NumMedia": "0", **extra}
            assert post_twilio(running, form, fake.auth_token).status_code == 200

        say(Body="WAIT")
        wait_for(lambda: fake.bodies_to(sender), what="the first question")
        say(NumMedia="1", MediaUrl0=fake.add_media(b"OggS" + b"\0" * (5 * LIMIT)), MediaContentType0="audio/ogg")
        wait_for(lambda: any("too big" in body for body in fake.bodies_to(sender)), what="the too-large reply")
        with running.chorus.database.transaction() as connection:
            kinds = connection.execute(select(TRANSCRIPTS.c.status, TRANSCRIPTS.c.error_kind, TRANSCRIPTS.c.audio_bytes)).all()
        assert [tuple(k) for k in kinds] == [("failed", "too_large", None)], "refused while downloading, not after"
        assert not list((tmp_path / "audio").rglob("*.ogg")), "nothing was spooled for transcription"
