"""A shortcut for the per-message hot path.

A handful of fixed statements run straight on the DBAPI connection beneath an
SQLAlchemy connection, inside its transaction. That skips SQLAlchemy's per-statement
machinery (about twenty times the cost of the statement itself on SQLite). Only plain
SQL that means the same on SQLite and PostgreSQL belongs here, written with ``?``
placeholders; values are encoded exactly as SQLAlchemy would store them, so the ORM
and Core read these rows back unchanged. On PostgreSQL they go through libpq's pipeline
mode directly (storage/wire.py): what does not depend on an earlier result shares a round
trip (:meth:`Driver.pipelined`), and statements that come back are prepared.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from storage.wire import Batch, Prepared

INTEGRITY_ERRORS: tuple[type[Exception], ...] = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)
"""A broken constraint, raised through SQLAlchemy or straight from a driver's cursor."""

_IDLE = psycopg.pq.TransactionStatus.IDLE
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def sqlite_time(utc: datetime) -> str:
    """A UTC moment as SQLite stores it: the same text as ``strftime(SQLITE_TIME)``, several
    times faster (isoformat is implemented in C without a format string to interpret)."""
    return utc.replace(tzinfo=None).isoformat(" ", "microseconds")
"""SQLAlchemy's storage format for DateTime on SQLite (naive UTC, see tables.UTCDateTime)."""


