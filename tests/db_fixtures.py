"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL: fresh, uniquely named databases on the server at 127.0.0.1:5432 (trust
auth), created through the ``test`` database and dropped when the test session ends.
CI has the server; if it is unreachable the PostgreSQL tests FAIL with a clear message
rather than skip. ``database_url`` is an empty database (for migration tests); the
migrated ``database`` is one database migrated once per session and emptied (TRUNCATE)
before each test on PostgreSQL, a copy of a migrated file on SQLite: creating and
dropping a PostgreSQL database per test would cost about a second each.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported lazily below so collecting other tests stays quick
    from bot.service import ConversationService, ReceiveResult
    from storage.database import Database

POSTGRES_SERVER = os.environ.get("CHORUS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
TEST_ADDRESS_KEY = b"test-address-key"
TEST_DATA_KEY = "bjcUyNk_PLDnJsvbhXnlDK1l0pSwAWvR01ITfyVDDcE="
"""A fixed Fernet key for the tests' databases (storage/crypto.py)."""


class PostgresDatabases:
    """Creates uniquely named databases on the test server and drops them all at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.shared: str | None = None
        self._admin: Any = None
        self._shared_connection: Any = None

    def _connection(self) -> Any:
        if self._admin is None:
            import psycopg

            try:
                self._admin = psycopg.connect(POSTGRES_SERVER, autocommit=True, connect_timeout=5)
            except psycopg.OperationalError as error:
                pytest.fail(
                    f"PostgreSQL is not reachable at {POSTGRES_SERVER} ({error}). Start it (CI has it) or set "
                    "CHORUS_TEST_POSTGRES to a server whose user may CREATE DATABASE.",
                    pytrace=False,
                )
        return self._admin

    def url(self, name: str) -> str:
        return f"{POSTGRES_SERVER.rsplit('/', 1)[0]}/{name}"

    def create(self) -> str:
        name = f"chorus_test_{uuid.uuid4().hex[:12]}"
        self._connection().execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return name

    def migrated(self) -> str:
        """The session's migrated database, with every table emptied."""
        import psycopg

        if self.shared is None:
            from storage.database import init_database

            name = self.create()
            init_database(self.url(name)).dispose()
            self.shared = name
            self._shared_connection = psycopg.connect(self.url(name), autocommit=True)
        tables = self._shared_connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ).fetchall()
        self._shared_connection.execute(
            "TRUNCATE TABLE " + ", ".join(f'"{t[0]}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
        return self.shared

    def drop_all(self) -> None:
        if self._shared_connection is not None:
            self._shared_connection.close()
        if self._admin is None:
            return
        for name in reversed(self.created):
            self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin.close()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from storage.database import init_database

    path = tmp_path_factory.mktemp("template") / "chorus.db"
    init_database(f"sqlite:///{path}").dispose()  # closing the last connection folds the WAL into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(database_kind: str, tmp_path: Path, postgres_databases: PostgresDatabases) -> str:
    """A URL to an EMPTY database of each kind (no schema yet)."""
    if database_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'chorus.db'}"
    return postgres_databases.url(postgres_databases.create())


@pytest.fixture
def migrated_database_url(database_kind: str, tmp_path: Path, postgres_databases: PostgresDatabases, request: pytest.FixtureRequest) -> str:
    """A URL to a database of each kind with the schema at the latest migration."""
    if database_kind == "sqlite":
        path = tmp_path / "migrated" / "chorus.db"
        path.parent.mkdir(parents=True)
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return postgres_databases.url(postgres_databases.migrated())


class FakeClock:
    """An aware UTC clock that moves one second per reading, or as far as you tell it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 3, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def database(migrated_database_url: str) -> Iterator[Database]:
    from storage.crypto import Sealer
    from storage.database import Database

    db = Database(migrated_database_url, sealer=Sealer([TEST_DATA_KEY]))
    yield db
    db.dispose()


@pytest.fixture
def service(database: Database, example_study_path: Path, clock: FakeClock) -> ConversationService:
    """A ConversationService on a migrated database with the example study published."""
    from bot.safeguarding import checks_from_env
    from bot.service import ConversationService
    from bot.studies import StudyRegistry

    # Patterns only: the background model check is tested on its own (tests/test_safeguarding.py),
    # and a check still running after a test must not write into the next one.
    return ConversationService(database, StudyRegistry.from_folder(example_study_path), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


@pytest.fixture
def say(service: ConversationService) -> Callable[..., ReceiveResult]:
    """``say("WAIT")`` sends a message as one participant (or ``address=``) and returns the ReceiveResult."""
    from channels.base import InboundMessage

    counter = itertools.count(1)

    def send(text: str, address: str = "+447700900001", channel: str = "sms", **extra: Any) -> ReceiveResult:
        return service.receive(InboundMessage(channel, address, f"{channel}-{next(counter)}", text, **extra))

    return send
