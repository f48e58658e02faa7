"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL: a fresh, uniquely named database on the server at 127.0.0.1:5432 (trust
auth), created from the ``test`` database and dropped afterwards. CI has the server;
if it is unreachable the PostgreSQL tests FAIL with a clear message rather than skip.
"""

from __future__ import annotations

import itertools
import os
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


def _admin_connection() -> Any:
    import psycopg

    try:
        return psycopg.connect(POSTGRES_SERVER, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_SERVER} ({error}). Start it (CI has it) or set "
            "CHORUS_TEST_POSTGRES to a server whose user may CREATE DATABASE.",
            pytrace=False,
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'chorus.db'}"
        return
    name = f"chorus_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_connection()
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = POSTGRES_SERVER.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


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
def database(database_url: str) -> Iterator[Database]:
    from storage.database import init_database

    db = init_database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def service(database: Database, example_study_path: Path, clock: FakeClock) -> ConversationService:
    """A ConversationService on a migrated database with the example study published."""
    from bot.service import ConversationService
    from bot.studies import StudyRegistry

    return ConversationService(database, StudyRegistry.from_folder(example_study_path), clock, address_key=TEST_ADDRESS_KEY)


@pytest.fixture
def say(service: ConversationService) -> Callable[..., ReceiveResult]:
    """``say("WAIT")`` sends a message as one participant (or ``address=``) and returns the ReceiveResult."""
    from channels.base import InboundMessage

    counter = itertools.count(1)

    def send(text: str, address: str = "+447700900001", channel: str = "sms", **extra: Any) -> ReceiveResult:
        return service.receive(InboundMessage(channel, address, f"{channel}-{next(counter)}", text, **extra))

    return send
