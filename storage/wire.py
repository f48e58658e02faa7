"""PostgreSQL: statements sent together through libpq's pipeline mode, with one wait for all
their results.

psycopg's own pipeline (``Connection.pipeline()``) polls the socket twice for every statement
(each poll lets go of the interpreter lock, which the event loop's thread then often holds a
while), handles each result through several layers of Python, and waits a round trip of its
own for a transaction's BEGIN. For the hot path's handful of statements per round trip that
was the largest part of the inbox writer's time. Here a round trip's first statement is handed
to the socket at once (the server starts on it while the rest are made), the others wait in
libpq's buffer, and the round trip ends with the Sync, which sends them, and one wait for
every result: the same protocol messages, the same parameter and result adaptation (psycopg's
``Transformer``, in C), far less in between. (Each statement once went as it was made; every
send woke the database's process, and on a busy machine that wake-up often took the writer's
core: the writer's wall time per message fell by a third without it, measured with the
benchmark's load.)

A statement whose text (and parameters' types) comes back is prepared the fifth time
(:class:`Prepared`, per connection: its Parse goes in the same round trip), so PostgreSQL
neither parses nor plans it again; the least recently used are deallocated beyond
:data:`PREPARED_MAX`. psycopg's own preparing is off on Chorus's connections (storage/
database.py): on a rollback it deallocates every prepared statement, these included.

A :class:`Batch` is used inside a transaction psycopg knows nothing about: ``BEGIN`` and
``COMMIT`` sent here change the libpq connection's transaction status, which psycopg reads
from libpq, so a later ``commit()`` or ``rollback()`` does what is left to do.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import fetch_many, send

_AUTO = PyFormat.AUTO
_FAILED = (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED)
PREPARE_AFTER = 5
"""A statement is prepared the fifth time it is run (as psycopg does)."""
PREPARED_MAX = 500
"""Prepared statements kept per connection: a batch's statements differ in text with its size."""

Key = tuple[bytes, tuple[int, ...]]


class Prepared:
    """The statements prepared on one connection, by text and parameter types (a parameter's
    type can change with its value: psycopg sends small integers as int2)."""

    def __init__(self) -> None:
        self.names: OrderedDict[Key, bytes] = OrderedDict()
        self.seen: dict[Key, int] = {}
        self.to_close: list[bytes] = []
        self._made = 0

    def name_for(self, key: Key) -> tuple[bytes | None, bool]:
        """The statement's name and whether it must be prepared now; (None, False) to run it unnamed."""
        name = self.names.get(key)
        if name is not None:
            self.names.move_to_end(key)
            return name, False
        seen = self.seen[key] = self.seen.get(key, 0) + 1
        if seen < PREPARE_AFTER:
            if len(self.seen) > 10 * PREPARED_MAX:  # texts seen once or twice, long ago
                self.seen.clear()
            return None, False
        self._made += 1
        return b"chorus_%d" % self._made, True

    def made(self, key: Key, name: bytes) -> None:
        """A statement was prepared (its batch succeeded). Beyond :data:`PREPARED_MAX`, the least
        recently used are closed with the next batch."""
        self.seen.pop(key, None)
        self.names[key] = name
        while len(self.names) > PREPARED_MAX:
            self.to_close.append(self.names.popitem(last=False)[1])


class Rows:
    """One statement's outcome, read once its :class:`Batch` has been sent."""

    __slots__ = ("_batch", "_result")

    def __init__(self, batch: Batch) -> None:
        self._batch = batch
        self._result: pq.abc.PGresult | None = None

    def fetchall(self) -> list[tuple[Any, ...]]:
        result = self._result
        if result is None:
            raise RuntimeError("the statement's batch has not been sent yet")
        if not result.ntuples:
            return []
        transformer = self._batch.transformer
        transformer.set_pgresult(result)
        return transformer.load_rows(0, result.ntuples, tuple)

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self.fetchall()
        return rows[0] if rows else None

    @property
    def rowcount(self) -> int:
        """Rows the statement returned or changed (-1 before its batch is sent)."""
        found = self._result.command_tuples if self._result is not None else None
        return -1 if found is None else int(found)


class Batch:
    """One round trip: each statement goes to the server as it is :meth:`add`-ed; :meth:`send`
    ends the round trip and reads every result."""

    def __init__(self, connection: psycopg.Connection[Any], prepared: Prepared) -> None:
        self.connection = connection
        self.pgconn = connection.pgconn
        self.transformer = Transformer(connection)
        self.prepared = prepared
        self._queued: list[Rows] = []
        self._parsed: list[tuple[Key, bytes]] = []
        """Statements prepared in this batch: counted as prepared once the batch has succeeded."""
        self.pgconn.enter_pipeline_mode()
        for name in prepared.to_close:  # (closing a statement that is not there is no error)
            self.pgconn.send_close_prepared(name)
            self._queued.append(Rows(self))
        prepared.to_close.clear()

    def add(self, sql: bytes, params: Sequence[Any] = ()) -> Rows:
        pgconn, transformer = self.pgconn, self.transformer
        dumped = transformer.dump_sequence(params, [_AUTO] * len(params)) if params else None
        types = tuple(transformer.types or ()) if params else ()
        formats = transformer.formats if params else None
        name, prepare = self.prepared.name_for((sql, types))
        if name is None:
            pgconn.send_query_params(sql, dumped, param_types=types, param_formats=formats)
        else:
            if prepare:
                pgconn.send_prepare(name, sql, param_types=types)
                self._queued.append(Rows(self))  # (the Parse's own result)
                self._parsed.append(((sql, types), name))
            pgconn.send_query_prepared(name, dumped, param_formats=formats)
        if not self._queued:  # the first goes at once (the socket does not block); the rest with the Sync
            pgconn.flush()
        rows = Rows(self)
        self._queued.append(rows)
        return rows

    def send_and_discard(self) -> None:
        """The block that queued these statements failed: send them anyway (libpq cannot take
        them back), ignore their outcome and leave pipeline mode; the caller's error stands and
        the transaction is rolled back."""
        with contextlib.suppress(Exception):  # (the block's own error is the one that matters)
            self.send()

    def send(self) -> None:
        """Send what was queued and read every result; the first error is raised (the
        statements after it were not run), once the connection has left pipeline mode."""
        pgconn, wait = self.pgconn, self.connection.wait
        first_error: pq.abc.PGresult | None = None
        try:
            pgconn.pipeline_sync()
            wait(send(pgconn))
            for rows in self._queued:
                results = wait(fetch_many(pgconn))
                rows._result = results[-1] if results else None
                if first_error is None and rows._result is not None and rows._result.status in _FAILED:
                    first_error = rows._result
            wait(fetch_many(pgconn))  # the Sync's own result
        except BaseException:  # (a lost connection: its own error says so, not leaving pipeline mode's)
            with contextlib.suppress(Exception):
                pgconn.exit_pipeline_mode()
            raise
        pgconn.exit_pipeline_mode()
        if first_error is None:
            for key, name in self._parsed:
                self.prepared.made(key, name)
        elif first_error.status == pq.ExecStatus.PIPELINE_ABORTED:
            raise errors.PipelineAborted("pipeline aborted")
        else:
            raise errors.error_from_result(first_error, encoding=self.connection.info.encoding)
