"""A ``/metrics`` scrape reads only what waits: every query the backlog collector
(bot/metrics.py) makes is answered by searching an index on the rows that wait (queued,
sending, held, failed outbox rows; pending inbound; unfired due tasks), never by reading the
sent history, which grows to millions of rows. Checked on the plans, with a few thousand
rows of history and fresh statistics, on SQLite and PostgreSQL; the timing lives in
scripts/bench/metrics_scrape.py, not here."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, func, insert, select

from bot.metrics import BacklogCollector, backlog_queries
from storage.database import Database
from storage.tables import CONTACTS, DUE_TASKS, INBOUND, OUTBOUND, PARTICIPANTS
from tests.database_time import database_now

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
HISTORY = 20_000
TABLES = {"outbound_messages", "inbound_messages", "due_tasks"}
EVERY_OUTBOX_STATUS = select(OUTBOUND.c.status, func.count()).group_by(OUTBOUND.c.status)
"""What scrapes counted before: every outbox row, sent ones included."""


def _series(count: int) -> str:
    return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) "


@pytest.fixture
def busy_database(database: Database) -> Database:
    """A study's history (sent messages, handled inbound, fired tasks) and a few rows that wait."""
    long_ago = "'2029-01-01 00:00:00'"
    claimed = database_now(database)  # claims are stamped, and their age measured, by the database's clock
    outbox = {"participant_id": "p-scale", "contact_id": 1, "channel": "sms", "text": "Hello.", "buttons": [], "multiple": False,
              "kind": "prompt", "attempts": 0, "sent_at": None}
    with database.transaction() as connection:
        connection.execute(insert(PARTICIPANTS).values(id="p-scale", language="en", fields={}, created_at=NOW))
        connection.execute(insert(CONTACTS).values(id=1, participant_id="p-scale", channel="sms", address_hash="0" * 64,
                                                   address_sealed="", created_at=NOW))
        connection.exec_driver_sql(
            _series(HISTORY) + "INSERT INTO outbound_messages (participant_id, contact_id, channel, text, buttons, multiple, kind,"
            " status, attempts, created_at, sent_at) SELECT 'p-scale', 1, 'sms', 'Thanks.', '[]', false, 'prompt',"
            f" CASE WHEN n > {HISTORY // 2} THEN 'delivered' ELSE 'sent' END, 1, {long_ago}, {long_ago} FROM s")
        connection.exec_driver_sql(
            _series(HISTORY // 2) + "INSERT INTO inbound_messages (channel, provider_id, text, media, received_at, status)"
            f" SELECT 'sms', 'old-' || n, '', '[]', {long_ago}, 'processed' FROM s")
        connection.exec_driver_sql(
            _series(HISTORY // 2) + "INSERT INTO due_tasks (kind, payload, due_at, attempts, done, created_at)"
            f" SELECT 'reminder', '{{}}', {long_ago}, 1, true, {long_ago} FROM s")
        waiting = [{**outbox, "status": "queued", "created_at": NOW - timedelta(seconds=40 - n)} for n in range(30)]
        waiting += [{**outbox, "status": "sending", "created_at": NOW, "sent_at": claimed - timedelta(seconds=s)} for s in (7, 3)]
        waiting += [{**outbox, "status": status, "created_at": NOW - timedelta(days=2)} for status in ["held"] * 3 + ["failed"] * 4]
        connection.execute(insert(OUTBOUND), waiting)
        connection.execute(insert(INBOUND), [{"channel": "sms", "provider_id": f"new-{n}", "text": "", "media": [], "received_at": NOW,
                                              "status": status} for n, status in enumerate(["received"] * 2 + ["awaiting_transcript"])])
        connection.execute(insert(DUE_TASKS), [{"kind": "reminder", "payload": {}, "due_at": NOW + timedelta(minutes=minutes),
                                                "attempts": 0, "done": False, "created_at": NOW} for minutes in (-9, -2, -1, 5, 60, 600)])
    with database.transaction() as connection:
        connection.exec_driver_sql("ANALYZE")
    return database


def gauges(database: Database) -> dict[str, float]:
    return {f"{sample.name}{sorted(sample.labels.items())}" if sample.labels else sample.name: sample.value
            for family in BacklogCollector(database, clock=lambda: NOW).collect() for sample in family.samples}


def full_reads(database: Database, query: Select[Any]) -> list[str]:
    """The steps of the query's plan that read one of the growing tables other than by searching an index."""
    sql = str(query.compile(dialect=database.engine.dialect, compile_kwargs={"literal_binds": True}))
    with database.read_transaction() as connection:  # the app's own connection settings (PostgreSQL's planner options)
        if database.is_sqlite:
            steps = [str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
            return [step for step in steps if any(f" {table}" in step for table in TABLES)
                    and not (step.startswith("SEARCH") and "INDEX" in step)]
        plan: Any = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql).scalar_one()
    return [f"{node['Node Type']} on {node.get('Relation Name') or node.get('Index Name')}" for node in _nodes(plan[0]["Plan"])
            if (node["Node Type"] == "Seq Scan" and node.get("Relation Name") in TABLES)
            or ("Index Name" in node and "Index Cond" not in node)]  # a whole index read in order is no search either


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize("name", list(backlog_queries(NOW)))
def test_every_scrape_query_searches_an_index_instead_of_reading_the_history(busy_database: Database, name: str) -> None:
    assert full_reads(busy_database, backlog_queries(NOW)[name]) == []


def test_counting_every_outbox_status_is_seen_reading_the_whole_history(busy_database: Database) -> None:
    """The check above can fail: the count scrapes made before reads every sent row."""
    assert full_reads(busy_database, EVERY_OUTBOX_STATUS) != []


def test_the_gauges_count_what_waits_and_leave_the_history_out(busy_database: Database) -> None:
    found = gauges(busy_database)
    assert found["chorus_database_up"] == 1
    assert {status: found[f"chorus_outbox_messages[('status', '{status}')]"] for status in ("queued", "sending", "held", "failed")} \
        == {"queued": 30, "sending": 2, "held": 3, "failed": 4}
    assert not [name for name in found if "'sent'" in name or "'delivered'" in name], "no status that only grows is gauged"
    assert found["chorus_outbox_oldest_queued_seconds"] == 40, "the oldest queued row, not the year-old sent ones"
    assert found["chorus_outbox_oldest_sending_seconds"] == pytest.approx(7, abs=3)
    assert found["chorus_inbox_pending[('status', 'received')]"] == 2
    assert found["chorus_inbox_pending[('status', 'awaiting_transcript')]"] == 1
    assert found["chorus_due_tasks_backlog"] == 3, "due and unfired: not the fired history, not the ones still to come"
    assert found["chorus_due_tasks_oldest_seconds"] == 9 * 60


@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_a_scrape_on_sqlite_does_not_wait_for_a_writer(database: Database) -> None:
    """A scrape is a reader: while another thread holds the database's one writer, it answers at
    once with what was committed (a writer's lock would hold it up to the 30-second busy timeout)."""
    writing, done = threading.Event(), threading.Event()

    def write() -> None:
        with database.transaction() as connection:
            connection.execute(insert(PARTICIPANTS).values(id="p-writer", language="en", fields={}, created_at=NOW))
            writing.set()
            done.wait(10)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert writing.wait(5)
        scraped: dict[str, float] = {}
        scraper = threading.Thread(target=lambda: scraped.update(gauges(database)))
        scraper.start()
        scraper.join(3)
        assert not scraper.is_alive(), "the scrape waited for the writer"
        assert scraped["chorus_database_up"] == 1 and scraped["chorus_outbox_messages[('status', 'queued')]"] == 0
    finally:
        done.set()
        writer.join(10)
