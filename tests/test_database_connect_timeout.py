"""A PostgreSQL server that does not answer (a network partition) fails a connection within
storage.database.CONNECT_TIMEOUT, so a webhook's store fails in time to be spooled rather than
outliving the provider's webhook timeout (Twilio: 15 s)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.database import CONNECT_TIMEOUT, create_database_engine


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    listener.close()


def test_a_server_that_never_answers_fails_the_connection_within_the_timeout(silent_server: int) -> None:
    engine = create_database_engine(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/test")
    started = time.monotonic()
    with pytest.raises(OperationalError, match="timeout"), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    took = time.monotonic() - started
    assert CONNECT_TIMEOUT - 1 <= took < 15, f"gave up after {took:.1f} s"
    engine.dispose()


def test_the_operators_own_connect_timeout_wins(silent_server: int) -> None:
    engine = create_database_engine(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/test?connect_timeout=2")
    started = time.monotonic()
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert time.monotonic() - started < CONNECT_TIMEOUT - 1
    engine.dispose()
