"""The outbox dispatchers sharing one database, counted there, so that together they keep to
each channel's rate limits (a Telegram bot may send 30 messages a second however many
workers send for it).

Each dispatcher refreshes a row of its own every few seconds (:func:`beat`) and counts the
rows refreshed within ``expiry``: the dispatchers alive now, itself included. A row not
refreshed for that long is a dispatcher that stopped without saying so (killed, its machine
lost) and is deleted by the next beat of any other; one that stops cleanly deletes its own
(:func:`leave`). The row names the process only by host name and process id.

Rows are stamped and aged by the database's clock (storage/database_clock.py), never the
machine's: a dispatcher whose machine is a few seconds off still counts exactly while it beats.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlmodel import Field, SQLModel

from storage.database_clock import database_time
from storage.tables import UTCDateTime, table


def _when() -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=False)


class DispatcherRow(SQLModel, table=True):
    __tablename__ = "dispatchers"

    id: str = Field(primary_key=True, max_length=64)
    process: str = Field(max_length=200)
    """Host name and process id, for an operator looking at the table."""
    started_at: datetime = _when()
    seen_at: datetime = _when()


DISPATCHERS = table(DispatcherRow)


def new_dispatcher_id() -> str:
    return "dispatcher-" + secrets.token_hex(8)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def beat(connection: Connection, dispatcher_id: str, expiry: timedelta) -> int:
    """Record that this dispatcher is alive now; how many dispatchers are (itself included).
    Rows not refreshed within ``expiry`` (by the database's clock) are deleted first."""
    d = DISPATCHERS.c
    connection.execute(delete(DISPATCHERS).where(d.seen_at < database_time(connection, -expiry)))
    now = database_time(connection)
    refreshed = connection.execute(update(DISPATCHERS).where(d.id == dispatcher_id).values(seen_at=now)).rowcount
    if not refreshed:
        connection.execute(insert(DISPATCHERS).values(id=dispatcher_id, process=this_process(), started_at=now, seen_at=now))
    return int(connection.execute(select(func.count()).select_from(DISPATCHERS)).scalar_one())


def seen_within(connection: Connection, within: timedelta) -> int:
    """How many dispatchers beat within ``within`` of now, by the database's clock."""
    query = select(func.count()).select_from(DISPATCHERS).where(DISPATCHERS.c.seen_at >= database_time(connection, -within))
    return int(connection.execute(query).scalar_one())


def leave(connection: Connection, dispatcher_id: str) -> None:
    """This dispatcher stops: the others take its share at their next beat."""
    connection.execute(delete(DISPATCHERS).where(DISPATCHERS.c.id == dispatcher_id))
