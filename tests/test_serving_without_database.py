"""A serving process comes up without PostgreSQL when it is unreachable (bot/degraded.py): the
process uvicorn starts in place of one that died during an outage, and ``chorus serve``
started during one, answer /health, say 503 on /ready, spool webhooks, and finish starting
once the database answers; its messages are then stored and answered once. The real
``chorus serve`` on a throwaway database blocked with ``ALLOW_CONNECTIONS false``. Also: the
inbox worker wakes from a database back-off when nudged, a wrong database name still stops
serve in one line, and ``--processes 2`` on SQLite is refused before the database is made."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.cli import cli
from bot.inbox import InboxWorker
from bot.outage import is_unreachable
from bot.service import ConversationService
from channels.base import InboundMessage
from storage.database import Database
from storage.tables import INBOUND
from tests.channel_helpers import EXAMPLE, PUBLIC_URL, provider_env, sign
from tests.db_fixtures import TEST_DATA_KEY, PostgresDatabases
from tests.fake_telegram import LocalServer, wait_for
from tests.fake_twilio import FakeTwilio
from tests.test_outage_database import Switchable, eventually

pytestmark = pytest.mark.postgres
PHONES = ["+447700900401", "+447700900402", "+447700900403", "+447700900404"]
WEBHOOK = "/webhooks/twilio"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with LocalServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def blockable(postgres_databases: PostgresDatabases) -> Iterator[Switchable]:
    database = Switchable(postgres_databases)
    yield database
    database.come_back()


class Serve:
    """``chorus serve`` in a subprocess, its log in a file."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def said(self) -> str:
        """The log so far; fails at once (with its end) if serve has stopped."""
        said = self.log.read_text(errors="replace")
        assert self.process.poll() is None, f"chorus serve stopped:\n{said[-3000:]}"
        return said

    def children(self) -> list[int]:
        """uvicorn's serving processes (not multiprocessing's resource tracker)."""
        found = []
        for entry in Path("/proc").iterdir():
            try:
                stat, command = (entry / "stat").read_text(), (entry / "cmdline").read_text(errors="replace")
            except (OSError, ValueError):
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid and "spawn_main" in command:
                found.append(int(entry.name))
        return sorted(found)

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(self.url(path), timeout=5)
        except httpx.HTTPError:
            return None

    def status(self, path: str) -> int | None:
        answer = self.get(path)
        return None if answer is None else answer.status_code

    def sms(self, twilio: FakeTwilio, phone: str, body: str) -> httpx.Response:
        form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": twilio.account_sid, "From": phone,
                "To": "+447700900999", "Body": body, "NumMedia": "0"}
        signature = sign(PUBLIC_URL + WEBHOOK, form, twilio.auth_token)
        return httpx.post(self.url(WEBHOOK), data=form, headers={"X-Twilio-Signature": signature}, timeout=30)


@contextmanager
def serving(tmp_path: Path, database_url: str, twilio: FakeTwilio, port: int, processes: int) -> Iterator[Serve]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CHORUS_", "TWILIO_", "TELEGRAM_"))}
    env.update(provider_env(twilio=twilio, twilio_url=twilio.url))
    env.update({"CHORUS_DATABASE_URL": database_url, "CHORUS_HASH_KEY": "test-key", "CHORUS_DATA_KEYS": TEST_DATA_KEY,
                "CHORUS_STUDIES_DIR": str(EXAMPLE), "CHORUS_SPOOL_DIR": str(tmp_path / "spool"),
                "CHORUS_LOG_LEVEL": "INFO", "CHORUS_SAFEGUARDING": "patterns", "PYTHONUNBUFFERED": "1"})
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--processes", str(processes)],
                                   cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    serve = Serve(process, port, log)
    try:
        yield serve
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def spooled(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "spool").glob("*.spool"))


def stored(url: str) -> list[tuple[str, str]]:
    """(provider id, status) of every stored message."""
    database = Database(url)
    try:
        with database.read_transaction() as connection:
            return [(row.provider_id, row.status) for row in connection.execute(select(INBOUND.c.provider_id, INBOUND.c.status))]
    finally:
        database.dispose()


def assert_spooled_while_away(serve: Serve, twilio: FakeTwilio, phones: list[str]) -> None:
    for phone in phones:
        answer = serve.sms(twilio, phone, "WAIT")
        assert (answer.status_code, answer.headers["X-Chorus-Inbox"]) == (200, "spooled")
    ready = serve.get("/ready")
    assert ready is not None and ready.status_code == 503
    [reason] = ready.json()["reasons"]
    assert reason.startswith("database: OperationalError"), reason
    assert ready.json()["spooled"] == len(phones)
    health = serve.get("/health")
    assert health is not None and health.json()["database"] == "unavailable", "/health answers, saying why"


