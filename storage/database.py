"""Connecting to the database: SQLite by default, PostgreSQL when the URL says so.

SQLite runs in WAL mode with foreign keys on, ``secure_delete`` (what is deleted is
overwritten, so an erased participant leaves nothing in free pages) and ``synchronous=NORMAL``; every
transaction starts with ``BEGIN IMMEDIATE`` so two writers queue on the busy
timeout instead of failing when a read turns into a write. Within one process they
queue on a lock first: SQLite's busy handler waits by sleeping and polling, so under a
burst (many webhook threads, the inbox worker, the dispatcher) a writer could sleep for
seconds while others keep taking the database; the lock hands it over at once.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from storage.crypto import Sealer, sealer_from_env

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
    cursor.execute("PRAGMA secure_delete = ON")  # erased rows are overwritten with zeros, not left in free pages
    cursor.close()


class WriterBusy(Exception):
    """:meth:`Database.transaction` with ``wait=False``: another writer holds the database."""


def _on_sqlite_begin(connection: Connection) -> None:
    """``BEGIN IMMEDIATE`` (a writer), or a deferred ``BEGIN`` for connections marked
    ``chorus_read_only`` (:meth:`Database.read_transaction`), which only read. Connections
    marked ``chorus_no_wait`` try once: a database held by another process raises
    :class:`WriterBusy` at once instead of waiting up to the busy timeout."""
    options = connection.get_execution_options()
    raw: Any = connection.connection.driver_connection
    if options.get("chorus_read_only", False):
        raw.execute("BEGIN")
    elif options.get("chorus_no_wait", False):
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise WriterBusy(str(error)) from error
        finally:
            raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    else:
        raw.execute("BEGIN IMMEDIATE")


class UnsupportedDatabase(ValueError):
    """A database URL of a kind Chorus does not speak (only SQLite and PostgreSQL)."""


def create_database_engine(url: str, echo: bool = False) -> Engine:
    url = normalise_url(url)
    if not url.startswith(("sqlite", "postgresql")):
        kind = url.split(":", 1)[0] if ":" in url else "?"
        raise UnsupportedDatabase(f"a {kind} URL: Chorus speaks SQLite (sqlite:///path) and PostgreSQL (postgresql://...)")
    if url.startswith("sqlite"):
        _prepare_sqlite_folder(url)
        # cached_statements: the hot path's IN (?, ?, ...) lists make a statement per batch size;
        # the default cache of 128 prepared statements would prepare them again and again
        engine = create_engine(url, echo=echo, connect_args={
            "check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000, "cached_statements": 1024})
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    # json columns (a session's state, read with each message) parsed by orjson, not the standard library
    # prepare_threshold=None: the hot path prepares its statements itself (storage/wire.py);
    # psycopg's own preparing would deallocate them all on any rollback
    connect: dict[str, Any] = {"options": postgres_options(url), "prepare_threshold": None}
    if "connect_timeout" not in make_url(url).query:  # the operator's own wins
        connect["connect_timeout"] = CONNECT_TIMEOUT
    engine = create_engine(url, echo=echo, json_deserializer=orjson.loads, connect_args=connect)
    _ping_when_idle(engine)
    return engine


CONNECT_TIMEOUT = 5
"""Seconds a new PostgreSQL connection may take (libpq's ``connect_timeout``, unless the URL
sets its own): a server that does not answer (a network partition) fails a webhook's store
well within Twilio's 15-second webhook timeout, so the message is spooled (bot/spool.py)
rather than lost; without it a connection attempt waits as long as the operating system lets it."""

IDLE_BEFORE_PING = 1.0
"""Seconds a pooled PostgreSQL connection may rest before it is tested on its way out."""


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, as ``pool_pre_ping`` but only for a connection that
    rested more than :data:`IDLE_BEFORE_PING` (the server may have restarted, or a firewall
    dropped it, meanwhile): one checked out again and again under load (the inbox writer's, a
    batch every few milliseconds) is not asked ``SELECT 1`` each time, a round trip a batch.
    A dead one is replaced before use (SQLAlchemy retries the checkout on DisconnectionError)."""

    def rested(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info["chorus_rested_since"] = time.monotonic()

    def checkout(dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("chorus_rested_since", time.monotonic()) <= IDLE_BEFORE_PING:
            return
        try:
            alive = engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"a pooled connection was lost while idle: {error}") from error
        if not alive:
            raise DisconnectionError("a pooled connection was lost while idle")

    event.listen(engine, "connect", rested)
    event.listen(engine, "checkin", rested)
    event.listen(engine, "checkout", checkout)


PLANNER_OPTIONS = "-c random_page_cost=1.1"
"""PostgreSQL plans Chorus's statements as for data on SSD or in memory. A batch looks up a
few participants by key; with the default random_page_cost (4, priced for spinning disks)
PostgreSQL scans a table of a few thousand rows whole instead, a millisecond a statement.
The operator's own setting wins (:func:`postgres_options`). The dispatcher does not depend on
this one: its claims read only the rows that wait at 4 too (the claim's shape:
bot/outbox_claims.py ``queued_on``; tests/test_outbox_claim_plan.py)."""


def postgres_options(url: str) -> str:
    """The connection's ``options``: :data:`PLANNER_OPTIONS`, then the operator's own (the
    URL's ``options`` or else ``PGOPTIONS``), which win where they set the same thing."""
    theirs = make_url(url).query.get("options") or os.environ.get("PGOPTIONS", "")
    return " ".join([PLANNER_OPTIONS, *([theirs] if isinstance(theirs, str) else theirs)]).strip()


class Database:
    """One database: its engine, sessions and migrations."""

    def __init__(self, url: str, echo: bool = False, sealer: Sealer | None = None) -> None:
        self.url = normalise_url(url)
        self.engine = create_database_engine(self.url, echo=echo)
        self._sealer = sealer
        self._writer = threading.RLock() if self.engine.dialect.name == "sqlite" else None
        self._no_wait = self.engine.execution_options(chorus_no_wait=True)
        self._reader = self.engine.execution_options(chorus_read_only=True)

    @property
    def sealer(self) -> Sealer:
        """What encrypts participants' addresses in this database (storage/crypto.py): given,
        else from ``CHORUS_DATA_KEYS`` or the key file, read when first needed."""
        if self._sealer is None:
            self._sealer = sealer_from_env()
        return self._sealer

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, wait: bool = True) -> Iterator[Connection]:
        """A Core connection in one transaction: committed on success, rolled back on any error.
        The conversation service's hot path uses this (no ORM overhead).

        ``wait=False`` (SQLite only; PostgreSQL has no single writer to wait for) raises
        :class:`WriterBusy` at once, before anything is done, if another thread of this
        process or another process is writing: for the event loop, which must not block."""
        if self._writer is None:
            with self.engine.begin() as connection:
                yield connection
            return
        if not self._writer.acquire(blocking=wait):
            raise WriterBusy("another thread of this process is writing")
        try:
            with (self.engine if wait else self._no_wait).begin() as connection:
                yield connection
        finally:
            self._writer.release()

    @contextmanager
    def read_transaction(self) -> Iterator[Connection]:
        """A Core connection for a few reads, in one transaction that must not write: on SQLite
        a deferred ``BEGIN`` outside the writers' queue (in WAL mode a reader neither waits for
        the writer nor holds it up), e.g. the inbox worker looking for waiting messages."""
        with self._reader.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """An ORM session for reads (no explicit transaction): health checks, dashboards, token
        checks. On SQLite it begins as a reader (deferred ``BEGIN``), so it neither waits for
        the writers nor holds them up; it must not write."""
        with Session(self._reader, expire_on_commit=False) as session:
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
            if self.is_postgres:  # several processes starting at once (API and workers) migrate one at a time
                connection.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
            config = alembic_config(connection)
            config.attributes["sealer"] = lambda: self.sealer
            command.upgrade(config, revision)

    def downgrade(self, revision: str) -> None:
        """Undo migrations down to ``revision`` (for tests of the migrations themselves)."""
        from alembic import command

        with self.engine.begin() as connection:
            config = alembic_config(connection)
            config.attributes["sealer"] = lambda: self.sealer
            command.downgrade(config, revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def checkpoint(self) -> None:
        """SQLite: fold the write-ahead log into the database file and empty it, so pages that
        held erased data (the WAL keeps old page images) are gone from disk. Best effort: a
        reader still holding an old snapshot leaves the log for the next checkpoint."""
        if not self.is_sqlite:
            return
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()

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


def init_database(url: str, echo: bool = False, sealer: Sealer | None = None) -> Database:
    """Connect and bring the schema up to date (``alembic upgrade head``)."""
    database = Database(url, echo=echo, sealer=sealer)
    database.upgrade()
    return database
