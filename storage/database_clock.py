"""The database's clock, for what processes on several machines decide together.

A heartbeat (storage/peers.py) or a lease on a claim (an outbox row left ``sending``, an
erasure confirmation) is written by one process and judged by another, perhaps on another
machine. Stamped and compared with each machine's own clock, a machine a few seconds off
would make a live peer look dead (or a dead one alive), or take over a claim still held.
So these stamps and comparisons use one clock, the database's: on PostgreSQL
``statement_timestamp()`` (stable within a statement, so a comparison with it still uses an
index, unlike ``clock_timestamp()``); on SQLite, which only processes on one machine share,
that machine's clock, read when the statement is built. Either way one code path: the
expression goes where a bound time went.

Business times (when a task is due, quiet hours, a WhatsApp window) stay on the injected
clocks: they are about the participant's day, and tests move them by hand.

For the plain statements of the hot path (storage/driver.py), :func:`database_time_sql` gives
the same moment as SQL text and its parameters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, literal, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from storage.driver import sqlite_time


def database_time(connection: Connection, offset: timedelta = timedelta(0)) -> ColumnElement[Any]:
    """The database's time now, plus ``offset``, as an SQL expression (see the module's docstring)."""
    # (imported here: storage.tables imports storage.peers, which uses this module)
    from storage.tables import UTCDateTime

    if connection.dialect.name == "postgresql":
        now: ColumnElement[Any] = func.statement_timestamp()
        return type_coerce(now + offset if offset else now, UTCDateTime)
    return literal(datetime.now(UTC) + offset, UTCDateTime)


def database_time_sql(connection: Connection, offset: timedelta = timedelta(0)) -> tuple[str, tuple[Any, ...]]:
    """:func:`database_time` for a plain statement (``?`` placeholders, storage/driver.py): the
    SQL text to put where a bound time went, and its parameters (none on PostgreSQL, where the
    offset is written into the text: a constant of the caller's, such as a lease, so a prepared
    statement stays one statement)."""
    if connection.dialect.name == "postgresql":
        seconds = offset.total_seconds()
        return "statement_timestamp()" + (f" + interval '{seconds:.6f} seconds'" if seconds else ""), ()
    return "?", (sqlite_time(datetime.now(UTC) + offset),)


def read_database_time(connection: Connection) -> datetime:
    """The database's time now (one round trip on PostgreSQL)."""
    found = connection.execute(select(database_time(connection))).scalar_one()
    if not isinstance(found, datetime):
        raise TypeError(f"the database's clock read {found!r}")
    return found
