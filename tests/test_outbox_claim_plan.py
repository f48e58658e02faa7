"""The dispatcher's claim and recovery read only the outbox rows that wait, whatever
``random_page_cost``: Chorus sets it to 1.1 on its connections (storage/database.py), but an
operator's PGOPTIONS or server configuration may put it back to 4, and the outbox's sent history
grows to millions of rows. ``/metrics``' scrape, once every 15 seconds, is checked at Chorus's
own setting (at 4 with a large backlog PostgreSQL may read the table for its counts: a scan a
scrape, not a claim's).

The statements the dispatcher and a scrape really send are captured and explained, on
PostgreSQL over a connection made with ``PGOPTIONS=-c random_page_cost=4`` (and again at 1.1),
on SQLite with EXPLAIN QUERY PLAN, in two outboxes with fresh statistics: a sent history with a
few rows waiting, and the same history with an SMS broadcast's backlog. Reading the history means
a sequential scan of the table, or a read of one of its indexes from end to end (no index
condition: the primary key walked in id order, filtering, is an "Index Scan" too).

Before the claim took its shape (bot/outbox_claims.py ``queued_on``), at random_page_cost 4 each
channel's claim during the backlog walked the primary key from the first row ever sent (both
tests below failed so; a partial index of the rows that wait did not change that, and was left
out: every outbox row would pay for it twice, queued and sending)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text

from bot.dispatcher import Dispatcher
from bot.metrics import BacklogCollector
from bot.outbox_claims import queued_on
from channels.base import Capabilities, OutboundMessage
from storage.crypto import Sealer
from storage.database import Database
from storage.outbox import WAITING_FOR_REPLY
from storage.tables import CONTACTS, OUTBOUND, PARTICIPANTS
from tests.db_fixtures import TEST_DATA_KEY

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
HISTORY = 50_000
BACKLOG = 10_000
PEOPLE = 100
CHANNELS = ("sms", "telegram")


class Silent:
    """A channel the claim names; nothing is sent here."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.capabilities = Capabilities()

    async def send(self, message: OutboundMessage) -> str:
        raise AssertionError("these tests only claim")


