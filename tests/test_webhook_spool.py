"""Inbound webhooks survive a database outage (bot/spool.py): a Twilio or Telegram message that
cannot be stored because the database is unreachable is kept, encrypted, on local disk and
answered as usual; once the database is back it is stored exactly once, in order, and the
participant gets their reply. A restart replays what is left; an unreadable entry is set aside.
On a real server, with SQLite (its folder taken away) and PostgreSQL (connections refused)."""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.outage import Outage
from bot.settings import Settings
from bot.spool import Spool, spool_folder
from bot.webhooks import EMPTY_TWIML, INBOX_HEADER, ChannelHub, install
from channels.base import InboundMessage
from storage.crypto import Sealer, generate_key
from storage.tables import INBOUND
from tests.channel_helpers import EXAMPLE, FAST, TELEGRAM_SECRET, Running, post_twilio, provider_env
from tests.db_fixtures import TEST_DATA_KEY, PostgresDatabases
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.fake_twilio import FakeTwilio
from tests.test_outage_database import Switchable

PHONE = "+447700900456"
CHAT = 424242
SLOW = 40.0
"""Seconds to wait for replies after an outage: the dispatcher's own back-off may still run."""


class SqliteOutage:
    """The SQLite database's folder taken away (a volume gone) with the server's open connections."""

    def __init__(self, tmp_path: Path) -> None:
        self.folder, self.away = tmp_path / "data", tmp_path / "data-away"
        self.url = f"sqlite:///{self.folder / 'chorus.db'}"

    def go_away(self, running: Running) -> None:
        self.folder.rename(self.away)
        running.chorus.database.engine.dispose()

    def come_back(self) -> None:
        self.away.rename(self.folder)


class PostgresOutage:
    """The PostgreSQL database refusing connections, its open ones terminated."""

    def __init__(self, databases: PostgresDatabases) -> None:
        self.switchable = Switchable(databases)
        self.url = self.switchable.url

    def go_away(self, running: Running) -> None:
        self.switchable.go_away()

    def come_back(self) -> None:
        self.switchable.come_back()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteOutage | PostgresOutage]:
    if request.param == "sqlite":
        yield SqliteOutage(tmp_path)
        return
    database = PostgresOutage(request.getfixturevalue("postgres_databases"))
    yield database
    database.come_back()


@dataclass
class Fakes:
    telegram: FakeTelegram
    twilio: FakeTwilio
    env: dict[str, str]


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    telegram, twilio = FakeTelegram(), FakeTwilio()
    with LocalServer(telegram.app) as tg, LocalServer(twilio.app) as tw:
        twilio.url = tw.url
        yield Fakes(telegram, twilio, provider_env(telegram, tg.url, twilio, tw.url))


def quick(outage: Outage) -> Outage:
    return Outage(outage.log, outage.what, first_delay=0.1, max_delay=0.5, remind_every=1.0, traceback=outage.traceback)


@contextmanager
def serving(database_url: str, spool: Path, fakes: Fakes) -> Iterator[Running]:
    """Chorus on loopback (uvicorn, lifespan, inbox worker, dispatcher, spool replayer), its loops backing off quickly."""
    settings = Settings.from_env({}, database_url=database_url, hash_key="test-key", data_keys=TEST_DATA_KEY,
                                 studies_dir=str(EXAMPLE), spool_dir=str(spool))
    app = create_app(settings)
    hub = ChannelHub.from_env(fakes.env)
    hub.limits.update(FAST)
    install(app, hub)
    with LocalServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert hub.dispatcher is not None and hub.inbox is not None and hub.replayer is not None
        hub.dispatcher.poll_interval = 0.1
        hub.dispatcher._outage = quick(hub.dispatcher._outage)
        hub.inbox._outage = quick(hub.inbox._outage)
        hub.replayer.outage = quick(hub.replayer.outage)
        yield Running(app, client, hub)


def sms(body: str, sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": PHONE,
            "To": "+447700900999", "Body": body, "NumMedia": "0"}


def post_telegram(running: Running, update: dict[str, Any]) -> httpx.Response:
    return running.client.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})


