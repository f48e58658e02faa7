"""scripts/backup and scripts/restore, run as an operator would, on PostgreSQL (pg_dump's
custom format, pg_restore in one transaction) and SQLite (the online backup API)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from bot.safeguarding import checks_from_env
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from storage.database import Database, init_database
from storage.tables import ANSWERS, INBOUND, OUTBOUND, PARTICIPANTS
from tests.conftest import EXAMPLE_STUDY, ROOT
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock


def _converse(database: Database) -> str:
    service = ConversationService(database, StudyRegistry.from_folder(EXAMPLE_STUDY), FakeClock(), address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    for n, text in enumerate(["WAIT", "yes", "3", "2 3", "A long cold wait on a plastic chair", "4"]):
        result = service.receive(InboundMessage("sms", "+447700900123", f"SM{n}", text))
    assert result.participant_id is not None
    return result.participant_id


def _snapshot(database: Database) -> dict[str, list[Any]]:
    with database.transaction() as connection:
        return {table.name: [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]
                for table in (PARTICIPANTS, INBOUND, OUTBOUND, ANSWERS)}


def _script(name: str, *args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHORUS_DATABASE_URL": database_url}
    done = subprocess.run([str(ROOT / "scripts" / name), *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_a_backup_restores_the_conversation_after_the_database_changed(database_url: str, tmp_path: Path) -> None:
    database = init_database(database_url)
    try:
        pid = _converse(database)
        before = _snapshot(database)
        assert len(before["answers"]) == 5 and before["participants"][0][0] == pid

        target = tmp_path / "backups" / "chorus.dump"
        _script("backup", str(target), database_url=database_url)
        assert stat.S_IMODE(target.stat().st_mode) == 0o600, "a backup holds personal data"

        with database.transaction() as connection:  # an accident after the backup
            connection.execute(delete(ANSWERS))
            connection.execute(update(OUTBOUND).values(status="failed", error="oops"))
        _converse(database)  # and new rows that did not exist at backup time
        assert _snapshot(database) != before
        database.dispose()

        _script("restore", str(target), "--yes", database_url=database_url)
        assert _snapshot(database) == before
        assert database.current_revision() is not None  # the schema came back with its revision
    finally:
        database.dispose()


def test_a_failed_restore_says_why_and_leaves_the_database_alone(database_url: str, tmp_path: Path, database_kind: str) -> None:
    database = init_database(database_url)
    try:
        _converse(database)
        before = _snapshot(database)
        database.dispose()
        garbage = tmp_path / "not-a-backup.dump"
        garbage.write_bytes(b"this is not a backup" * 100)
        env = {**os.environ, "CHORUS_DATABASE_URL": database_url}
        done = subprocess.run([str(ROOT / "scripts" / "restore"), str(garbage), "--yes"], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode != 0 and "Error" in done.stderr
        assert _snapshot(database) == before
    finally:
        database.dispose()


def test_the_password_never_reaches_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import backup

    seen: dict[str, Any] = {}

    def run(command: list[str], env: dict[str, str], **_: Any) -> subprocess.CompletedProcess[str]:
        seen.update(command=command, env=env)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(backup.subprocess, "run", run)
    backup.restore("postgresql+psycopg://chorus:s3cret@db.example.org:6543/chorus?sslmode=require", Path(__file__))
    assert not any("s3cret" in part for part in seen["command"])
    assert seen["env"]["PGPASSWORD"] == "s3cret" and seen["env"]["PGHOST"] == "db.example.org"
    assert seen["env"]["PGPORT"] == "6543" and seen["env"]["PGSSLMODE"] == "require" and "--dbname=chorus" in seen["command"]


def test_a_missing_or_empty_sqlite_database_is_not_backed_up_as_if_it_were_one(tmp_path: Path) -> None:
    """Connecting to a missing SQLite file makes an empty one: a backup of it would have said
    "backed up" with nothing in it. It now refuses, saying where it looked."""
    missing = tmp_path / "nowhere" / "chorus.db"
    env = {**os.environ, "CHORUS_DATABASE_URL": f"sqlite:///{missing}"}
    done = subprocess.run([str(ROOT / "scripts" / "backup"), str(tmp_path / "b.sqlite3")], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode != 0 and f"no SQLite database at {missing}" in done.stderr
    assert not missing.exists() and not (tmp_path / "b.sqlite3").exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    env["CHORUS_DATABASE_URL"] = f"sqlite:///{empty}"
    done = subprocess.run([str(ROOT / "scripts" / "backup"), str(tmp_path / "b.sqlite3")], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode != 0 and "holds no Chorus database" in done.stderr


def test_a_relative_backup_file_is_written_where_the_operator_is(database_url: str, tmp_path: Path, database_kind: str) -> None:
    database = init_database(database_url)
    try:
        _converse(database)
    finally:
        database.dispose()
    env = {**os.environ, "CHORUS_DATABASE_URL": database_url}
    done = subprocess.run([str(ROOT / "scripts" / "backup"), "mine.dump"], env=env, capture_output=True, text=True,
                          timeout=120, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mine.dump").is_file() and not (ROOT / "mine.dump").exists()
