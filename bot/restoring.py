"""What a restore (``scripts/restore``, bot/backup.py) must not undo, and when it must not run.

* Erasures. A backup taken before a participant was erased holds them, their answers and their
  follow-ups; restoring it would bring them back and delete the record of the erasure. So before
  the database is replaced, the ``erased`` audit events in it are read (pseudonymous ids only:
  :func:`read_before_restore`), and afterwards every participant they name whom the backup brought
  back is erased again with the usual code (bot/erasure.py), the events the backup lacks recorded
  again as they were (:func:`erase_again`). Ids are random and never reused, so erasing every id
  ever erased is safe, whenever the backup was taken. The confirmations of erasures not yet sent
  (``farewells``) are carried over too.
* A running Chorus. Its processes would carry on against the replaced data with their own
  caches and claims, and an erasure it made between the read and the restore would be undone:
  :func:`still_running` finds dispatchers that beat recently (storage/peers.py) and, on
  PostgreSQL, other connections to the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from storage import outbox, peers, privacy, repository
from storage.database import Database
from storage.tables import AUDIT_EVENTS, FAREWELLS

LIVE_WITHIN = timedelta(seconds=15)
"""A dispatcher that beat this recently is running (they beat every 5 s: bot/dispatcher.py)."""
RESTORE_ACTOR = "restore"
RESTORE_REASON = "erased before the restore"


class Unreadable(Exception):
    """The database to be replaced could not be read (missing, empty or broken): why."""


@dataclass(frozen=True)
class Erasure:
    """An ``erased`` audit event: the pseudonymous id, when, by whom, what was removed."""

    participant_id: str
    at: datetime
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class BeforeRestore:
    """What the database being replaced knew: its erasures, the confirmations of erasures still to
    send, and the participants asked to confirm an erasure (DELETE MY DATA) whose YES has not come yet."""

    erasures: list[Erasure]
    farewells: list[dict[str, Any]] = field(default_factory=list)
    awaiting_confirmation: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AfterRestore:
    erased_again: list[str]
    """The participants the backup brought back, erased again."""
    records_kept: int
    """Erasure audit events the backup lacked, recorded again."""
    farewells_kept: int
    """Confirmations of erasures still to send that the backup lacked, queued again."""
    confirmation_forgotten: list[str]
    """Participants asked to confirm an erasure whom the restored database does not know asked."""
    migrated: bool
    """The backup's schema was older: it was brought up to date to erase with today's code."""


def still_running(database_url: str) -> str | None:
    """What shows Chorus still using the database ("1 dispatcher seen in the last 15 s", by
    the database's clock, whichever machine this runs on), or None. A database that cannot be
    read shows nothing (the restore then says why it fails)."""
    if _missing_sqlite_file(database_url):
        return None
    found: list[str] = []
    database = Database(database_url)
    try:
        with database.read_transaction() as connection:
            if inspect(connection).has_table(peers.DISPATCHERS.name):
                seen = peers.seen_within(connection, LIVE_WITHIN)
                if seen:
                    found.append(f"{_plural(seen, 'dispatcher')} seen in the last {LIVE_WITHIN.seconds} s")
            if database.is_postgres:
                others = connection.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'")).scalar_one()
                if others:
                    found.append(f"{_plural(others, 'other connection')} to the database")
    except SQLAlchemyError:
        return None
    finally:
        database.dispose()
    return ", ".join(found) or None


def read_before_restore(database_url: str) -> BeforeRestore:
    """The erasures recorded in the database about to be replaced. :class:`Unreadable` if there
    is none to read (a new server) or it is broken."""
    if _missing_sqlite_file(database_url):
        raise Unreadable("there is no database file there")
    database = Database(database_url)
    try:
        with database.read_transaction() as connection:
            if not inspect(connection).has_table(AUDIT_EVENTS.name):
                raise Unreadable("it holds no Chorus tables")
            farewells = _farewells(connection) if inspect(connection).has_table(FAREWELLS.name) else []
            return BeforeRestore(_erasures(connection), farewells, _awaiting_confirmation(connection))
    except SQLAlchemyError as error:
        raise Unreadable(f"{type(error).__name__}: {str(error.orig if hasattr(error, 'orig') else error).strip()[:200]}") from None
    finally:
        database.dispose()


def erase_again(database_url: str, before: BeforeRestore, backup_name: str, now: datetime | None = None) -> AfterRestore:
    """In the restored database: record again the erasures it lacks, erase again (actor
    ``restore``) every erased participant it holds, and audit the restore, in one transaction."""
    from bot.erasure import erase_within  # the erasure code Chorus uses everywhere

    now = now or datetime.now(UTC)
    erased_ids = list(dict.fromkeys(e.participant_id for e in before.erasures))
    database = Database(database_url)
    try:
        with database.read_transaction() as connection:
            back = [pid for pid in erased_ids if privacy.participant_exists(connection, pid)]
        migrated = False
        if back or before.farewells:  # with the schema today's code knows (a no-op when it is up to date)
            revision = database.current_revision()
            database.upgrade()
            migrated = database.current_revision() != revision
        with database.transaction() as connection:
            kept = _record_missing(connection, before.erasures)
            farewells = _queue_missing(connection, before.farewells)
            for pid in back:
                erase_within(connection, pid, RESTORE_ACTOR, RESTORE_REASON, now)
            forgotten = _forgotten_questions(connection, before.awaiting_confirmation, set(back))
            repository.audit(connection, RESTORE_ACTOR, "restored", now, None, backup=backup_name, erased_again=len(back),
                             erasure_records_kept=kept, confirmations_queued_again=farewells)
        database.checkpoint()  # SQLite: no page of what was erased left in the write-ahead log
    finally:
        database.dispose()
    return AfterRestore(back, kept, farewells, forgotten, migrated)


def _erasures(connection: Connection) -> list[Erasure]:
    a = AUDIT_EVENTS.c
    rows = connection.execute(select(a.subject, a.at, a.actor, a.detail)
                              .where(a.action == "erased", a.subject.is_not(None)).order_by(a.id))
    return [Erasure(str(row[0]), row[1], str(row[2]), dict(row[3] or {})) for row in rows]


def _farewells(connection: Connection) -> list[dict[str, Any]]:
    """The confirmations of erasures still to send, as stored (their addresses still sealed)."""
    return [{key: value for key, value in row.items() if key != "id"}
            for row in connection.execute(select(FAREWELLS).order_by(FAREWELLS.c.id)).mappings()]


def _queue_missing(connection: Connection, farewells: list[dict[str, Any]]) -> int:
    f = FAREWELLS.c
    present = {(row[0], row[1], row[2]) for row in connection.execute(select(f.channel, f.address_sealed, f.created_at))}
    missing = [row for row in farewells if (row["channel"], row["address_sealed"], row["created_at"]) not in present]
    if missing:
        connection.execute(FAREWELLS.insert(), missing)
    return len(missing)


def _awaiting_confirmation(connection: Connection) -> list[str]:
    """Participants whose last message was the erasure question (DELETE MY DATA: "reply YES")."""
    sql = text("SELECT participant_id FROM outbound_messages WHERE kind = 'erase_confirm' AND id IN"
               " (SELECT max(id) FROM outbound_messages GROUP BY participant_id)")
    return [str(pid) for pid in connection.execute(sql).scalars()]


def _record_missing(connection: Connection, erasures: list[Erasure]) -> int:
    """Add the erasure events the restored audit log lacks, as they were recorded."""
    a = AUDIT_EVENTS.c
    present = {(str(row[0]), row[1]) for row in connection.execute(
        select(a.subject, a.at).where(a.action == "erased", a.subject.is_not(None)))}
    missing = [e for e in erasures if (e.participant_id, e.at) not in present]
    repository.add_audit_events(connection, [{"at": e.at, "actor": e.actor, "action": "erased", "subject": e.participant_id,
                                              "detail": e.detail} for e in missing])
    return len(missing)


def _forgotten_questions(connection: Connection, asked: list[str], erased: set[str]) -> list[str]:
    """Of the participants asked to confirm an erasure, those the restored database holds but
    does not know asked: their YES would now be read as an answer to the study's question."""
    still = [pid for pid in asked if pid not in erased and privacy.participant_exists(connection, pid)]
    kinds = outbox.last_kinds(connection, still)
    return [pid for pid in still if kinds.get(pid) != "erase_confirm"]


def _missing_sqlite_file(database_url: str) -> bool:
    """A SQLite file that is not there (connecting would create an empty one)."""
    if not database_url.startswith("sqlite"):
        return False
    path = make_url(database_url).database
    return not path or path == ":memory:" or not Path(path).is_file()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
