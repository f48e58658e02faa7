"""Metrics scrape benchmark: what one Prometheus scrape of ``/metrics`` costs the database
(bot/metrics.py's BacklogCollector) when the tables hold a year of a large study.

Fills a migrated database with --rows outbox rows (nearly all 'sent', one in a thousand
'failed'), a backlog of --queued queued rows (a broadcast), a few sending and held ones, half
as many handled inbound messages and fired due tasks as outbox rows, plus some waiting ones;
bulk inserts (generate_series on PostgreSQL, a recursive CTE on SQLite). Prints the median
scrape time over --repeat scrapes as a ratio against a scrape of the same database while it
was empty (the baseline, same run), and the same for the count of every outbox status that
scrapes made before (``before``); --explain prints each query's plan (EXPLAIN ANALYZE on
PostgreSQL, EXPLAIN QUERY PLAN on SQLite).

    .venv/bin/python scripts/bench/metrics_scrape.py [--rows 1000000] [--queued 1000] [--repeat 20] [--explain]
        [--database postgresql://postgres@127.0.0.1:5432/metrics_x]   (default: a SQLite file in a temporary folder)

The PostgreSQL database must exist and be empty (``createdb -h 127.0.0.1 -U postgres metrics_x``;
drop it afterwards). Goal: a full database's scrape within a few times the empty one's, not
growing with --rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Select, func, insert, select  # noqa: E402

from bot.metrics import BacklogCollector, backlog_queries  # noqa: E402
from storage.database import Database, init_database  # noqa: E402
from storage.tables import CONTACTS, DUE_TASKS, INBOUND, OUTBOUND, PARTICIPANTS  # noqa: E402

NOW = datetime.now(UTC)
YEAR_AGO = NOW - timedelta(days=365)
EVERY_STATUS = select(OUTBOUND.c.status, func.count()).group_by(OUTBOUND.c.status)
"""The outbox count scrapes made before: every row, 'sent' ones included."""


def fill(database: Database, rows: int, queued: int) -> None:
    """Bulk history (one statement a table), then the few rows that wait, inserted as the app would."""
    with database.transaction() as connection:
        connection.execute(insert(PARTICIPANTS).values(id="p-bench", language="en", fields={}, created_at=YEAR_AGO))
        connection.execute(insert(CONTACTS).values(id=1, participant_id="p-bench", channel="sms", address_hash="0" * 64,
                                                   address_sealed="", created_at=YEAR_AGO))
        for statement in (_history_postgres if database.is_postgres else _history_sqlite)(rows):
            connection.exec_driver_sql(statement)
        outbox = {"participant_id": "p-bench", "contact_id": 1, "channel": "sms", "text": "Round 2 is open.", "buttons": [],
                  "multiple": False, "kind": "prompt", "attempts": 0, "sent_at": None}
        waiting = [{**outbox, "status": "queued", "created_at": NOW - timedelta(seconds=queued - n)} for n in range(queued)]
        waiting += [{**outbox, "status": "sending", "created_at": NOW, "sent_at": NOW - timedelta(seconds=n)} for n in range(5)]
        waiting += [{**outbox, "status": "held", "created_at": NOW} for _ in range(50)]
        for start in range(0, len(waiting), 5000):  # every row has the same keys: executemany takes the first row's
            connection.execute(insert(OUTBOUND), waiting[start:start + 5000])
        connection.execute(insert(INBOUND), [{"channel": "sms", "provider_id": f"waiting-{n}", "text": "", "media": [],
                                              "received_at": NOW, "status": "received"} for n in range(20)])
        connection.execute(insert(DUE_TASKS), [{"kind": "reminder", "payload": {}, "due_at": NOW + timedelta(minutes=n - 10),
                                                "attempts": 0, "done": False, "created_at": NOW} for n in range(5000)])
    with database.transaction() as connection:
        connection.exec_driver_sql("ANALYZE")


def _history_postgres(rows: int) -> list[str]:
    since = f"timestamptz '{YEAR_AGO.isoformat()}'"
    return [
        "INSERT INTO outbound_messages (participant_id, contact_id, channel, text, buttons, multiple, kind, status, attempts,"
        " created_at, sent_at) SELECT 'p-bench', 1, 'sms', 'Thank you.', '[]', false, 'prompt',"
        f" CASE WHEN mod(n, 1000) = 0 THEN 'failed' ELSE 'sent' END, 1, {since} + n * interval '30 ms', {since} + n * interval '30 ms'"
        f" FROM generate_series(1, {rows}) AS n",
        "INSERT INTO inbound_messages (channel, provider_id, text, media, received_at, status) SELECT 'sms', 'old-' || n, '',"
        f" '[]', {since} + n * interval '60 ms', 'processed' FROM generate_series(1, {rows // 2}) AS n",
        "INSERT INTO due_tasks (kind, payload, due_at, attempts, done, created_at) SELECT 'reminder', '{}',"
        f" {since} + n * interval '60 ms', 1, true, {since} FROM generate_series(1, {rows // 2}) AS n",
    ]


def _history_sqlite(rows: int) -> list[str]:
    since = f"'{YEAR_AGO.replace(tzinfo=None).isoformat(sep=' ')}'"
    def series(count: int) -> str:
        return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) "
    return [
        series(rows) + "INSERT INTO outbound_messages (participant_id, contact_id, channel, text, buttons, multiple, kind, status,"
        " attempts, created_at, sent_at) SELECT 'p-bench', 1, 'sms', 'Thank you.', '[]', 0, 'prompt',"
        f" CASE WHEN mod(n, 1000) = 0 THEN 'failed' ELSE 'sent' END, 1, {since}, {since} FROM s",
        series(rows // 2) + "INSERT INTO inbound_messages (channel, provider_id, text, media, received_at, status)"
        f" SELECT 'sms', 'old-' || n, '', '[]', {since}, 'processed' FROM s",
        series(rows // 2) + "INSERT INTO due_tasks (kind, payload, due_at, attempts, done, created_at)"
        f" SELECT 'reminder', '{{}}', {since}, 1, 1, {since} FROM s",
    ]


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    action()  # warm: the pool's connection, the statement cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def scrape(database: Database) -> Callable[[], object]:
    collector = BacklogCollector(database, clock=lambda: NOW)
    return lambda: [sample for family in collector.collect() for sample in family.samples]


def count_every_status(database: Database) -> Callable[[], object]:
    def run() -> object:
        with database.read_transaction() as connection:
            return connection.execute(EVERY_STATUS).all()
    return run


def explain(database: Database, queries: dict[str, Select[Any]]) -> None:
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if database.is_postgres else "EXPLAIN QUERY PLAN "
    with database.read_transaction() as connection:
        for name, query in queries.items():
            sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
            plan = connection.exec_driver_sql(prefix + sql).all()
            print(f"\n-- {name}")
            print("\n".join(str(row[-1]) for row in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queued", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = init_database(args.database or f"sqlite:///{folder}/chorus.db")
        with database.read_transaction() as connection:
            if connection.execute(select(func.count()).select_from(OUTBOUND)).scalar():
                sys.exit("the database is not empty: give an empty one (createdb ...)")
        empty = median_seconds(scrape(database), args.repeat)
        empty_before = median_seconds(count_every_status(database), args.repeat)
        started = time.perf_counter()
        fill(database, args.rows, args.queued)
        print(f"{database.engine.dialect.name}: filled {args.rows:,} outbox rows ({args.queued:,} queued), {args.rows // 2:,} inbound,"
              f" {args.rows // 2:,} due tasks in {time.perf_counter() - started:.1f} s")
        full = median_seconds(scrape(database), args.repeat)
        full_before = median_seconds(count_every_status(database), args.repeat)
        print(f"scrape: {full / empty:.1f}x the empty database's ({full * 1000:.2f} ms against {empty * 1000:.2f} ms)")
        print(f"before (counting every outbox status): {full_before / empty_before:.1f}x"
              f" ({full_before * 1000:.2f} ms against {empty_before * 1000:.2f} ms, that query alone)")
        if args.explain:
            explain(database, {**backlog_queries(NOW), "before: every status": EVERY_STATUS})
        database.dispose()


if __name__ == "__main__":
    main()
