"""The kill test: a real scheduler process (``python -m bot.scheduler``) is killed with SIGKILL
while due follow-ups are pending, then started again; every follow-up is sent exactly once,
counted per task on the database. On SQLite and PostgreSQL. The process plans the
follow-ups itself from enrolments made in bulk, then fires them in batches of 50."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select

from bot.studies import StudyRegistry
from storage.database import Database, normalise_url
from storage.tables import CONTACTS, DUE_TASKS, ENROLMENTS, OUTBOUND, PARTICIPANTS, SESSIONS
from tests.db_fixtures import TEST_ADDRESS_KEY

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 600
STUDY = """\
study: killtest
title: Kill test
timezone: Europe/London
join:
  start_flow: hello
flows: [hello.yaml, later.yaml]
schedule:
  - flow: later
    after: 1h
    grace: 2d
"""
HELLO = """\
flow: hello
steps:
  - id: hi
    type: message
    text: Hello.
"""
LATER = """\
flow: later
steps:
  - id: how
    type: scale
    text: How are you today?
    min: 1
    max: 5
"""


def _study(folder: Path) -> Path:
    folder.mkdir()
    for name, text in (("study.yaml", STUDY), ("hello.yaml", HELLO), ("later.yaml", LATER)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _enrol(database: Database, studies: Path, joined: datetime) -> list[str]:
    """PEOPLE enrolled participants, made in bulk; the scheduler process plans their follow-ups."""
    StudyRegistry.from_folder(studies).publish(database, joined)
    people = [f"p-{n:016x}" for n in range(PEOPLE)]
    with database.transaction() as connection:
        connection.execute(insert(PARTICIPANTS), [{"id": pid, "language": "en", "fields": {}, "created_at": joined} for pid in people])
        connection.execute(insert(CONTACTS), [{"participant_id": pid, "channel": "sms", "address_hash": f"{n:064x}",
                                               "address_sealed": database.sealer.seal(f"+4470{n:08d}"), "created_at": joined} for n, pid in enumerate(people)])
        connection.execute(insert(ENROLMENTS), [{"participant_id": pid, "study_id": "killtest", "group": None, "language": "en",
                                                 "channel": "sms", "status": "active", "opted_out": False, "enrolled_at": joined}
                                                for pid in people])
    return people


def _start(url: str, studies: Path, log: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "CHORUS_HASH_KEY": TEST_ADDRESS_KEY.decode(), "PYTHONPATH": str(ROOT), "CHORUS_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "bot.scheduler", "--database", url, "--studies", str(studies),
               "--interval", "0.05", "--batch", "50", "--lease", "1"]
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _done(database: Database) -> int:
    """Follow-ups done so far, read without queueing behind the scheduler's writes (SQLite's
    transactions here begin IMMEDIATE; a plain connection reads the WAL snapshot at once)."""
    engine = _readers.setdefault(database.url, create_engine(normalise_url(database.url)))
    with engine.connect() as connection:
        query = select(func.count()).select_from(DUE_TASKS).where(DUE_TASKS.c.kind == "follow_up", DUE_TASKS.c.done.is_(True))
        return int(connection.execute(query).scalar_one())


_readers: dict[str, Engine] = {}


def _wait_for(database: Database, at_least: int, process: subprocess.Popen[bytes], log: Path, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = _done(database)
        if done >= at_least:
            return done
        assert process.poll() is None, f"the scheduler exited early:\n{log.read_text()[-3000:]}"
        time.sleep(0.02)
    raise AssertionError(f"only {_done(database)} of {at_least} follow-ups done in {seconds}s:\n{log.read_text()[-3000:]}")


def test_a_killed_scheduler_loses_and_doubles_nothing(database: Database, tmp_path: Path) -> None:
    studies = _study(tmp_path / "killtest")
    people = _enrol(database, studies, datetime.now(UTC) - timedelta(hours=2))  # their follow-ups fell due an hour ago
    log = tmp_path / "scheduler.log"

    first = _start(database.url, studies, log)
    try:
        # killed as soon as its first follow-ups are committed, so that most are still to do
        # however slowly this test's process is scheduled on a busy machine
        _wait_for(database, 1, first, log, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    killed_at = _done(database)
    assert killed_at < PEOPLE, "the first process finished everything before it was killed; raise PEOPLE"

    second = _start(database.url, studies, log)
    try:
        _wait_for(database, PEOPLE, second, log, 60)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)

    for reader in _readers.values():
        reader.dispose()
    _readers.clear()
    with database.transaction() as connection:
        sessions: dict[str, int] = dict(connection.execute(  # type: ignore[arg-type]
            select(SESSIONS.c.participant_id, func.count()).where(SESSIONS.c.flow_id == "later").group_by(SESSIONS.c.participant_id)
        ).all())
        prompts: dict[str, int] = dict(connection.execute(  # type: ignore[arg-type]
            select(OUTBOUND.c.participant_id, func.count()).where(OUTBOUND.c.step_id == "how").group_by(OUTBOUND.c.participant_id)
        ).all())
        tasks = connection.execute(
            select(DUE_TASKS.c.participant_id, DUE_TASKS.c.done, DUE_TASKS.c.error).where(DUE_TASKS.c.kind == "follow_up")
        ).all()
    assert len(tasks) == PEOPLE and all(done and error is None for _, done, error in tasks), [t for t in tasks if t[2]]
    assert sorted(sessions) == sorted(people) and set(sessions.values()) == {1}
    assert sorted(prompts) == sorted(people) and set(prompts.values()) == {1}
