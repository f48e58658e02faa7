"""Participant locks: one participant, one message at a time, within this process.

Every writer of a participant's conversation (the inbox, the scheduler, a transcribed voice
note) takes that participant's lock before its transaction; across processes the database
serialises them (SQLite's write lock, PostgreSQL's row locks).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager


class _Lock:
    __slots__ = ("lock", "__weakref__")

    def __init__(self) -> None:
        self.lock = threading.RLock()


class ParticipantLocks:
    """One re-entrant lock per participant id, forgotten once nobody holds or waits on it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakValueDictionary[str, _Lock] = weakref.WeakValueDictionary()

    def _entry(self, key: str) -> _Lock:
        with self._guard:
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = _Lock()
            return entry

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        entry = self._entry(key)
        with entry.lock:
            yield

    @contextmanager
    def try_hold(self, key: str) -> Iterator[bool]:
        """Take the lock if nobody holds it (yields True, and holds it until the block ends);
        yields False at once otherwise: for a thread already inside a transaction, which must
        not wait for a lock whose holder may be waiting for that transaction."""
        entry = self._entry(key)
        taken = entry.lock.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                entry.lock.release()