class Driver:
    __slots__ = ("batch", "cursor", "postgres", "prepared")

    def __init__(self, connection: Connection) -> None:
        self.postgres = connection.dialect.name == "postgresql"
        dbapi: Any = connection.connection.driver_connection
        # PostgreSQL: statements go through libpq's pipeline (storage/wire.py); psycopg's cursor
        # is for COPY only
        self.cursor: Any = psycopg.RawCursor(dbapi) if self.postgres else dbapi.cursor()
        self.prepared = Prepared()
        """PostgreSQL: the statements prepared on this connection (storage/wire.py)."""
        self.batch: Batch | None = None
        """PostgreSQL, inside :meth:`pipelined`: the round trip its statements go in."""

    @classmethod
    def of(cls, connection: Connection) -> Driver:
        """The driver of this connection's DBAPI connection, made once and kept with it (a
        message runs several of these statements; a new cursor for each cost more than some
        of them). One cursor per connection: read a statement's rows before the next one (except
        in :meth:`pipelined`, where each statement has its own)."""
        info = connection.connection.info
        driver: Driver | None = info.get("chorus_driver")
        if driver is None:
            driver = info["chorus_driver"] = cls(connection)
        return driver

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """PostgreSQL: the statements inside share one round trip (storage/wire.py): each is
        sent as it is made, and their results are read when the block ends, where an error
        surfaces. Only for statements that do not depend on each other's effects' being
        reported. A block that opens the transaction sends its BEGIN with its statements (psycopg's
        own would be a round trip of its own). SQLite, with no round trips, runs them as usual."""
        if not self.postgres or self.batch is not None:
            yield
            return
        connection = self.cursor.connection
        opens = not connection.autocommit and connection.pgconn.transaction_status == _IDLE  # (the transaction)
        batch = self.batch = Batch(connection, self.prepared)
        try:
            if opens:
                batch.add(b"BEGIN")
            yield
        except BaseException:
            self.batch = None
            batch.send_and_discard()
            raise
        self.batch = None
        batch.send()

    def fetch_together(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Any]]:
        """Each statement's rows, in order. PostgreSQL gets them all in one round trip (a
        pipeline; each still runs after the one before has finished, with its own snapshot)."""
        return self.send_together(statements)()

    def send_together(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> Callable[[], list[list[Any]]]:
        """:meth:`fetch_together`, the rows read when the returned function is called: inside
        :meth:`pipelined`, after the block, so that they share its round trip."""
        if not statements:
            return list
        with self.pipelined():  # (inside the caller's block if there is one)
            readers = [self.rows_later(sql, params) for sql, params in statements]
        return lambda: [read() for read in readers]

    def rows_later(self, sql: str, params: Sequence[Any] = ()) -> Callable[[], list[Any]]:
        """Run a statement; its rows when the returned function is called. Inside
        :meth:`pipelined` they are read then, after the block (one round trip for the block);
        otherwise now, from the shared cursor, before the next statement."""
        cursor = self.execute(sql, params)
        if self.batch is not None:
            fetch: Callable[[], list[Any]] = cursor.fetchall
            return fetch
        rows: list[Any] = cursor.fetchall()
        return lambda: rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a statement; its cursor (or, inside :meth:`pipelined`, its :class:`Rows`, read
        once the block has ended)."""
        if self.batch is not None:
            return self.batch.add(_wire_sql(sql), params)
        if self.postgres:  # a batch of one (with the transaction's BEGIN, if it opens it): one round trip
            with self.pipelined():
                rows = self.execute(sql, params)
            return rows
        self.cursor.execute(sql, params)
        return self.cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.postgres:
            with self.pipelined():
                for row in rows:
                    self.execute(sql, row)
            return
        self.cursor.executemany(sql, rows)

    def insert(self, table: str, values: dict[str, Any], returning_id: bool = False) -> int | None:
        """INSERT one row of already-encoded values; its new id with ``returning_id``."""
        cursor = self.execute(_insert_sql(table, tuple(values), returning_id), list(values.values()))
        return int(cursor.fetchone()[0]) if returning_id else None

    def insert_many(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """INSERT rows that all have the same keys: one executemany on SQLite; on PostgreSQL a
        batch's worth in one multi-row INSERT (one round trip), more as a COPY, several times
        faster than even a pipelined executemany for thousands of rows."""
        if not rows:
            return
        columns = tuple(rows[0])
        if self.postgres and len(rows) > _COPY_FROM and self.batch is None:  # (no COPY in a pipeline)
            names = ", ".join(f'"{name}"' for name in columns)
            with self.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[name] for name in columns])
            return
        if self.postgres:
            self.insert_rows(table, rows)
            return
        self.executemany(_insert_sql(table, columns, False), [[row[name] for name in columns] for row in rows])

    def insert_rows(self, table: str, rows: Sequence[dict[str, Any]], returning_id: bool = False) -> list[int]:
        """INSERT rows that all have the same keys, already encoded, as multi-row statements
        (one for up to :data:`_MAX_PARAMETERS` values): one round trip to PostgreSQL instead of
        one per row. With ``returning_id``, their new ids in the rows' order: one statement's
        rows take ascending ids in the order they are listed (a sequence's next values on
        PostgreSQL, the next rowids on SQLite)."""
        return self.insert_rows_later(table, rows, returning_id)()

    def insert_rows_later(self, table: str, rows: Sequence[dict[str, Any]], returning_id: bool = False) -> Callable[[], list[int]]:
        """:meth:`insert_rows`, sent now, its ids read when the returned function is called:
        inside :meth:`pipelined`, after the block, so that it shares the block's round trip."""
        if not rows:
            return list
        columns = tuple(rows[0])
        per_statement = max(1, _MAX_PARAMETERS // len(columns))
        readers = []
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            sql, values = _insert_sql(table, columns, returning_id, len(chunk)), [row[name] for row in chunk for name in columns]
            if returning_id:
                readers.append(self.rows_later(sql, values))
            else:
                self.execute(sql, values)
        return lambda: [found for read in readers for found in sorted(int(row[0]) for row in read())]

    def update_many(self, table: str, rows: Sequence[dict[str, Any]], types: dict[str, str]) -> None:
        """UPDATE rows by id: each dict holds ``id`` and the columns to set, already encoded, the
        same keys in every row. On PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` (one round
        trip; ``types`` gives each column's SQL type, which a VALUES list cannot tell); on
        SQLite, with no round trips to save, one executemany."""
        if not rows:
            return
        columns = [name for name in rows[0] if name != "id"]
        if not self.postgres or len(rows) == 1:
            sql = f"UPDATE {table} SET {', '.join(f'{_quoted(name)} = ?' for name in columns)} WHERE id = ?"
            self.executemany(sql, [[*(row[name] for name in columns), row["id"]] for row in rows])
            return
        names = ["id", *columns]
        first = "(" + ", ".join(f"CAST(? AS {types[name]})" for name in names) + ")"
        others = "(" + ", ".join("?" for _ in names) + ")"
        sql = (f"UPDATE {table} SET {', '.join(f'{_quoted(name)} = v.{_quoted(name)}' for name in columns)}"
               f" FROM (VALUES {', '.join([first, *[others] * (len(rows) - 1)])}) AS v ({', '.join(map(_quoted, names))})"
               f" WHERE {table}.id = v.id")
        self.execute(sql, [row[name] for row in rows for name in names])

    def when(self, moment: datetime) -> Any:
        utc = moment.astimezone(UTC)
        return utc if self.postgres else sqlite_time(utc)

    @staticmethod
    def to_json(value: Any, null: bool = False) -> str | None:
        """JSON text; with ``null`` a None becomes SQL NULL (``JSON(none_as_null=True)`` columns).
        orjson writes it several times faster than the standard library (a session's state is
        written with every message); what orjson will not take (an integer beyond 64 bits, a
        float subclass such as numpy's) is written as the standard library would."""
        if null and value is None:
            return None
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            return json.dumps(value)

    def from_json(self, value: Any) -> Any:
        """psycopg already parses json columns; SQLite hands back text."""
        return orjson.loads(value) if isinstance(value, str) and not self.postgres else value


@lru_cache(maxsize=2048)
def _wire_sql(sql: str) -> bytes:
    """The statement as PostgreSQL takes it: ``?`` placeholders as ``$1, $2...`` (no statement
    here has a ``?`` in a literal), encoded."""
    parts = sql.split("?")
    return "".join(part + (f"${number}" if number < len(parts) else "") for number, part in enumerate(parts, start=1)).encode()


def _quoted(name: str) -> str:
    return f'"{name}"'


_MAX_PARAMETERS = 30_000
"""Values in one statement: below SQLite's limit (32,766) and PostgreSQL's (65,535)."""
_COPY_FROM = 200
"""More rows than this go to PostgreSQL as a COPY (two round trips, but cheaper per row)."""


@lru_cache(maxsize=512)
def _insert_sql(table: str, columns: tuple[str, ...], returning_id: bool, rows: int = 1) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    marks = "(" + ", ".join("?" for _ in columns) + ")"
    return f'INSERT INTO {table} ({names}) VALUES {", ".join(marks for _ in range(rows))}' + (" RETURNING id" if returning_id else "")
