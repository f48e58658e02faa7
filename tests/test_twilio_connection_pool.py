"""Sends to Twilio reuse their connections: the library's pool held ``cpu count + 4`` https
connections (10 for http) while Chorus sends on 16 threads, so on a small machine most sends
found the pool full, discarded their connection ("Connection pool is full") and the next one
opened a new TCP (and, against Twilio, TLS) connection."""

from __future__ import annotations

import asyncio
import logging

import pytest

from channels import twilio
from channels.base import OutboundMessage
from tests.fake_telegram import LocalServer
from tests.fake_twilio import FakeTwilio


def test_sixteen_sends_at_once_keep_their_connections(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTwilio()
    with LocalServer(fake.app) as server:
        settings = twilio.TwilioSettings(fake.account_sid, fake.auth_token, sms_from="+447700900999", api_base=server.url)
        channel = twilio.TwilioChannel("sms", settings)

        async def burst(round_number: int) -> None:
            await asyncio.gather(*(channel.send(OutboundMessage("sms", f"+4477009{round_number}{n:04d}", f"Hello {n}"))
                                   for n in range(twilio.SENDING_THREADS)))

        with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
            for round_number in range(3):
                asyncio.run(burst(round_number))
    assert len(fake.messages) == 3 * twilio.SENDING_THREADS
    assert [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()] == []
