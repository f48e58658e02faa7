"""On SQLite a webhook whose message cannot get the write lock within ``give_up_after`` seconds
(another process holds it; the busy timeout is 30 s, Twilio waits 15) is spooled and answered,
as in an outage: the webhooks waiting give up together, in the order they came, and the batch
that waited is stored late, once, if it commits at all (bot/inbox.py, bot/webhooks.py)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.inbox import InboxWriter
from bot.safeguarding import checks_from_env
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from storage.crypto import Sealer
from storage.database import Database, WriterBusy
from storage.tables import INBOUND
from tests.channel_helpers import post_twilio
from tests.conftest import EXAMPLE_STUDY
from tests.db_fixtures import TEST_ADDRESS_KEY, TEST_DATA_KEY, FakeClock
from tests.fake_telegram import wait_for
from tests.test_webhook_spool import PHONE, Fakes, fakes, serving, sms, spooled  # noqa: F401  (fakes: a fixture)
from tests.threads import held_on_another_thread


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    (tmp_path / "data").mkdir()
    shutil.copyfile(sqlite_template, tmp_path / "data" / "chorus.db")
    return f"sqlite:///{tmp_path / 'data' / 'chorus.db'}"


@pytest.fixture
def service(sqlite_url: str) -> Iterator[ConversationService]:
    database = Database(sqlite_url, sealer=Sealer([TEST_DATA_KEY]))
    yield ConversationService(database, StudyRegistry.from_folder(EXAMPLE_STUDY), FakeClock(), address_key=TEST_ADDRESS_KEY,
                              safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    database.dispose()


@contextmanager
def another_process_writing(url: str) -> Iterator[None]:
    """Another process's transaction held while the block runs (its own view of the file: it
    holds SQLite's write lock, not this process's)."""
    other = Database(url)
    try:
        with held_on_another_thread(other.transaction):
            yield
    finally:
        other.dispose()


def stored(service: ConversationService) -> list[str]:
    with service.database.read_transaction() as connection:  # (a reader waits for no writer)
        return list(connection.execute(select(INBOUND.c.provider_id).order_by(INBOUND.c.id)).scalars())


def text(provider_id: str, body: str = "WAIT") -> InboundMessage:
    return InboundMessage("sms", "+447700900001", provider_id, body)


def test_webhooks_waiting_for_sqlites_write_lock_give_up_in_order_and_the_batch_is_stored_late_once(
        service: ConversationService, sqlite_url: str) -> None:
    late: list[list[ReceiveResult]] = []
    told: list[tuple[str, str, float]] = []

    async def webhook(writer: InboxWriter, provider_id: str) -> None:
        started = time.monotonic()
        try:
            await writer.store(text(provider_id))
            told.append((provider_id, "stored", time.monotonic() - started))
        except WriterBusy:
            told.append((provider_id, "busy", time.monotonic() - started))

    async def run() -> None:
        writer = InboxWriter(service, process_up_to=8, on_loop=True, give_up_after=0.5, on_late=late.append)
        with another_process_writing(sqlite_url):
            first = asyncio.ensure_future(webhook(writer, "SM-1"))
            await asyncio.sleep(0.2)  # SM-1's batch waits in the writer's thread; these queue behind it
            behind = [asyncio.ensure_future(webhook(writer, f"SM-{n}")) for n in (2, 3)]
            await asyncio.gather(first, *behind)
            await webhook(writer, "SM-4")  # while the batch given up on still waits: told at once
            assert late == [] and stored(service) == [], "nothing stored while the other process writes"
        await asyncio.sleep(0)
        for _ in range(100):  # the batch given up on commits once the lock is free
            if late:
                break
            await asyncio.sleep(0.05)
        await webhook(writer, "SM-5")  # the writer is itself again
        await writer.stop()

    asyncio.run(run())
    assert [(provider_id, outcome) for provider_id, outcome, _ in told] == [
        ("SM-1", "busy"), ("SM-2", "busy"), ("SM-3", "busy"), ("SM-4", "busy"), ("SM-5", "stored")], "in the order they came"
    assert all(took < 2 for _, _, took in told), f"none waited for the busy timeout: {told}"
    assert told[3][2] < 0.2, "told at once while the given-up batch still waited"
    assert [[result.status for result in results] for results in late] == [["joined"]]
    assert stored(service) == ["SM-1", "SM-5"], "the batch stored late; those queued behind it left to the spool"


def test_a_twilio_webhook_kept_from_sqlite_is_spooled_answered_and_stored_once(
        fakes: Fakes, tmp_path: Path, sqlite_url: str) -> None:  # noqa: F811
    folder, join = tmp_path / "spool", sms("WAIT")
    with serving(sqlite_url, folder, fakes) as running:
        running.hub.store_wait = 0.5  # (the intake, made at start, keeps its own: set it there too)
        assert running.hub.intake is not None
        running.hub.intake.give_up_after = 0.5
        with another_process_writing(sqlite_url):
            started = time.monotonic()
            answer = post_twilio(running, join, fakes.twilio.auth_token)
            took = time.monotonic() - started
            assert (answer.status_code, answer.headers["X-Chorus-Inbox"]) == (200, "spooled")
            assert took < 5 and len(spooled(folder)) == 1
        wait_for(lambda: not spooled(folder), 30, "the spool to be replayed")
        wait_for(lambda: fakes.twilio.bodies_to(PHONE), 40, "the reply")
        running.settle()
        with running.chorus.database.transaction() as connection:
            assert connection.execute(select(INBOUND.c.provider_id)).scalars().all() == [join["MessageSid"]], "stored once"
        [reply] = fakes.twilio.bodies_to(PHONE)
        assert "Reply YES" in reply, "answered once"


def test_on_postgresql_a_webhook_still_waits_for_its_store(database: Database) -> None:
    """PostgreSQL has no single writer to wait for: its path is as it was (no giving up)."""
    service = ConversationService(database, StudyRegistry.from_folder(EXAMPLE_STUDY), FakeClock(), address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    writer = InboxWriter(service, on_loop=True, give_up_after=0.5)
    assert writer.give_up_after == (0.5 if database.is_sqlite else None)
