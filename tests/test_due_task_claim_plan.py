"""The scheduler's claim reads only the due tasks that wait, found by ``ix_due_tasks_pending``
(done, due_at), never the fired history, which grows by every follow-up, reminder and closing
ever sent. Its lease is judged by the database's clock (storage/database_clock.py): on
PostgreSQL a comparison with ``statement_timestamp()``, which is stable within a statement,
so the plan stays the index search it was with a bound time. The statements the claim really
sends (storage/driver.py, past SQLAlchemy's events: recorded at the driver) are explained on
PostgreSQL at ``random_page_cost`` 4 (an operator's PGOPTIONS) and Chorus's own 1.1, and on
SQLite with EXPLAIN QUERY PLAN, over a fired history with fresh statistics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text

from storage import due_tasks
from storage.crypto import Sealer
from storage.database import Database
from storage.driver import Driver
from storage.tables import DUE_TASKS
from tests.db_fixtures import TEST_DATA_KEY

HISTORY = 50_000
TABLE, INDEXES = "due_tasks", ("ix_due_tasks_pending", "due_tasks_pkey")


@pytest.fixture
def operators_database(migrated_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("PGOPTIONS", "-c random_page_cost=4")
    database = Database(migrated_database_url, sealer=Sealer([TEST_DATA_KEY]))
    yield database
    database.dispose()


def fill(database: Database) -> None:
    """A fired history, then a few tasks due now (one claimed by a scheduler that may be alive),
    and a few to come; statistics gathered after (as autovacuum would)."""
    series = (f"SELECT n FROM generate_series(1, {HISTORY}) AS s(n)" if database.is_postgres
              else f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {HISTORY}) SELECT n FROM s")
    now = datetime.now(UTC)
    with database.transaction() as connection:
        connection.exec_driver_sql("INSERT INTO due_tasks (kind, payload, due_at, attempts, done, done_at, created_at)"
                                   f" SELECT 'reminder', '{{}}', '2029-01-01 00:00:00', 1, true, '2029-01-01 00:00:00',"
                                   f" '2029-01-01 00:00:00' FROM ({series}) AS history")
        connection.execute(insert(DUE_TASKS), [
            {"kind": "reminder", "payload": {}, "due_at": now + timedelta(minutes=minutes), "attempts": 0, "done": False,
             "created_at": now, "claimed_at": now if minutes == -3 else None, "leased_at": now if minutes == -3 else None,
             "claimed_by": "alive:1:0a1b2c3d" if minutes == -3 else None} for minutes in (-9, -3, -2, -1, 5, 60, 600)])
    with database.transaction() as connection:
        connection.exec_driver_sql("ANALYZE")


def claims_statements(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """What one claim sends (it finds the three free tasks due), with its parameters."""
    seen: list[tuple[str, tuple[Any, ...]]] = []
    execute = Driver.execute

    def record(driver: Driver, sql: str, params: Any = ()) -> Any:
        if (sql, tuple(params)) not in seen:  # (on PostgreSQL it calls itself inside its round trip)
            seen.append((sql, tuple(params)))
        return execute(driver, sql, params)

    monkeypatch.setattr(Driver, "execute", record)
    with database.transaction() as connection:
        assert len(due_tasks.claim(connection, "looker", datetime.now(UTC), 1000, timedelta(minutes=5))) == 3
    monkeypatch.undo()
    return seen


def plan(database: Database, sql: str, params: tuple[Any, ...], random_page_cost: str) -> list[str]:
    """How the statement reads due_tasks: ``search <index>: <condition>``, ``whole <index>`` or ``table``."""
    with database.transaction() as connection:
        if database.is_sqlite:
            details = [str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            return [("search " if detail.startswith("SEARCH") else "table ") + detail for detail in details if f" {TABLE}" in detail]
        connection.execute(text(f"SET LOCAL random_page_cost = {random_page_cost}"))
        found: Any = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql.replace("?", "%s"), params).scalar_one()
    return [_step(node) for node in _nodes(found[0]["Plan"])
            if node["Node Type"].endswith("Scan") and node["Node Type"] != "Bitmap Heap Scan"
            and (node.get("Relation Name") == TABLE or node.get("Index Name") in INDEXES)]


def _step(node: dict[str, Any]) -> str:
    if "Index Name" not in node:
        return f"table ({node['Node Type']})"
    if "Index Cond" not in node:
        return f"whole {node['Index Name']}"
    return f"search {node['Index Name']}: {node['Index Cond']}"


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def test_the_claim_searches_the_pending_index_and_never_reads_the_fired_history(
        operators_database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    database = operators_database
    fill(database)
    statements = claims_statements(database, monkeypatch)
    assert [sql.split(" ", 1)[0] for sql, _ in statements] == ["SELECT", "UPDATE"]
    for random_page_cost in ("4", "1.1") if database.is_postgres else ("4",):
        steps = {sql.split(" ", 1)[0]: plan(database, sql, params, random_page_cost) for sql, params in statements}
        assert all(found and all(step.startswith("search ") for step in found) for found in steps.values()), (random_page_cost, steps)
        assert "ix_due_tasks_pending" in " ".join(steps["SELECT"]), (random_page_cost, steps)
