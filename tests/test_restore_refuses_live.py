"""scripts/restore refuses while Chorus still runs on the database (its processes would carry on
against the replaced data, and an erasure made meanwhile would be undone): a dispatcher that beat
in the last 15 s, or on PostgreSQL another connection to the database. ``--force`` restores
anyway. On SQLite and PostgreSQL, with a real ``chorus serve``."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from storage import peers
from storage.crypto import Sealer
from storage.database import Database, init_database
from storage.tables import PARTICIPANTS
from tests.channel_helpers import provider_env
from tests.conftest import EXAMPLE_STUDY, ROOT
from tests.crash_harness import HASH_KEY, Server
from tests.database_time import age
from tests.db_fixtures import TEST_DATA_KEY, FakeClock, PostgresDatabases
from tests.fake_telegram import LocalServer, wait_for
from tests.fake_twilio import FakeTwilio


def _join(database: Database, address: str) -> None:
    service = ConversationService(database, StudyRegistry.from_folder(EXAMPLE_STUDY), FakeClock(), address_key=HASH_KEY.encode(),
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    service.receive(InboundMessage("sms", address, f"SM{uuid.uuid4().hex}", "WAIT"))


def _participants(database_url: str) -> int:
    database = Database(database_url)
    try:
        with database.transaction() as connection:
            return int(connection.execute(select(func.count()).select_from(PARTICIPANTS)).scalar_one())
    finally:
        database.dispose()


def _script(name: str, *args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHORUS_DATABASE_URL": database_url, "CHORUS_DATA_KEYS": TEST_DATA_KEY,
           "CHORUS_VOICE_AUDIO_DIR": str(ROOT / "var" / "no-audio-here")}
    return subprocess.run([str(ROOT / "scripts" / name), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _backed_up_then_changed(database_url: str, tmp_path: Path) -> Path:
    """A backup with one participant; the database has two afterwards."""
    database = init_database(database_url, sealer=Sealer([TEST_DATA_KEY]))
    try:
        _join(database, "+447700900123")
        backup = tmp_path / "chorus.dump"
        assert _script("backup", str(backup), database_url=database_url).returncode == 0
        _join(database, "+447700900456")
    finally:
        database.dispose()
    assert _participants(database_url) == 2
    return backup


def _beat(database_url: str, ago: timedelta) -> None:
    """A dispatcher's heartbeat ``ago`` in the database's time."""
    database = Database(database_url)
    try:
        with database.transaction() as connection:
            peers.beat(connection, dispatcher := peers.new_dispatcher_id(), timedelta(days=1))
        age(database, peers.DISPATCHERS, "seen_at", ago, peers.DISPATCHERS.c.id == dispatcher)
    finally:
        database.dispose()


def _refused(done: subprocess.CompletedProcess[str]) -> bool:
    lines = done.stderr.strip().splitlines()
    return done.returncode != 0 and len(lines) == 1 and "Chorus is still running on this database" in lines[0] \
        and "stop it first" in lines[0] and "--force" in lines[0]


def test_a_running_chorus_serve_is_stopped_first(database_url: str, tmp_path: Path) -> None:
    backup = _backed_up_then_changed(database_url, tmp_path)
    workdir = tmp_path / "serve"
    workdir.mkdir()
    twilio = FakeTwilio()
    with LocalServer(twilio.app) as provider:  # a channel to send on: serve runs its dispatcher
        server = Server(database_url, EXAMPLE_STUDY, workdir, provider_env(twilio=twilio, twilio_url=provider.url))
        try:
            server.start()
            wait_for(lambda: _dispatchers_alive(database_url), timeout=30, what="the dispatcher's first heartbeat")
            done = _script("restore", str(backup), "--yes", database_url=database_url)
            assert _refused(done), done.stderr
            assert "dispatcher seen in the last 15 s" in done.stderr
            assert _participants(database_url) == 2, "nothing was restored"
        finally:
            server.stop()
    done = _script("restore", str(backup), "--yes", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert _participants(database_url) == 1


def _dispatchers_alive(database_url: str) -> bool:
    database = Database(database_url)
    try:
        with database.transaction() as connection:
            return bool(connection.execute(select(func.count()).select_from(peers.DISPATCHERS)).scalar_one())
    except Exception:  # the server is still creating the tables
        return False
    finally:
        database.dispose()


def test_a_recent_heartbeat_refuses_unless_forced_and_an_old_one_does_not(database_url: str, tmp_path: Path) -> None:
    backup = _backed_up_then_changed(database_url, tmp_path)
    _beat(database_url, timedelta(seconds=5))
    done = _script("restore", str(backup), "--yes", database_url=database_url)
    assert _refused(done), done.stderr
    assert _participants(database_url) == 2

    forced = _script("restore", str(backup), "--yes", "--force", database_url=database_url)
    assert forced.returncode == 0, forced.stderr
    assert _participants(database_url) == 1

    database = init_database(database_url, sealer=Sealer([TEST_DATA_KEY]))
    try:
        _join(database, "+447700900456")
    finally:
        database.dispose()
    _beat(database_url, timedelta(seconds=60))  # a dispatcher that died a minute ago
    done = _script("restore", str(backup), "--yes", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert _participants(database_url) == 1


@pytest.mark.postgres
def test_another_connection_to_postgresql_refuses(tmp_path: Path, postgres_databases: PostgresDatabases) -> None:
    database_url = postgres_databases.url(postgres_databases.create())
    backup = _backed_up_then_changed(database_url, tmp_path)
    with psycopg.connect(database_url, autocommit=True):  # a worker, say, on another machine
        done = _script("restore", str(backup), "--yes", database_url=database_url)
        assert _refused(done), done.stderr
        assert "1 other connection to the database" in done.stderr
    assert _participants(database_url) == 2
    done = _script("restore", str(backup), "--yes", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert _participants(database_url) == 1
