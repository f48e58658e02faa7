"""Helpers for tests of what is decided by the database's clock (storage/database_clock.py):
heartbeats and leases. Time is moved there by ageing the stamps, not by moving a process's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select, update

from storage.database import Database
from storage.database_clock import read_database_time


def database_now(database: Database) -> datetime:
    with database.transaction() as connection:
        return read_database_time(connection)


def age(database: Database, table: Table, column: str, by: timedelta, *where: Any) -> int:
    """Move the ``column`` stamps of ``table``'s rows (those ``where`` says) ``by`` into the past,
    as if that much database time had gone by since they were written; how many rows."""
    stamp = table.c[column]
    with database.transaction() as connection:
        found = connection.execute(select(table.c.id, stamp).where(stamp.is_not(None), *where)).all()
        for row_id, at in found:
            connection.execute(update(table).where(table.c.id == row_id).values({column: at - by}))
    return len(found)