def assert_stored_and_answered_once(serve: Serve, tmp_path: Path, url: str, twilio: FakeTwilio, phones: list[str]) -> None:
    wait_for(lambda: not spooled(tmp_path), 60, "the spool to be stored")
    wait_for(lambda: all(twilio.bodies_to(phone) for phone in phones), 90, "a reply to each")
    wait_for(lambda: all(serve.status("/ready") == 200 for _ in range(4)), 30, "every process ready")
    time.sleep(2)  # (a second reply would have come by now)
    statuses = [status for _, status in stored(url)]
    assert len(statuses) == len(phones) and not {"received", "failed"} & set(statuses), f"stored once each: {statuses}"
    for phone in phones:
        [reply] = twilio.bodies_to(phone)  # answered once
        assert "Reply YES" in reply


def test_a_process_killed_during_an_outage_is_replaced_by_one_that_serves_without_the_database(
        tmp_path: Path, blockable: Switchable, twilio: FakeTwilio) -> None:
    with serving(tmp_path, blockable.url, twilio, port=8110, processes=2) as serve:
        wait_for(lambda: serve.said() is not None and len(serve.children()) == 2 and serve.status("/ready") == 200, 180, "two serving processes")
        blockable.go_away()
        for number, dead in enumerate(serve.children(), start=1):  # both, one after the other: only replacements remain
            replaced = re.compile(f"serving process (\\d+) started in place of {dead}\n")
            os.kill(dead, signal.SIGKILL)
            found = wait_for(lambda: replaced.search(serve.said()), 60, "a replacement")  # noqa: B023
            wait_for(lambda: serve.said().count("serving without it") >= number, 60, "the replacement up")  # noqa: B023
            assert int(found[1]) in serve.children()
        time.sleep(1)
        assert serve.process.poll() is None, "serve is still running"
        assert "failed to start" not in serve.said() and "Application startup failed" not in serve.said()
        assert_spooled_while_away(serve, twilio, PHONES)
        time.sleep(8)  # an outage long enough for the loops' back-off to grow past what the checks below allow

        blockable.come_back()
        back = time.monotonic()
        wait_for(lambda: not spooled(tmp_path), 30, "the spool to be stored")
        wait_for(lambda: len(stored(blockable.url)) == len(PHONES)
                 and all(status != "received" for _, status in stored(blockable.url)), 30, "the inbox processed")
        assert time.monotonic() - back < 15, "processed within seconds of the database's return, not at the next back-off"
        assert_stored_and_answered_once(serve, tmp_path, blockable.url, twilio, PHONES)
        said = serve.said()
    # one WARNING a process started during the outage: the two replacements (and, on a loaded
    # machine, one still starting when the database was blocked, or one uvicorn replaced for being slow)
    assert said.count("WARNING chorus.start the database is unreachable") >= 2
    assert "started on the database" in said
    assert not any(phone in said for phone in PHONES)


@pytest.mark.parametrize("processes", [1, 2])
def test_serve_started_while_the_database_is_blocked_comes_up_spools_and_starts_once_it_answers(
        tmp_path: Path, blockable: Switchable, twilio: FakeTwilio, processes: int) -> None:
    blockable.go_away()  # a new database, never migrated: the start-up migrates it once it answers
    phones = PHONES[:2]
    with serving(tmp_path, blockable.url, twilio, port=8111 + processes, processes=processes) as serve:
        wait_for(lambda: serve.said().count("serving without it") == processes and serve.status("/health") == 503,
                 180, "serve up without the database")
        assert serve.process.poll() is None
        assert_spooled_while_away(serve, twilio, phones)
        blockable.come_back()
        assert_stored_and_answered_once(serve, tmp_path, blockable.url, twilio, phones)
        said = serve.said()
    warnings = [line for line in said.splitlines() if " WARNING " in line]
    assert sum("chorus.start the database is unreachable" in line for line in warnings) == processes, "one WARNING a process"
    assert 'database "chorus_test_' in said and "is not currently accepting connections" in said
    assert "Traceback" not in said, "the loops and the voice pipeline say a line each, with no traceback"


def test_only_an_unreachable_database_counts_as_one_to_wait_for(blockable: Switchable, postgres_databases: PostgresDatabases) -> None:
    def error_of(url: str) -> Exception:
        database = Database(url)
        try:
            with database.read_transaction():
                pass
        except Exception as error:
            return error
        finally:
            database.dispose()
        raise AssertionError("it connected")

    blockable.go_away()
    assert is_unreachable(error_of(blockable.url))
    assert is_unreachable(error_of("postgresql://postgres@127.0.0.1:8119/test"))  # nothing listens there
    assert not is_unreachable(error_of(postgres_databases.url("no_such_chorus_db")))
    assert not is_unreachable(error_of("postgresql://postgres@no-such-host.invalid/test"))


