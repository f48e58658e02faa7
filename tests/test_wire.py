"""storage/wire.py on a real PostgreSQL: statements sent together through libpq's pipeline,
prepared when they come back, and every error surfacing whole."""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import wire
from storage.database import Database
from storage.driver import Driver

pytestmark = pytest.mark.parametrize("database_kind", [pytest.param("postgresql", marks=pytest.mark.postgres)])

CREATE = "CREATE TABLE IF NOT EXISTS wire_test (id integer PRIMARY KEY, note text, big bigint)"


@pytest.fixture
def table(database: Database) -> Database:
    with database.transaction() as connection:
        connection.execute(text(CREATE))
    return database


def _prepared(connection: Any) -> list[str]:
    """The names of the statements prepared on this connection's session, as the server sees them."""
    rows = connection.connection.driver_connection.execute("SELECT name FROM pg_prepared_statements ORDER BY name").fetchall()
    return [row[0] for row in rows]


def test_statements_sent_together_are_one_transaction_and_their_rows_come_back(table: Database) -> None:
    with table.transaction() as connection:
        driver = Driver.of(connection)
        with driver.pipelined():
            driver.execute("INSERT INTO wire_test (id, note, big) VALUES (?, ?, ?)", (1, "one", 2**40))
            inserted = driver.rows_later("INSERT INTO wire_test (id, note) VALUES (?, ?), (?, ?) RETURNING id", (2, "two", 3, None))
            counted = driver.rows_later("SELECT count(*), max(big) FROM wire_test")
        assert sorted(row[0] for row in inserted()) == [2, 3]
        assert counted() == [(3, 2**40)], "each statement runs after the one before has finished"
    with table.transaction() as connection:
        assert connection.execute(text("SELECT id, note FROM wire_test ORDER BY id")).all() == [(1, "one"), (2, "two"), (3, None)]


def test_an_error_in_a_batch_is_raised_as_psycopgs_own_and_the_transaction_is_rolled_back(table: Database) -> None:
    with table.transaction() as connection:
        Driver.of(connection).execute("INSERT INTO wire_test (id, note) VALUES (?, ?)", (1, "kept"))
    with pytest.raises(psycopg.errors.UniqueViolation), table.transaction() as connection:
        driver = Driver.of(connection)
        with driver.pipelined():
            driver.execute("INSERT INTO wire_test (id, note) VALUES (?, ?)", (2, "rolled back"))
            driver.execute("INSERT INTO wire_test (id, note) VALUES (?, ?)", (1, "a duplicate"))
            driver.execute("INSERT INTO wire_test (id, note) VALUES (?, ?)", (3, "never run"))
    with table.transaction() as connection:  # the same pooled connection, usable again
        assert connection.execute(text("SELECT id, note FROM wire_test")).all() == [(1, "kept")]


def test_a_python_error_inside_the_block_discards_its_statements(table: Database) -> None:
    with contextlib.suppress(RuntimeError), table.transaction() as connection:
        driver = Driver.of(connection)
        with driver.pipelined():
            driver.execute("INSERT INTO wire_test (id, note) VALUES (?, ?)", (1, "discarded"))
            raise RuntimeError("the caller failed half-way")
    with table.transaction() as connection:
        assert connection.execute(text("SELECT count(*) FROM wire_test")).scalar_one() == 0
        assert Driver.of(connection).execute("SELECT 1").fetchall() == [(1,)]


