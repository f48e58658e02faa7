"""Connecting to the database: SQLite by default, PostgreSQL when the URL says so.

SQLite runs in WAL mode with foreign keys on and ``synchronous=NORMAL``; every
transaction starts with ``BEGIN IMMEDIATE`` so two writers queue on the busy
timeout instead of failing when a read turns into a write. Within one process they
queue on a lock first: SQLite's busy handler waits by sleeping and polling, so under a
burst (many webhook threads, the inbox worker, the dispatcher) a writer could sleep for
seconds while others keep taking the database; the lock hands it over at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` (and ``postgres://``) URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _prepare_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below own transactions
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


def create_database_engine(url: str, echo: bool = False) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _prepare_sqlite_folder(url)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


class Database:
    """One database: its engine, sessions and migrations."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = create_database_engine(self.url, echo=echo)
        self._writer = threading.RLock() if self.engine.dialect.name == "sqlite" else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core connection in one transaction: committed on success, rolled back on any error.
        The conversation service's hot path uses this (no ORM overhead)."""
        if self._writer is None:
            with self.engine.begin() as connection:
                yield connection
            return
        with self._writer, self.engine.begin() as connection:
            yield connection

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """An ORM session for reads (no explicit transaction): health checks, dashboards."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An ORM session in one transaction, for code that prefers model objects (dashboard, tools)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations shipped in this package (no alembic.ini needed)."""
        from alembic import command

        with self.engine.begin() as connection:
            config = alembic_config(connection)
            command.upgrade(config, revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def init_database(url: str, echo: bool = False) -> Database:
    """Connect and bring the schema up to date (``alembic upgrade head``)."""
    database = Database(url, echo=echo)
    database.upgrade()
    return database