@pytest.fixture
def operators_database(migrated_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The app's database as an operator whose PGOPTIONS put random_page_cost back to 4 has it
    (the operator's options win over Chorus's own)."""
    monkeypatch.setenv("PGOPTIONS", "-c random_page_cost=4")
    database = Database(migrated_database_url, sealer=Sealer([TEST_DATA_KEY]))
    if database.is_postgres:
        with database.read_transaction() as connection:
            assert connection.execute(text("SHOW random_page_cost")).scalar() == "4"
    yield database
    database.dispose()


def _series(database: Database, count: int) -> str:
    """Rows n = 1 .. count to insert from, in one statement."""
    if database.is_postgres:
        return f"SELECT n FROM generate_series(1, {count}) AS s(n)"
    return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) SELECT n FROM s"


def _insert_rows(database: Database, count: int, channel: str, status: str, at: str) -> str:
    """``count`` outbox rows spread over the participants, each to their contact on ``channel``;
    every third of the history 'delivered' rather than 'sent'."""
    mod = "%%" if database.is_postgres else "%"  # (psycopg's placeholders)
    person = f"(n {mod} {PEOPLE}) + 1"
    contact = person if channel == "sms" else f"{person} + {PEOPLE}"
    status_of_n = f"CASE WHEN n {mod} 3 = 0 THEN 'delivered' ELSE 'sent' END" if status == "sent" else f"'{status}'"
    return (f"INSERT INTO outbound_messages (participant_id, contact_id, channel, text, buttons, multiple, kind, status,"
            f" attempts, created_at, sent_at) SELECT 'p-' || ({person}), {contact}, '{channel}', 'Thanks.', '[]', false,"
            f" 'prompt', {status_of_n}, 0, {at}, {at} FROM ({_series(database, count)}) AS series")


def fill(database: Database, backlog: int) -> None:
    """A study's sent history on both channels, then ``backlog`` rows queued on SMS (a broadcast),
    then a few queued on each channel, two 'sending' (one left by a dispatcher that died), three
    held and two failed; statistics gathered after (as autovacuum would)."""
    long_ago = "'2029-01-01 00:00:00'"
    claimed = datetime.now(UTC)  # claims are stamped by the database's clock (this machine's), not NOW
    with database.transaction() as connection:
        connection.execute(insert(PARTICIPANTS), [{"id": f"p-{n}", "language": "en", "fields": {}, "created_at": NOW}
                                                  for n in range(1, PEOPLE + 1)])
        connection.execute(insert(CONTACTS), [
            {"id": n + offset, "participant_id": f"p-{n}", "channel": channel, "address_hash": f"{channel}-{n:04d}".ljust(64, "0"),
             "address_sealed": database.sealer.seal(f"+4477009{n:05d}"), "created_at": NOW}
            for offset, channel in ((0, "sms"), (PEOPLE, "telegram")) for n in range(1, PEOPLE + 1)])
        for channel in CHANNELS:
            connection.exec_driver_sql(_insert_rows(database, HISTORY // 2, channel, "sent", long_ago))
        if backlog:
            connection.exec_driver_sql(_insert_rows(database, backlog, "sms", "queued", "'2030-06-01 11:00:00'"))
        waiting: list[dict[str, Any]] = [{"participant_id": f"p-{n}", "contact_id": n + (PEOPLE if channel == "telegram" else 0), "channel": channel,
                    "text": "Hello.", "buttons": [], "multiple": False, "kind": "prompt", "status": status, "attempts": 0,
                    "created_at": NOW - timedelta(minutes=5), "sent_at": sent_at, "error": error}
                   for n, channel, status, sent_at, error in [
                       *((n, channel, "queued", None, None) for n in range(1, 6) for channel in CHANNELS),
                       (90, "sms", "sending", claimed - timedelta(hours=1), None), (91, "telegram", "sending", claimed, None),
                       *((n, "sms", "held", None, "participant opted out") for n in (92, 93, 94)),
                       *((n, "sms", "failed", None, "invalid number") for n in (95, 96))]]
        connection.execute(insert(OUTBOUND), waiting)
    with database.transaction() as connection:
        connection.exec_driver_sql("ANALYZE")


def sent_statements(database: Database, work: Any) -> list[tuple[str, Any]]:
    """The statements on the outbox that ``work`` has the driver run, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "outbound_messages" in statement and (statement, repr(parameters)) not in {(s, repr(p)) for s, p in seen}:
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return seen


def the_dispatchers_statements(database: Database) -> list[tuple[str, Any]]:
    """A claim on each channel (quiet-hours release, claim, turn, load) and the recovery of rows
    left 'sending', as the app makes them."""
    dispatcher = Dispatcher(database, {name: Silent(name) for name in CHANNELS}, clock=lambda: NOW)

    def work() -> None:
        assert dispatcher._claim({name: 50 for name in CHANNELS}), "the oldest queued rows are claimed"
        assert dispatcher.recover_interrupted() == 1, "the row left 'sending' an hour ago"

    return sent_statements(database, work)


def a_scrapes_statements(database: Database) -> list[tuple[str, Any]]:
    def work() -> None:
        assert [family for family in BacklogCollector(database, clock=lambda: NOW).collect()
                if family.name == "chorus_database_up"][0].samples[0].value == 1

    return sent_statements(database, work)


def history_reads(database: Database, statement: str, parameters: Any, random_page_cost: str = "4") -> list[str]:
    """The steps of the statement's plan that read the outbox other than by searching an index."""
    return [step for step in plan_steps(database, statement, parameters, random_page_cost)
            if not step.startswith("search ")]


def plan_steps(database: Database, statement: str, parameters: Any, random_page_cost: str = "4") -> list[str]:
    """How the plan reads ``outbound_messages``: ``search <index>: <condition>``, ``whole <index>``
    (read from end to end) or ``table`` (every row)."""
    if isinstance(parameters, list):  # (many rows in one statement: one set explains it)
        parameters = parameters[0]
    with database.transaction() as connection:
        if database.is_sqlite:
            details = [str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            return [_sqlite_step(detail) for detail in details if detail.split(" ")[1:2] == ["outbound_messages"]]
        if random_page_cost != "4":
            connection.exec_driver_sql(f"SET LOCAL random_page_cost = {random_page_cost}")
        indexes = set(connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'outbound_messages'")).scalars())
        plan: Any = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
    return [_postgres_step(node) for node in _nodes(plan[0]["Plan"]) if _reads_outbox(node, indexes)]


def _reads_outbox(node: dict[str, Any], indexes: set[str]) -> bool:
    """A scan of the table or of one of its indexes (a bitmap heap scan reads only the rows its
    index scan found: that one is judged)."""
    if not node["Node Type"].endswith("Scan") or node["Node Type"] == "Bitmap Heap Scan":
        return False
    return node.get("Index Name") in indexes or node.get("Relation Name") == "outbound_messages"


def _postgres_step(node: dict[str, Any]) -> str:
    if "Index Name" not in node:
        return f"table ({node['Node Type']})"
    if "Index Cond" not in node:
        return f"whole {node['Index Name']} ({node['Node Type']})"
    return f"search {node['Index Name']}: {node['Index Cond']}"


def _sqlite_step(detail: str) -> str:
    index = detail.split(" INDEX ", 1)[1].split(" ")[0] if " INDEX " in detail else ""
    if detail.startswith("SEARCH"):
        return f"search {index or 'rowid'}: {detail}"
    return f"whole {index} ({detail})" if index else f"table ({detail})"


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize("backlog", [0, BACKLOG], ids=["history", "sms-backlog"])
def test_what_the_dispatcher_asks_never_reads_the_sent_history(operators_database: Database, backlog: int) -> None:
    fill(operators_database, backlog)
    statements = the_dispatchers_statements(operators_database)
    assert any("NOT IN (SELECT outbound_messages.participant_id" in statement for statement, _ in statements), "a claim was seen"
    assert len(statements) >= 6
    for random_page_cost in ("4", "1.1") if operators_database.is_postgres else ("4",):
        reads = {statement: found for statement, parameters in statements
                 if (found := history_reads(operators_database, statement, parameters, random_page_cost))}
        assert reads == {}, f"random_page_cost {random_page_cost}"


@pytest.mark.parametrize("backlog", [0, BACKLOG], ids=["history", "sms-backlog"])
def test_a_scrape_at_chorus_s_own_planner_setting_never_reads_the_sent_history(operators_database: Database, backlog: int) -> None:
    fill(operators_database, backlog)
    statements = a_scrapes_statements(operators_database)
    assert len(statements) >= 3
    setting = "1.1" if operators_database.is_postgres else "4"  # (SQLite has no such setting)
    reads = {statement: found for statement, parameters in statements
             if (found := history_reads(operators_database, statement, parameters, setting))}
    assert reads == {}


def test_each_channels_claim_searches_its_own_queued_rows_during_a_backlog(operators_database: Database) -> None:
    """Not another channel's backlog either: Telegram's
    claim during an SMS broadcast searches Telegram's queued rows, as SMS's searches its own."""
    fill(operators_database, BACKLOG)
    for channel in CHANNELS:
        query = queued_on(channel, 50, ["p-7"], operators_database.is_postgres)
        [(statement, parameters)] = sent_statements(operators_database, partial(_run, operators_database, query, channel))
        for random_page_cost in ("4", "1.1") if operators_database.is_postgres else ("4",):
            steps = plan_steps(operators_database, statement, parameters, random_page_cost)
            assert all(step.startswith("search ") for step in steps), (channel, random_page_cost, steps)
            assert any("channel" in step for step in steps), (channel, random_page_cost, steps)


def _run(database: Database, query: Any, channel: str) -> None:
    with database.transaction() as connection:
        rows = connection.execute(query).all()
    assert len(rows) == (50 if channel == "sms" else 5) and "p-7" not in {pid for _, pid in rows}


def test_reading_the_sent_history_is_seen(operators_database: Database) -> None:
    """The checks above can fail: counting every status, as scrapes once did, reads the history."""
    fill(operators_database, 0)
    counting = select(OUTBOUND.c.status, func.count()).group_by(OUTBOUND.c.status)
    [(statement, parameters)] = sent_statements(operators_database, lambda: _run_count(operators_database, counting))
    assert history_reads(operators_database, statement, parameters) != []


def _run_count(database: Database, query: Any) -> None:
    with database.transaction() as connection:
        assert sum(count for _, count in connection.execute(query).all()) > HISTORY


def test_the_look_for_whatsapp_templates_to_send_again_never_reads_the_sent_history(operators_database: Database) -> None:
    """Ten participants left a WhatsApp template unanswered two days ago, a message of each held
    behind it, during an SMS broadcast to the others: the look finds the held rows by (status, channel), reads
    the templates sent to those participants by their own index, queues the rows again, and the
    claim takes them (bot/dispatcher.py ``_resend_templates``)."""
    database = operators_database
    fill(database, BACKLOG)
    people = range(PEOPLE + 1, PEOPLE + 11)  # (not waiting for the broadcast: it would go first)
    with database.transaction() as connection:
        connection.execute(insert(PARTICIPANTS), [{"id": f"p-{n}", "language": "en", "fields": {}, "created_at": NOW} for n in people])
        connection.execute(insert(CONTACTS), [
            {"id": 1000 + n, "participant_id": f"p-{n}", "channel": "whatsapp", "address_hash": f"whatsapp-{n:04d}".ljust(64, "0"),
             "address_sealed": database.sealer.seal(f"+4477009{n:05d}"), "created_at": NOW} for n in people])
        connection.execute(insert(OUTBOUND), [
            {"participant_id": f"p-{n}", "contact_id": 1000 + n, "channel": "whatsapp", "text": text, "buttons": [], "multiple": False,
             "kind": "prompt", "status": status, "attempts": 0, "created_at": NOW - timedelta(days=2), "sent_at": NOW - timedelta(days=2),
             "error": error} for n in people for text, status, error in (("Hello.", "sent", None), ("Next.", "held", WAITING_FOR_REPLY))])
    with database.transaction() as connection:
        connection.exec_driver_sql("ANALYZE")
    dispatcher = Dispatcher(database, {name: Silent(name) for name in (*CHANNELS, "whatsapp")}, clock=lambda: NOW)
    claimed: list[Any] = []
    statements = sent_statements(database, lambda: claimed.extend(dispatcher._claim({"whatsapp": 50})))
    assert sorted(row.participant_id for row in claimed) == sorted(f"p-{n}" for n in people), "each one's held row, queued again"
    assert any(WAITING_FOR_REPLY in repr(parameters) for _, parameters in statements), "the look was seen"
    for random_page_cost in ("4", "1.1") if database.is_postgres else ("4",):
        reads = {statement: found for statement, parameters in statements
                 if (found := history_reads(database, statement, parameters, random_page_cost))}
        assert reads == {}, f"random_page_cost {random_page_cost}"
    steps = [step for statement, parameters in statements if "count(" in statement
             for step in plan_steps(database, statement, parameters)]
    assert steps and all("participant_id" in step for step in steps), steps
