"""Storage: migrations, connection set-up, time zones, the keyed address hash, settings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from bot.settings import Settings, SettingsError
from storage import driver, repository
from storage.database import BUSY_TIMEOUT_MS, Database, WriterBusy, init_database, normalise_url
from storage.driver import Driver
from storage.tables import ALL_TABLES, AUDIT_EVENTS, INBOUND, PARTICIPANTS
from tests.db_fixtures import PostgresDatabases
from tests.threads import held_on_another_thread


def test_migrations_create_every_table_and_match_the_models(database_url: str) -> None:
    database = init_database(database_url)
    assert database.current_revision() is not None
    names = set(inspect(database.engine).get_table_names())
    assert {model.__tablename__ for model in ALL_TABLES} <= names  # type: ignore[attr-defined]
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    database.dispose()


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}; merge or chain them"
    return heads[0]


def test_upgrading_twice_changes_nothing(database: Database) -> None:
    database.upgrade()
    assert database.current_revision() == _head_revision()


def test_times_come_back_as_aware_utc(database: Database) -> None:
    moment = datetime(2025, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)
    with database.transaction() as connection:
        repository.create_participant(connection, "sms", "+447700900123", "hash-1", moment)
    with database.transaction() as connection:
        stored = connection.execute(select(PARTICIPANTS.c.created_at)).scalar_one()
    assert stored == moment and stored.tzinfo is not None and stored.utcoffset().total_seconds() == 0


def test_a_duplicate_inbound_message_is_not_inserted_twice(database: Database) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    values = {"channel": "sms", "provider_id": "SM1", "text": "hi", "media": [], "received_at": now, "status": "received"}
    with database.transaction() as connection:
        first = repository.record_inbound(connection, values)
        again = repository.record_inbound(connection, {**values, "text": "changed"})
    assert first is not None and again is None
    with database.transaction() as connection:
        assert connection.execute(select(INBOUND.c.text)).scalars().all() == ["hi"]


@pytest.mark.parametrize("per_statement", [None, 2], ids=["one statement", "several"])
def test_rows_inserted_together_get_their_ids_in_their_order(
    database: Database, monkeypatch: pytest.MonkeyPatch, per_statement: int | None
) -> None:
    if per_statement is not None:  # the values per statement are capped: the rows go in several
        monkeypatch.setattr(driver, "_MAX_PARAMETERS", per_statement * 5)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with database.transaction() as connection:
        sql = Driver.of(connection)
        rows = [{"at": sql.when(now), "actor": "test", "action": f"row {n}", "subject": None, "detail": "{}"} for n in range(7)]
        ids = sql.insert_rows("audit_events", rows, returning_id=True)
        sql.insert_many("audit_events", [{**row, "action": "many"} for row in rows * 40])  # COPY on PostgreSQL
    with database.transaction() as connection:
        stored = dict(connection.execute(select(AUDIT_EVENTS.c.id, AUDIT_EVENTS.c.action)).all())
    assert [stored[i] for i in ids] == [f"row {n}" for n in range(7)]
    assert list(stored.values()).count("many") == 280


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = init_database(f"sqlite:///{tmp_path / 'nested' / 'folder' / 'chorus.db'}")
    assert (tmp_path / "nested" / "folder" / "chorus.db").exists()
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(IntegrityError), database.transaction() as connection:
        connection.execute(text("INSERT INTO contacts (participant_id, channel, address_hash, address_sealed, created_at) "
                                "VALUES ('p-nobody', 'sms', 'h', 'a', '2025-01-01 00:00:00.000000')"))
    database.dispose()


def test_on_sqlite_reads_neither_wait_for_a_writer_nor_hold_one_up(tmp_path: Path) -> None:
    database = init_database(f"sqlite:///{tmp_path / 'chorus.db'}")
    other = Database(f"sqlite:///{tmp_path / 'chorus.db'}")  # another process's view: its own lock
    event.listen(other.engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout = 200"))  # fail fast
    with database.transaction() as connection:  # a writer holds SQLite's write lock...
        connection.execute(text("INSERT INTO participants (id, fields, created_at) VALUES ('p-1', '{}', '2025-01-01')"))
        with other.reading() as session:  # ...and a dashboard or token check still reads, at once
            assert session.execute(select(PARTICIPANTS.c.id)).all() == []  # (not yet committed)
        with other.read_transaction() as reader:
            assert reader.execute(select(PARTICIPANTS.c.id)).all() == []
    with other.reading() as session:
        assert session.execute(select(PARTICIPANTS.c.id)).scalars().all() == ["p-1"]
    other.dispose()
    database.dispose()


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.postgres
def test_postgresql_plans_for_fast_storage_unless_the_operator_says_otherwise(
    postgres_databases: PostgresDatabases, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = postgres_databases.url(postgres_databases.create())
    monkeypatch.delenv("PGOPTIONS", raising=False)

    def random_page_cost(database_url: str) -> str:
        database = Database(database_url)
        try:
            with database.engine.connect() as connection:
                return str(connection.execute(text("SHOW random_page_cost")).scalar())
        finally:
            database.engine.dispose()

    assert random_page_cost(url) == "1.1"
    assert random_page_cost(url + "?options=-c%20random_page_cost%3D2") == "2"
    monkeypatch.setenv("PGOPTIONS", "-c random_page_cost=3 -c work_mem=8MB")
    assert random_page_cost(url) == "3"


@pytest.mark.postgres
def test_a_pooled_postgresql_connection_is_tested_only_after_a_rest_and_replaced_if_dead(
    postgres_databases: PostgresDatabases, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import storage.database

    database = Database(postgres_databases.url(postgres_databases.create()))
    pings: list[bool] = []
    real_ping = database.engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(True)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(database.engine.dialect, "do_ping", counted)

    def backend() -> int:
        with database.transaction() as connection:
            return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    try:
        first = backend()
        assert [backend() for _ in range(5)] == [first] * 5 and pings == [], "a busy connection is not pinged"
        with postgres_databases._connection().cursor() as admin:  # the server drops it while it rests
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        monkeypatch.setattr(storage.database, "IDLE_BEFORE_PING", 0.0)
        time.sleep(0.01)
        assert backend() != first, "the dead connection was replaced before use"
        assert pings, "the rested connection was tested"
    finally:
        database.engine.dispose()


def test_the_address_hash_depends_on_the_key_and_the_channel() -> None:
    one = repository.address_hash(b"key-1", "sms", "+447700900001")
    assert one == repository.address_hash(b"key-1", "sms", " +447700900001 ")
    assert one != repository.address_hash(b"key-2", "sms", "+447700900001")
    assert one != repository.address_hash(b"key-1", "whatsapp", "+447700900001")
    assert "447700900001" not in one


def test_settings_come_from_chorus_variables(tmp_path: Path) -> None:
    settings = Settings.from_env({"CHORUS_DATABASE_URL": "postgresql://x/y", "CHORUS_PORT": "9000", "OTHER": "1"})
    assert settings.database_url == "postgresql://x/y" and settings.port == 9000
    assert Settings.from_env({}, database_url="sqlite:///z.db").database_url == "sqlite:///z.db"
    with pytest.raises(SettingsError, match="CHORUS_PORT"):
        Settings.from_env({"CHORUS_PORT": "eighty"})


def test_without_a_hash_key_one_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = Settings.from_env({"CHORUS_KEY_FILE": str(tmp_path / "var" / "chorus.key")})
    first = settings.address_key()
    assert len(first) == 64 and settings.address_key() == first
    assert (tmp_path / "var" / "chorus.key").stat().st_mode & 0o077 == 0
    assert Settings.from_env({"CHORUS_HASH_KEY": "secret"}).address_key() == b"secret"


def test_media_is_stored_once_per_content_and_read_back(database: Database) -> None:
    from storage import media

    now = datetime.now(UTC)
    png, other = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40, b"\x89PNG\r\n\x1a\n" + b"\x02" * 40
    with database.transaction() as connection:
        first = media.store(connection, png, "image/png", now, "study")
        again = media.store(connection, png, "image/png", now)
        different = media.store(connection, other, "image/png", now)
    assert first == again != different
    with database.transaction() as connection:
        found = media.load(connection, first)
        assert media.load(connection, different + 100) is None
    assert found is not None and found.data == png and found.content_type == "image/png"


def test_on_sqlite_a_writer_that_must_not_wait_is_told_at_once_that_another_writes(tmp_path: Path) -> None:
    database = init_database(f"sqlite:///{tmp_path / 'chorus.db'}")
    other = Database(f"sqlite:///{tmp_path / 'chorus.db'}")  # another process's view: its own lock
    insert = text("INSERT INTO participants (id, fields, created_at) VALUES (:id, '{}', '2025-01-01')")
    with other.transaction() as connection:  # another process writes...
        connection.execute(insert, {"id": "p-other"})
        started = time.monotonic()
        with pytest.raises(WriterBusy), database.transaction(wait=False):
            pytest.fail("began while another process held the write lock")
        assert time.monotonic() - started < 1, "told at once, not after the busy timeout"

    @contextmanager
    def writing() -> Iterator[None]:
        with database.transaction() as connection:
            connection.execute(insert, {"id": "p-thread"})
            yield

    with held_on_another_thread(writing), pytest.raises(WriterBusy), database.transaction(wait=False):
        pytest.fail("began while another thread of this process was writing")
    with database.transaction(wait=False) as connection:  # free again: it writes
        connection.execute(insert, {"id": "p-mine"})
    with database.engine.connect() as connection:  # the pooled connection waits as long as ever
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
        assert sorted(connection.execute(select(PARTICIPANTS.c.id)).scalars()) == ["p-mine", "p-other", "p-thread"]
    other.dispose()
    database.dispose()


@pytest.mark.parametrize(("name", "value"), [("CHORUS_SCHEDULER_INTERVAL", "-5"), ("CHORUS_SCHEDULER_INTERVAL", "0"),
                                             ("CHORUS_SAFEGUARDING", "bogus"), ("CHORUS_SCHEDULER", "bogus"),
                                             ("CHORUS_PORT", "99999")])
def test_a_setting_that_cannot_work_is_refused_by_name(name: str, value: str) -> None:
    """A negative interval once hung the scheduler's thread; an unknown mode quietly meant the default."""
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
    assert Settings.from_env({"CHORUS_SAFEGUARDING": "Patterns", "CHORUS_SCHEDULER": "OFF"}).safeguarding == "patterns"