def test_a_database_that_does_not_exist_still_stops_serve_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"CHORUS_DATA_KEYS": TEST_DATA_KEY, "CHORUS_HASH_KEY": "test-key"}
    for processes in ("1", "2"):
        refused = CliRunner().invoke(cli, ["serve", "--processes", processes, "--database",
                                           "postgresql://postgres@127.0.0.1:5432/no_such_chorus_db"], env=env)
        assert refused.exit_code == 1, refused.output
        assert refused.output.startswith("Error: cannot open the database (CHORUS_DATABASE_URL): ")
        assert 'database "no_such_chorus_db" does not exist' in refused.output


def test_several_processes_on_sqlite_are_refused_before_the_database_is_made(tmp_path: Path) -> None:
    database = tmp_path / "x.db"
    env = {"CHORUS_DATABASE_URL": f"sqlite:///{database}", "CHORUS_KEY_FILE": str(tmp_path / "chorus.key"),
           "CHORUS_DATA_KEYS": TEST_DATA_KEY}
    refused = CliRunner().invoke(cli, ["serve", "--processes", "2"], env=env)
    assert refused.exit_code == 1 and "--processes above 1 needs PostgreSQL" in refused.output
    assert not database.exists()


def test_a_nudge_wakes_the_inbox_worker_from_a_database_back_off(
        blockable: Switchable, outage_service: ConversationService, caplog: pytest.LogCaptureFixture) -> None:
    """A message stored (a spool replayed, a webhook) shows the database is back: the worker
    looks at once, not at the end of a back-off that may have grown to 30 s."""
    caplog.set_level(logging.INFO)
    service = outage_service

    async def scenario() -> None:
        worker = InboxWorker(service.database, service, poll_interval=0.05)
        running = asyncio.create_task(worker.run())
        blockable.go_away()
        await eventually(lambda: worker._outage.failures >= 4)  # backing off 1, 2, 4, then 8 s
        blockable.come_back()
        await asyncio.to_thread(service.accept, InboundMessage("sms", PHONES[0], "SM-back", "WAIT"))
        nudged = time.monotonic()
        worker.nudge()
        await eventually(lambda: worker.stats.processed == 1, timeout=20)
        assert time.monotonic() - nudged < 2, "woken by the nudge"
        await worker.stop()
        await asyncio.wait_for(running, 5)

    asyncio.run(scenario())


@pytest.fixture
def outage_service(blockable: Switchable) -> Iterator[ConversationService]:
    from bot.safeguarding import checks_from_env
    from bot.studies import StudyRegistry
    from storage.crypto import Sealer
    from storage.database import init_database
    from tests.db_fixtures import TEST_ADDRESS_KEY

    init_database(blockable.url).dispose()
    database = Database(blockable.url, sealer=Sealer([TEST_DATA_KEY]))
    yield ConversationService(database, StudyRegistry.from_folder(EXAMPLE), address_key=TEST_ADDRESS_KEY,
                              safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    database.dispose()


def test_a_start_up_that_finds_the_addresses_sealed_with_other_keys_stores_nothing(
        blockable: Switchable, outage_service: ConversationService) -> None:
    """``chorus serve`` could not check the keys while the database was unreachable: the start-up
    does, and keeps the process's database closed (messages stay in the spool) if they differ."""
    from bot.app import build_or_defer
    from bot.settings import Settings

    outage_service.accept(InboundMessage("sms", PHONES[0], "SM-earlier", "WAIT"))  # an address hashed with the test key
    settings = Settings.from_env({}, database_url=blockable.url, hash_key="another-key", data_keys=TEST_DATA_KEY,
                                 studies_dir=str(EXAMPLE))
    blockable.go_away()
    chorus, start_up = build_or_defer(settings)
    assert start_up is not None and start_up.reason() == "database: OperationalError (this process finishes starting once it answers)"

    async def scenario() -> None:
        async def started() -> None:
            raise AssertionError("started with keys that do not match")

        start_up.begin(started)
        blockable.come_back()
        await eventually(lambda: start_up.outage.failures >= 3)
        assert start_up.reason() == "start-up: KeysDoNotMatch (retrying)"
        with pytest.raises(OperationalError, match="has not finished starting"), chorus.database.transaction():
            pass
        await start_up.stop()

    try:
        asyncio.run(scenario())
    finally:
        chorus.database.dispose()
