"""The fake providers as local servers, for tests that send through the real channel classes or
post webhooks to a real ``chorus serve``: Twilio's Messages API (``fake_twilio``, its ``url``
set) and Telegram's Bot API (``fake_telegram``: the fake and its address)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_telegram import FakeTelegram, LocalServer
from tests.fake_twilio import FakeTwilio


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with LocalServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fake_telegram() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        yield fake, server.url
