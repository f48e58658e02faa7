"""Operator items: the outbox index each channel's claim uses, and key rotation covering farewells."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy import event, insert, select, text

from bot.cli import cli
from bot.dispatcher import Dispatcher, RateLimit
from storage import outbox
from storage.crypto import Sealer, generate_key
from storage.tables import FAREWELLS, OUTBOUND
from tests.db_fixtures import TEST_DATA_KEY
from tests.test_dispatcher import Recorder

PHONE, STRANGER = "+447700900468", "+447700900579"


def _claim_statements(service: Any, clock: Any) -> list[tuple[str, Any]]:
    """The SELECTs the dispatcher's claim sends for each channel's queued rows (its own SQL, caught
    on the way to the driver), with their parameters."""
    caught: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().startswith("SELECT") and "outbound_messages.channel >=" in statement:
            caught.append((statement, parameters))

    event.listen(service.database.engine, "before_cursor_execute", catch)
    try:
        channels = [Recorder("sms"), Recorder("telegram")]
        sender = Dispatcher(service.database, {c.name: c for c in channels}, service.studies,
                            {c.name: RateLimit(1000) for c in channels}, clock=clock)
        asyncio.run(sender.dispatch_once())
    finally:
        event.remove(service.database.engine, "before_cursor_execute", catch)
    return caught


def test_each_channels_claim_of_queued_rows_uses_the_channel_index(service: Any, say: Callable[..., Any], clock: Any) -> None:
    """A backlog of sent rows and queued SMS does not make Telegram's claim read them: the
    claim's own query is planned on ``ix_outbound_channel_queue`` (status, channel, id)."""
    say("WAIT", address="+447700900001")
    say("WAIT", address="42", channel="telegram")
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        pid, cid = connection.execute(select(o.participant_id, o.contact_id).where(o.channel == "sms")).first() or ("", 0)
        backlog = [{"participant_id": pid, "contact_id": cid, "channel": "sms", "text": "x", "buttons": [],
                    "status": "sent" if n % 10 else "queued", "created_at": clock.now} for n in range(3000)]
        connection.execute(insert(OUTBOUND), backlog)
        connection.execute(text("ANALYZE"))
    statements = _claim_statements(service, clock)
    assert {"sms", "telegram"} <= {str(p) for _, params in statements for p in (params.values() if isinstance(params, dict) else params)}
    with service.database.transaction() as connection:
        for statement, parameters in statements:
            explain = "EXPLAIN QUERY PLAN " if service.database.is_sqlite else "EXPLAIN "
            plan = [str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters)]
            assert _claims_by_channel_index(plan), "\n".join(plan)
            assert not any("TEMP B-TREE" in line or "Sort" in line for line in plan), "oldest first, in index order"


def _claims_by_channel_index(plan: list[str]) -> bool:
    """The plan (SQLite's EXPLAIN QUERY PLAN or PostgreSQL's EXPLAIN) looks the queued rows of
    the channel up in ``ix_outbound_channel_queue`` by status and channel."""
    for line, following in zip(plan, [*plan[1:], ""], strict=True):
        if "USING INDEX ix_outbound_channel_queue (status=? AND channel>? AND channel<?)" in line:  # SQLite
            return True
        if re.search(r"Index Scan using ix_outbound_channel_queue on outbound_messages\s+\(", line):  # PostgreSQL
            return "Index Cond" in following and "channel" in following
    return False


def test_keys_rotate_reseals_the_erasure_confirmations_waiting_to_be_sent(service: Any, say: Callable[..., Any], clock: Any) -> None:
    """Once the old key is removed, a confirmation still sealed with it would be deleted unsent."""
    database = service.database
    say("WAIT", address=PHONE)
    say("DELETE MY DATA", address=PHONE)
    assert say("YES", address=PHONE).status == "erased"
    with database.transaction() as connection:  # and one sealed with a key long gone: it cannot stop the rotation
        outbox.queue_farewell(connection, "sms", Sealer([generate_key()]).seal(STRANGER), "bye", clock.now)
    new = generate_key()
    result = CliRunner().invoke(cli, ["keys", "rotate"], env={"CHORUS_DATA_KEYS": f"{new},{TEST_DATA_KEY}",
                                                              "CHORUS_DATABASE_URL": database.url})
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 of 2 erasure confirmations" in result.output
    assert "1 erasure confirmation(s) open with no configured key" in result.output
    with database.transaction() as connection:  # the old key removed: the confirmation still goes
        claimed = outbox.claim_farewells(connection, Sealer([new]), ["sms"], clock.now + timedelta(minutes=1), timedelta(minutes=2))
        left = connection.execute(select(FAREWELLS.c.id)).scalars().all()
    assert [(farewell.address, farewell.channel) for farewell in claimed] == [(PHONE, "sms")]
    assert left == [claimed[0].id], "(the unreadable one is deleted by the claim, as before)"
