"""A database outage (bot/outage.py): the inbox worker, the dispatcher and the scheduler back
off, log the first failure with its traceback and then a short line now and then, say once when
the database is back, and carry on by themselves. On a real PostgreSQL database made unreachable."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.dispatcher import Dispatcher
from bot.inbox import InboxWorker
from bot.outage import Outage
from bot.scheduler import Scheduler
from bot.service import ConversationService
from channels.base import InboundMessage
from tests.db_fixtures import TEST_ADDRESS_KEY, TEST_DATA_KEY, FakeClock, PostgresDatabases
from tests.test_dispatcher import Recorder, dispatcher

OUTAGE_SECONDS = 3.0


class Switchable:
    """A PostgreSQL database that can be made to refuse every connection, and then welcomed back."""

    def __init__(self, databases: PostgresDatabases) -> None:
        self.databases = databases
        self.name = databases.create()
        self.url = databases.url(self.name)

    def go_away(self) -> None:
        admin = self.databases._connection()
        admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (self.name,))

    def come_back(self) -> None:
        self.databases._connection().execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


@pytest.fixture
def switchable(postgres_databases: PostgresDatabases) -> Iterator[Switchable]:
    database = Switchable(postgres_databases)
    yield database
    database.come_back()


@pytest.fixture
def outage_service(switchable: Switchable, example_study_path: Path) -> Iterator[ConversationService]:
    from bot.safeguarding import checks_from_env
    from bot.studies import StudyRegistry
    from storage.crypto import Sealer
    from storage.database import Database, init_database

    init_database(switchable.url).dispose()
    database = Database(switchable.url, sealer=Sealer([TEST_DATA_KEY]))
    yield ConversationService(database, StudyRegistry.from_folder(example_study_path), FakeClock(),
                              address_key=TEST_ADDRESS_KEY, safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    database.dispose()


def quick(outage: Outage) -> Outage:
    """The same tracker with the test's time scale: 0.05 s doubling to 0.4 s, a reminder each second."""
    return Outage(outage.log, outage.what, first_delay=0.05, max_delay=0.4, remind_every=1.0)


def records(caplog: pytest.LogCaptureFixture, logger: str, what: str) -> list[logging.LogRecord]:
    """What one loop logged (the dispatcher's two trackers share a logger; each names itself)."""
    return [r for r in caplog.records
            if r.name == logger and r.levelno >= logging.WARNING and r.getMessage().startswith(what)]


async def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the loop did not get back to work"
        await asyncio.sleep(0.05)


def assert_quiet_outage(during: list[logging.LogRecord], outage: Outage) -> None:
    """Many attempts, one traceback, and a short line about once a second (the test's reminder)."""
    assert outage.failures >= 5, "it kept retrying"
    assert outage.failures <= 20, "it backed off"
    assert sum(1 for r in during if r.exc_info) == 1
    assert 2 <= len(during) <= 2 + int(OUTAGE_SECONDS)
    assert "database unreachable" in during[0].getMessage()
    assert all("still retrying" in r.getMessage() and "\n" not in r.getMessage() for r in during[1:])


async def through_an_outage(switchable: Switchable, caplog: pytest.LogCaptureFixture, logger: str,
                            outage: Callable[[], Outage], afterwards: Callable[[], Awaitable[None]]) -> None:
    caplog.clear()
    switchable.go_away()
    await asyncio.sleep(OUTAGE_SECONDS)
    during = records(caplog, logger, outage().what)
    assert_quiet_outage(during, outage())
    switchable.come_back()
    await afterwards()
    back = records(caplog, logger, outage().what)[len(during):]
    assert [r.getMessage().split(" works again")[0] for r in back if "works again" in r.getMessage()] == [outage().what]


def test_the_inbox_worker_backs_off_quietly_and_resumes(switchable: Switchable, outage_service: ConversationService,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    service = outage_service
    service.accept(InboundMessage("sms", "+447700900001", "SM1", "WAIT"))

    async def scenario() -> None:
        worker = InboxWorker(service.database, service, poll_interval=0.05)
        worker._outage = quick(worker._outage)
        running = asyncio.create_task(worker.run())
        await eventually(lambda: worker.stats.processed == 1)

        async def afterwards() -> None:
            await asyncio.to_thread(service.accept, InboundMessage("sms", "+447700900001", "SM2", "YES"))
            worker.nudge()
            await eventually(lambda: worker.stats.processed == 2)

        await through_an_outage(switchable, caplog, "chorus.inbox", lambda: worker._outage, afterwards)
        await worker.stop()
        await asyncio.wait_for(running, 5)

    asyncio.run(scenario())


def test_the_dispatcher_backs_off_quietly_and_resumes(switchable: Switchable, outage_service: ConversationService,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    service, sms = outage_service, Recorder("sms")
    service.receive(InboundMessage("sms", "+447700900001", "SM1", "WAIT"))

    async def scenario() -> None:
        sender: Dispatcher = dispatcher(service, service.clock, sms, poll_interval=0.05, heartbeat_every=0.2)
        sender._outage = quick(sender._outage)
        sender._counting_outage = quick(sender._counting_outage)
        running = asyncio.create_task(sender.run())
        await eventually(lambda: len(sms.sent) == 1)

        async def afterwards() -> None:
            await asyncio.to_thread(service.receive, InboundMessage("sms", "+447700900001", "SM2", "YES"))
            sender.nudge()
            await eventually(lambda: len(sms.sent) == 2)

        await through_an_outage(switchable, caplog, "chorus.dispatcher", lambda: sender._outage, afterwards)
        counting = records(caplog, "chorus.dispatcher", "counting the dispatchers")
        assert sum(1 for r in counting if r.exc_info) <= 1, "counting the dispatchers: one traceback at most"
        await sender.stop()
        await asyncio.wait_for(running, 5)

    asyncio.run(scenario())


def test_the_scheduler_skips_ticks_while_backing_off_and_resumes(switchable: Switchable, outage_service: ConversationService,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    service = outage_service
    scheduler = Scheduler(service.database, service, service.studies)
    scheduler._outage = quick(scheduler._outage)
    ticks: list[Any] = []
    tick = scheduler.tick
    scheduler.tick = lambda *args: ticks.append(1) or tick(*args)  # type: ignore[method-assign, func-returns-value]

    async def ticking(stop: asyncio.Event) -> None:  # as APScheduler would, but every 20 ms
        while not stop.is_set():
            await asyncio.to_thread(scheduler.run_tick)
            await asyncio.sleep(0.02)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(ticking(stop))
        await eventually(lambda: len(ticks) >= 1)

        async def afterwards() -> None:
            resumed = len(ticks)
            await eventually(lambda: scheduler._outage.failures == 0 and len(ticks) >= resumed + 3)

        await through_an_outage(switchable, caplog, "chorus.scheduler", lambda: scheduler._outage, afterwards)
        stop.set()
        await running

    asyncio.run(scenario())
    assert len(ticks) < 200, "ticks were skipped while backing off (the timer fired every 20 ms)"