def test_a_statement_that_comes_back_is_prepared_and_stays_prepared_through_a_rollback(table: Database) -> None:
    """Prepared the fifth time; psycopg's own preparing is off, so a rollback (which makes
    psycopg deallocate the statements it prepared) leaves these in place."""
    select_note = "SELECT note FROM wire_test WHERE id = ?"
    with table.transaction() as connection:
        driver = Driver.of(connection)
        driver.execute("INSERT INTO wire_test (id, note) VALUES (?, ?)", (7, "seven"))
        answers = [driver.execute(select_note, (7,)).fetchall() for _ in range(wire.PREPARE_AFTER + 2)]
        assert answers == [[("seven",)]] * (wire.PREPARE_AFTER + 2)
        names = [name for name in _prepared(connection) if name.startswith("chorus_")]
        assert len(names) >= 1
    with contextlib.suppress(RuntimeError), table.transaction() as connection:
        assert Driver.of(connection).execute(select_note, (7,)).fetchall() == [("seven",)]
        raise RuntimeError("rolled back")
    with table.transaction() as connection:
        assert set(names) <= set(_prepared(connection)), "still prepared after the rollback"
        assert Driver.of(connection).execute(select_note, (7,)).fetchall() == [("seven",)]


def test_a_parameter_whose_type_changes_with_its_value_gets_a_statement_of_its_own(table: Database) -> None:
    """psycopg sends a small integer as int2 and a large one as int8: one prepared statement for
    both would refuse the large one."""
    with table.transaction() as connection:
        driver = Driver.of(connection)
        for n, big in enumerate([1, 2**40] * (wire.PREPARE_AFTER + 1)):
            driver.execute("INSERT INTO wire_test (id, big) VALUES (?, ?)", (n, big))
        assert driver.execute("SELECT count(*), sum(big) FROM wire_test").fetchall() == [(12, 6 * (1 + 2**40))]


def test_beyond_the_cap_the_least_recently_used_statements_are_closed(table: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "PREPARED_MAX", 2)
    with table.transaction() as connection:
        driver = Driver.of(connection)
        for column in ("id", "note", "big"):
            for _ in range(wire.PREPARE_AFTER):
                driver.execute(f"SELECT {column} FROM wire_test WHERE id = ?", (1,))
        driver.execute("SELECT 1")  # the next batch closes what was evicted
        assert len(driver.prepared.names) == 2
        on_server = [name for name in _prepared(connection) if name.startswith("chorus_")]
        assert sorted(on_server) == sorted(name.decode() for name in driver.prepared.names.values())


def test_a_statement_prepared_in_a_failed_batch_is_prepared_again(table: Database) -> None:
    """A Parse in a batch that failed is not counted on: the statement is prepared again, under
    a new name, when it next comes back."""
    insert = "INSERT INTO wire_test (id, note) VALUES (?, ?)"
    with table.transaction() as connection:
        driver = Driver.of(connection)
        for n in range(wire.PREPARE_AFTER - 1):
            driver.execute(insert, (n, "before"))
    with pytest.raises(psycopg.errors.UniqueViolation), table.transaction() as connection:
        Driver.of(connection).execute(insert, (0, "the fifth time: prepared, and a duplicate"))
    with table.transaction() as connection:
        driver = Driver.of(connection)
        driver.execute(insert, (100, "prepared again"))
        assert driver.execute("SELECT count(*) FROM wire_test").fetchall() == [(wire.PREPARE_AFTER,)]


def test_a_connection_the_server_dropped_fails_its_batch_and_is_replaced(table: Database, postgres_databases: Any) -> None:
    """Dropped while busy (too recently used to be tested on its way out of the pool): the batch
    fails with the connection's own error, nothing half-done is kept, and the next transaction
    gets a new connection."""
    with table.transaction() as connection:
        first = Driver.of(connection).execute("SELECT pg_backend_pid()").fetchall()[0][0]
    with postgres_databases._connection().cursor() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    with pytest.raises((psycopg.OperationalError, OperationalError)), table.transaction() as connection:
        Driver.of(connection).execute("INSERT INTO wire_test (id, note) VALUES (?, ?)", (1, "lost"))
    with table.transaction() as connection:
        driver = Driver.of(connection)
        assert driver.execute("SELECT pg_backend_pid()").fetchall()[0][0] != first
        assert driver.execute("SELECT count(*) FROM wire_test").fetchall() == [(0,)]