def spooled(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.spool"))


def inbox(running: Running) -> list[tuple[str, str]]:
    """(channel, provider id) of every stored message, in the order stored."""
    with running.chorus.database.transaction() as connection:
        return [(c, p) for c, p in connection.execute(select(INBOUND.c.channel, INBOUND.c.provider_id).order_by(INBOUND.c.id))]


def test_messages_during_an_outage_are_answered_kept_encrypted_and_stored_once_in_order(
        outage: SqliteOutage | PostgresOutage, fakes: Fakes, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    folder = tmp_path / "spool"
    join, consent = sms("WAIT"), sms("YES")
    tg_join = fakes.telegram.message_update(CHAT, "/start wait")
    with serving(outage.url, folder, fakes) as running:
        outage.go_away(running)
        first = post_twilio(running, join, fakes.twilio.auth_token)
        assert (first.status_code, first.text, first.headers[INBOX_HEADER]) == (200, EMPTY_TWIML, "spooled")
        assert post_twilio(running, join, fakes.twilio.auth_token).status_code == 200  # Twilio retrying: kept again
        telegram = post_telegram(running, tg_join)
        assert (telegram.status_code, telegram.json(), telegram.headers[INBOX_HEADER]) == (200, {"ok": True}, "spooled")
        assert post_twilio(running, consent, fakes.twilio.auth_token).headers[INBOX_HEADER] == "spooled"

        entries = spooled(folder)
        assert len(entries) == 4
        for entry in entries:
            data = entry.read_bytes()
            assert PHONE.encode() not in data and b"/start wait" not in data and b'"provider_id"' not in data
            assert join["MessageSid"].encode() not in data and consent["MessageSid"].encode() not in data
        assert Spool(folder, Sealer([TEST_DATA_KEY])).read(entries[-1]).text == "YES", "sealed with the data keys"
        ready = running.client.get("/ready")
        assert ready.status_code == 503 and ready.json()["spooled"] == 4
        assert "chorus_spool_depth 4.0" in running.client.get("/metrics").text

        outage.come_back()
        wait_for(lambda: not spooled(folder), 20, "the spool to be replayed")
        stored = inbox(running)  # in the order they came, the retry a duplicate
        assert [channel for channel, _ in stored] == ["sms", "telegram", "sms"]
        assert (stored[0][1], stored[2][1]) == (join["MessageSid"], consent["MessageSid"])
        wait_for(lambda: ("consent", "yes") in running.answers(), SLOW, "YES to be processed after WAIT")
        wait_for(lambda: len(fakes.twilio.bodies_to(PHONE)) >= 2, SLOW, "the SMS replies")
        wait_for(lambda: fakes.telegram.texts_to(CHAT), SLOW, "the Telegram reply")
        assert "Reply YES" in fakes.twilio.bodies_to(PHONE)[0] and "Which best describes you?" in fakes.twilio.bodies_to(PHONE)[1]
        assert running.client.get("/ready").json() == {"status": "ready"}
        assert "chorus_spool_depth 0.0" in running.client.get("/metrics").text

    ours = [r for r in caplog.records if r.name in ("chorus.spool", "chorus.webhooks")]
    assert any("kept in the encrypted spool" in r.getMessage() for r in ours)
    assert any(r.getMessage().startswith("stored 4 spooled messages") for r in ours)
    # what they say is counts, delays and the failure's kind: never a number, a message id or words
    # (a store retried while the database is still away logs its back-off, in seconds)
    said = " ".join(r.getMessage() for r in ours)
    for private in (PHONE, str(CHAT), join["MessageSid"], consent["MessageSid"], "/start wait", "YES"):
        assert private not in said, private
    assert all(r.exc_info is None and all(isinstance(arg, int | float | str) for arg in r.args or ()) for r in ours)


def test_a_restart_stores_what_the_spool_kept_and_a_replay_twice_is_harmless(
        outage: SqliteOutage | PostgresOutage, fakes: Fakes, tmp_path: Path) -> None:
    folder, join = tmp_path / "spool", sms("WAIT")
    with serving(outage.url, folder, fakes) as running:
        outage.go_away(running)
        assert post_twilio(running, join, fakes.twilio.auth_token).headers[INBOX_HEADER] == "spooled"
    [entry] = spooled(folder)
    copy = shutil.copyfile(entry, tmp_path / entry.name)
    outage.come_back()
    with serving(outage.url, folder, fakes) as running:
        wait_for(lambda: fakes.twilio.bodies_to(PHONE), SLOW, "the reply after the restart")
        assert inbox(running) == [("sms", join["MessageSid"])] and not spooled(folder)
        shutil.copyfile(copy, entry)  # as if the process had stopped between storing it and deleting its file
        wait_for(lambda: not spooled(folder), 20, "the entry to be replayed again")
        running.settle()
        assert inbox(running) == [("sms", join["MessageSid"])]
        assert len(fakes.twilio.bodies_to(PHONE)) == 1, "stored once, answered once"


def test_an_unreadable_entry_is_set_aside_and_the_rest_are_stored(fakes: Fakes, tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "spool"
    ours, lost_key = Spool(folder, Sealer([TEST_DATA_KEY])), Spool(folder, Sealer([generate_key()]))
    ours.write("00000000000000000003-000000000-1", InboundMessage("sms", PHONE, "SM-kept", "WAIT"))
    lost_key.write("00000000000000000001-000000000-1", InboundMessage("sms", "+447700900111", "SM-other-key", "WAIT"))
    (folder / "00000000000000000002-000000000-1.spool").write_bytes(b"\x00 half a token")
    with serving(f"sqlite:///{tmp_path / 'c.db'}", folder, fakes) as running:
        wait_for(lambda: fakes.twilio.bodies_to(PHONE), SLOW, "the readable entry to be stored and answered")
        assert inbox(running) == [("sms", "SM-kept")]
        assert sorted(p.name for p in (folder / "corrupt").iterdir()) == [
            "00000000000000000001-000000000-1.spool", "00000000000000000002-000000000-1.spool"]
        assert not spooled(folder)
        later = post_twilio(running, sms("YES"), fakes.twilio.auth_token)  # the replayer carries on; webhooks as usual
        assert later.status_code == 200 and later.headers[INBOX_HEADER] != "spooled"
    set_aside = [r for r in caplog.records if r.name == "chorus.spool" and "set aside" in r.getMessage()]
    assert len(set_aside) == 2 and all("WAIT" not in r.getMessage() and r.exc_info is None for r in set_aside)


def test_the_spool_sits_beside_the_sqlite_database_unless_told_otherwise(tmp_path: Path) -> None:
    assert spool_folder(Settings(database_url=f"sqlite:///{tmp_path}/data/chorus.db")) == tmp_path / "data" / "spool"
    assert spool_folder(Settings(database_url="postgresql://chorus@db/chorus")) == Path("var/spool")
    assert spool_folder(Settings.from_env({"CHORUS_SPOOL_DIR": str(tmp_path / "s")})) == tmp_path / "s"
