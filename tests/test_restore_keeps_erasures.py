"""A restore does not bring back participants erased since the backup was taken: scripts/restore
reads the erasures from the database it replaces and erases those participants again
(bot/restoring.py), keeping the record of the erasure. On SQLite and PostgreSQL, as an operator
runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from storage.crypto import Sealer
from storage.database import Database, init_database
from storage.tables import (
    ANSWERS,
    AUDIT_EVENTS,
    CONTACTS,
    DUE_TASKS,
    FAREWELLS,
    OUTBOUND,
    PARTICIPANTS,
)
from tests.conftest import EXAMPLE_STUDY, ROOT
from tests.db_fixtures import TEST_ADDRESS_KEY, TEST_DATA_KEY, FakeClock, PostgresDatabases

ANSWERS_GIVEN = ["WAIT", "yes", "3", "2 3", "A long cold wait on a plastic chair", "4"]


def _service(database: Database, clock: FakeClock) -> ConversationService:
    return ConversationService(database, StudyRegistry.from_folder(EXAMPLE_STUDY), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


def _join(service: ConversationService, channel: str, address: str, prefix: str) -> str:
    for n, text in enumerate(ANSWERS_GIVEN):
        result = service.receive(InboundMessage(channel, address, f"{prefix}{n}", text))
    assert result.participant_id is not None
    return result.participant_id


def _ask_to_erase(service: ConversationService, channel: str, address: str, prefix: str, confirm: bool = True) -> None:
    assert service.receive(InboundMessage(channel, address, f"{prefix}-del", "DELETE MY DATA")).status == "processed"
    if confirm:
        assert service.receive(InboundMessage(channel, address, f"{prefix}-yes", "YES")).status == "erased"


def _rows_of(database: Database, participant_id: str) -> dict[str, int]:
    with database.transaction() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table).where(
            (table.c.id if table is PARTICIPANTS else table.c.participant_id) == participant_id)).scalar_one()
            for table in (PARTICIPANTS, CONTACTS, ANSWERS, DUE_TASKS, OUTBOUND)}


def _erasure_records(database: Database, participant_id: str) -> list[tuple[str, Any, dict[str, Any]]]:
    a = AUDIT_EVENTS.c
    with database.transaction() as connection:
        return [(row[0], row[1], row[2]) for row in connection.execute(
            select(a.actor, a.at, a.detail).where(a.action == "erased", a.subject == participant_id).order_by(a.id))]


def _farewells(database: Database) -> list[tuple[Any, ...]]:
    f = FAREWELLS.c
    with database.transaction() as connection:
        return [tuple(row) for row in connection.execute(select(f.channel, f.address_sealed, f.text, f.status, f.created_at))]


def _script(name: str, *args: str, database_url: str, audio: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHORUS_DATABASE_URL": database_url, "CHORUS_DATA_KEYS": TEST_DATA_KEY,
           "CHORUS_VOICE_AUDIO_DIR": str(audio)}
    done = subprocess.run([str(ROOT / "scripts" / name), *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_a_participant_erased_after_the_backup_stays_erased_with_the_record_of_it(database_url: str, tmp_path: Path) -> None:
    database = init_database(database_url, sealer=Sealer([TEST_DATA_KEY]))
    try:
        service = _service(database, FakeClock())
        leaving = _join(service, "whatsapp", "+447700900456", "WA")
        staying = _join(service, "sms", "+447700900123", "SM")
        assert _rows_of(database, leaving)["answers"] == 5
        backup = tmp_path / "before-the-erasure.dump"
        _script("backup", str(backup), database_url=database_url, audio=tmp_path / "audio")

        _ask_to_erase(service, "whatsapp", "+447700900456", "WA")
        [(actor, erased_at, detail)] = _erasure_records(database, leaving)
        assert actor == "participant" and detail["reason"] == "participant's request"
        farewell = _farewells(database)
        assert len(farewell) == 1, "the confirmation waits for a dispatcher (none runs here)"
        database.dispose()

        done = _script("restore", str(backup), "--yes", database_url=database_url, audio=tmp_path / "audio")
        assert _rows_of(database, leaving) == {"participants": 0, "contacts": 0, "answers": 0, "due_tasks": 0,
                                               "outbound_messages": 0}
        assert "erased again 1 participant erased before the restore (1 erasure record carried over)" in done.stdout
        assert _farewells(database) == farewell, "the confirmation not yet sent is still to be sent, once"
        assert "1 confirmation(s) of an erasure still to send queued again" in done.stdout
        assert _rows_of(database, staying)["answers"] == 5, "everyone else is as the backup had them"
        records = _erasure_records(database, leaving)
        assert records[0] == (actor, erased_at, detail), "the participant's own request is on record, as it was"
        assert [(r[0], r[2]["reason"]) for r in records[1:]] == [("restore", "erased before the restore")]
        assert records[1][2]["removed"]["answers"] == 5
        with database.transaction() as connection:
            a = AUDIT_EVENTS.c
            restored = connection.execute(select(a.detail).where(a.action == "restored")).scalar_one()
        assert restored == {"backup": backup.name, "erased_again": 1, "erasure_records_kept": 1, "confirmations_queued_again": 1}
        database.dispose()

        again = _script("restore", str(backup), "--yes", database_url=database_url, audio=tmp_path / "audio")
        assert "erased again 1 participant erased before the restore (2 erasure records carried over)" in again.stdout
        assert _rows_of(database, leaving)["participants"] == 0
        assert [r[0] for r in _erasure_records(database, leaving)] == ["participant", "restore", "restore"], "each erasure is on record"
    finally:
        database.dispose()


def test_a_backup_taken_after_the_erasure_restores_without_erasing_or_recording_twice(database_url: str, tmp_path: Path) -> None:
    database = init_database(database_url, sealer=Sealer([TEST_DATA_KEY]))
    try:
        service = _service(database, FakeClock())
        leaving = _join(service, "sms", "+447700900456", "A")
        staying = _join(service, "sms", "+447700900123", "B")
        _ask_to_erase(service, "sms", "+447700900456", "A")
        backup = tmp_path / "after-the-erasure.dump"
        _script("backup", str(backup), database_url=database_url, audio=tmp_path / "audio")
        database.dispose()

        done = _script("restore", str(backup), "--yes", database_url=database_url, audio=tmp_path / "audio")
        assert "erased again 0 participants erased before the restore\n" in done.stdout
        assert [r[0] for r in _erasure_records(database, leaving)] == ["participant"]
        assert _rows_of(database, staying)["answers"] == 5
    finally:
        database.dispose()


def test_someone_asked_to_confirm_after_the_backup_is_named_after_the_restore(database_url: str, tmp_path: Path) -> None:
    """DELETE MY DATA answered by "reply YES" after the backup: the restored database has forgotten
    the question, so their YES would be taken as an answer. The restore says who they are."""
    database = init_database(database_url, sealer=Sealer([TEST_DATA_KEY]))
    try:
        service = _service(database, FakeClock())
        asking = _join(service, "sms", "+447700900456", "A")
        backup = tmp_path / "chorus.dump"
        _script("backup", str(backup), database_url=database_url, audio=tmp_path / "audio")
        _ask_to_erase(service, "sms", "+447700900456", "A", confirm=False)
        database.dispose()

        done = _script("restore", str(backup), "--yes", database_url=database_url, audio=tmp_path / "audio")
        assert "1 participant(s) had asked to erase their data" in done.stderr and asking in done.stderr
        assert _rows_of(database, asking)["participants"] == 1, "nobody is erased without their YES"
    finally:
        database.dispose()


def test_a_restore_onto_an_empty_server_says_loudly_that_erasures_must_be_redone(
    database_url: str, database_kind: str, tmp_path: Path, postgres_databases: PostgresDatabases,
) -> None:
    database = init_database(database_url, sealer=Sealer([TEST_DATA_KEY]))
    try:
        service = _service(database, FakeClock())
        pid = _join(service, "sms", "+447700900456", "A")
        backup = tmp_path / "chorus.dump"
        _script("backup", str(backup), database_url=database_url, audio=tmp_path / "audio")
    finally:
        database.dispose()
    if database_kind == "sqlite":
        new_server = f"sqlite:///{tmp_path / 'new-server' / 'var' / 'chorus.db'}"
    else:
        new_server = postgres_databases.url(postgres_databases.create())
    done = _script("restore", str(backup), "--yes", database_url=new_server, audio=tmp_path / "audio")
    assert "restored from" in done.stdout and "erased again" not in done.stdout
    assert "WARNING: no erasures could be read from the database replaced" in done.stderr
    assert "anyone erased after this backup was taken" in done.stderr and "chorus erase" in done.stderr
    restored = Database(new_server)
    try:
        assert _rows_of(restored, pid)["answers"] == 5
    finally:
        restored.dispose()
