"""Scheduler benchmark: 100,000 participants with one follow-up each, on SQLite and PostgreSQL.

Prints, per database: the time to plan every participant's follow-up (``Scheduler.plan_new``),
the time to claim 10,000 due tasks alone, and the time for the tick to claim them and
enqueue each (start the follow-up flow through the conversation service: session, outbox
row), against the goal of 10 s. Participants are made in bulk first (not timed). Besides wall
time it prints the CPU seconds of this process and of the PostgreSQL backends serving the
benchmark's database: on a shared machine wall time mostly measures the other processes.

    .venv/bin/python scripts/bench/schedule.py [--participants 100000] [--due 10000]
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bot.scheduler import Scheduler  # noqa: E402
from bot.service import ConversationService  # noqa: E402
from bot.studies import StudyRegistry  # noqa: E402
from storage import due_tasks  # noqa: E402
from storage.database import Database, init_database  # noqa: E402
from storage.tables import CONTACTS, DUE_TASKS, ENROLMENTS, OUTBOUND, PARTICIPANTS  # noqa: E402

GOAL_SECONDS = 10.0
START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
STUDY = """\
study: bench
title: Scheduler benchmark
timezone: Europe/London
quiet_hours: "21:00-08:00"
join: {start_flow: hello}
flows: [hello.yaml, follow.yaml]
schedule:
  - flow: follow
    after: 28d
    window: "09:00-19:00"
    reminders: [3d]
"""
HELLO = "flow: hello\nsteps:\n  - id: hi\n    type: message\n    text: Hello.\n"
FOLLOW = "flow: follow\nsteps:\n  - id: how\n    type: scale\n    text: How are things now?\n    min: 1\n    max: 5\n"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_study(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("study.yaml", STUDY), ("hello.yaml", HELLO), ("follow.yaml", FOLLOW)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def make_participants(database: Database, count: int, due: int) -> None:
    """``due`` participants joined on START, the rest ten days later (their follow-ups not yet due)."""
    people, contacts, enrolments = [], [], []
    sealer = database.sealer
    for n in range(count):
        pid, joined = f"p-{n:016x}", START if n < due else START + timedelta(days=10)
        people.append({"id": pid, "language": "en", "fields": {}, "created_at": joined})
        contacts.append({"id": n + 1, "participant_id": pid, "channel": "sms", "address_hash": f"{n:064x}",
                         "address_sealed": sealer.seal(f"+4470{n:08d}"), "created_at": joined})
        enrolments.append({"participant_id": pid, "study_id": "bench", "group": None, "language": "en", "channel": "sms",
                           "status": "active", "opted_out": False, "enrolled_at": joined, "opted_out_at": None})
    with database.transaction() as connection:
        for table, rows in ((PARTICIPANTS, people), (CONTACTS, contacts), (ENROLMENTS, enrolments)):
            for i in range(0, len(rows), 5000):
                connection.execute(insert(table), rows[i:i + 5000])


class ServerCPU:
    """CPU seconds used by the PostgreSQL backends serving this benchmark's database (nothing on
    SQLite), read from /proc, where each backend's title names its database. Sampled every
    0.2 s from a thread, per backend, so a backend that exits (a pooled connection closed)
    keeps what it used until its last sample."""

    def __init__(self, url: str) -> None:
        self.name = url.rsplit("/", 1)[1].encode() if url.startswith("postgresql") else b""
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and self.name in (entry / "cmdline").read_bytes():
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    used = (int(fields[11]) + int(fields[12])) / tick
                    self.last[entry.name] = used
            except OSError:
                continue

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> ServerCPU:
        if self.name:
            self._sample()
            self.first = dict(self.last)
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.name:
            self._stop.set()
            self._thread.join()
            self._sample()

    @property
    def seconds(self) -> float:
        return sum(used - self.first.get(pid, 0.0) for pid, used in self.last.items())


def count(database: Database, table: object, *where: object) -> int:
    with database.transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def run(kind: str, url: str, studies: Path, participants: int, due: int) -> None:
    database = init_database(url)
    registry = StudyRegistry.from_folder(studies)
    clock = Clock(START + timedelta(days=10, minutes=5))
    service = ConversationService(database, registry, clock, address_key=b"bench")
    scheduler = Scheduler(database, service, registry, clock)
    make_participants(database, participants, due)

    with ServerCPU(url) as server:
        began, cpu = time.perf_counter(), time.process_time()
        scheduler.plan_new(limit=5000)
        planning, planning_cpu = time.perf_counter() - began, time.process_time() - cpu
    planning_server = server.seconds
    planned = count(database, DUE_TASKS, DUE_TASKS.c.kind == "follow_up")

    clock.now = START + timedelta(days=28, hours=1)  # the first `due` follow-ups are due (09:00 + 28d... 11:00)
    with database.transaction() as connection:  # claim alone, then give them back untouched
        began = time.perf_counter()
        claimed = []
        while batch := due_tasks.claim(connection, "bench-claim", clock.now, 1000, timedelta(minutes=5)):
            claimed += batch
        claiming = time.perf_counter() - began
        connection.rollback()

    with ServerCPU(url) as server:
        began, cpu = time.perf_counter(), time.process_time()
        stats = scheduler.tick(max_batches=10_000)
        ticking, ticking_cpu = time.perf_counter() - began, time.process_time() - cpu
    ticking_server = server.seconds
    queued = count(database, OUTBOUND, OUTBOUND.c.step_id == "how")
    database.dispose()

    print(f"{kind}: {participants:,} participants (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  plan:  {planned:,} follow-ups in {planning:6.2f} s ({planned / planning:,.0f}/s; CPU: this process {planning_cpu:.2f} s, database server {planning_server:.2f} s)")
    print(f"  claim: {len(claimed):,} due tasks in {claiming:6.2f} s (claiming only; ratio to the {GOAL_SECONDS:g} s goal {claiming / GOAL_SECONDS:.2f})")
    print(f"  tick:  claimed {stats.claimed:,}, fired {stats.outcomes.get('fired', 0):,}, queued {queued:,} messages in {ticking:6.2f} s"
          f" ({stats.claimed / ticking:,.0f}/s; ratio to the {GOAL_SECONDS:g} s goal {ticking / GOAL_SECONDS:.2f}"
          f" {'OK' if ticking <= GOAL_SECONDS else 'OVER'}; CPU: this process {ticking_cpu:.2f} s, database server {ticking_server:.2f} s)")


def postgres_database(server: str) -> str:
    import psycopg

    name = f"chorus_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rsplit('/', 1)[0]}/{name}"


def drop_postgres(server: str, url: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        studies = make_study(Path(folder) / "bench")
        if args.only in (None, "sqlite"):
            run("SQLite", f"sqlite:///{folder}/bench.db", studies, args.participants, args.due)
        if args.only in (None, "postgresql"):
            url = postgres_database(args.postgres)
            try:
                run("PostgreSQL", url, studies, args.participants, args.due)
            finally:
                drop_postgres(args.postgres, url)


if __name__ == "__main__":
    main()
