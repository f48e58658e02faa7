"""Backing up and restoring the database named by ``CHORUS_DATABASE_URL``.

PostgreSQL: ``pg_dump --format=custom`` (compressed, restorable table by table) and
``pg_restore --clean --if-exists --single-transaction``, so a restore replaces what is there
in one transaction: it either completes or leaves the database as it was. The connection
details go to the tools as ``PG*`` environment variables, never on the command line, where
other users could read a password in the process list.

SQLite: the online backup API, consistent even while Chorus is writing.

A backup holds personal data (hashed addresses, answers): files are created readable by
their owner only (mode 600). Stop Chorus before a restore, and start it again afterwards:
``chorus db restore`` refuses while it runs, and erases again the participants erased since the
backup was taken (bot/restoring.py).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The backup or restore did not happen; the message says why (never the password)."""


def default_target(database_url: str, folder: Path = Path("var/backups")) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return folder / f"chorus-{stamp}{'.sqlite3' if _is_sqlite(database_url) else '.dump'}"


def backup(database_url: str, target: Path) -> Path:
    """Write a backup of the database to ``target`` (replaced if it exists); returns it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        if _is_sqlite(database_url):
            _sqlite_copy(_existing_database(_sqlite_path(database_url)), str(partial))
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"], database_url)
            _run(["pg_restore", "--list", str(partial)], database_url)  # the archive reads back
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    if _is_sqlite(database_url):
        target = _sqlite_path(database_url)
        Path(target).parent.mkdir(parents=True, exist_ok=True)  # a new server's empty var/
        _sqlite_copy(str(source), target)
        return
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={make_url(database_url).database}", str(source)], database_url)


def taken_at(database_url: str, source: Path) -> str:
    """When the backup in ``source`` was taken, for people: pg_dump's own record of it on
    PostgreSQL, else the file's modification time."""
    if not _is_sqlite(database_url):
        try:
            listing = _run(["pg_restore", "--list", str(source)], database_url)
        except BackupError:
            listing = ""
        if found := re.search(r"Archive created at (.+)", listing):
            return found.group(1).strip()
    return datetime.fromtimestamp(source.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _existing_database(path: str) -> str:
    """The SQLite file to back up: it must be there and hold Chorus's tables (connecting to a
    missing file would make an empty one, and back that up as if it were the database)."""
    if not Path(path).is_file():
        raise BackupError(f"no SQLite database at {Path(path).resolve()}: is CHORUS_DATABASE_URL (or --database) the one Chorus serves?")
    try:
        with closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as reading:
            tables = reading.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").fetchone()[0]
    except sqlite3.Error as error:
        raise BackupError(f"SQLite: {error}") from None
    if not tables:
        raise BackupError(f"{Path(path).resolve()} holds no Chorus database (no tables): nothing was backed up")
    return path


def _sqlite_copy(source: str, target: str) -> None:
    try:
        with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
            reading.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails on a file that is not SQLite
            reading.backup(writing)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite: {error}") from None


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def _sqlite_path(database_url: str) -> str:
    path = make_url(database_url).database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return path


def _environment(database_url: str) -> dict[str, str]:
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise BackupError(f"backups support PostgreSQL and SQLite, not {url.drivername}")
    env = {**os.environ, "PGDATABASE": url.database or ""}
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                            ("PGPASSWORD", url.password)):
        if value is not None:
            env[variable] = str(value)
    for key, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("host", "PGHOST")):
        given = url.query.get(key)
        if isinstance(given, str):
            env[variable] = given
    return env


def _run(command: list[str], database_url: str) -> str:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run(command, env=_environment(database_url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout
