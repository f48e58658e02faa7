"""Back-off and quiet logging for background loops while something they need is down.

The inbox worker, the outbox dispatcher and the scheduler poll the database several times a
second. When it goes away each attempt fails the same way, and logging every one with its
traceback filled the log at about 40 KB/s. :class:`Outage` keeps one loop's failures: the
first one (or a different one) is logged with its traceback, then at most one short line every
``remind_every`` seconds; the wait between attempts doubles from ``first_delay`` to
``max_delay``; and the first success after failures logs one line. Retrying stays automatic.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class NotStarted(Exception):
    """This process has not finished starting on the database (bot/degraded.py): raised inside an
    OperationalError, as an unreachable server's would be. Its cause is known: logged without a traceback."""


def is_database_error(error: BaseException) -> bool:
    """A connection-level database error (server gone, refused, database renamed or closed)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


UNREACHABLE = ("connection refused", "timeout expired", "timed out", "is not currently accepting connections",
               "the database system is starting up", "the database system is shutting down",
               "the database system is in recovery mode", "the database system is not yet accepting connections",
               "no route to host", "network is unreachable", "server closed the connection unexpectedly",
               "terminating connection due to administrator command", "connection reset by peer",
               "too many clients already", "remaining connection slots are reserved")
"""How a PostgreSQL server that is down, restarting, blocked, full or cut off by the network fails a
connection. Not there: a wrong password, a database or host name that does not exist, a
server that refuses this client (those are settings to correct, not an outage to wait out)."""


def is_unreachable(error: BaseException) -> bool:
    """A database error that waiting can cure: the server refused, did not answer in time, or
    is not accepting connections (a restart, a failover, ``ALLOW_CONNECTIONS false``)."""
    if not is_database_error(error):
        return False
    said = str(getattr(error, "orig", None) or error).lower()
    return any(words in said for words in UNREACHABLE)


def short(error: BaseException, limit: int = 200) -> str:
    """The error's type and the first line of its message, for a one-line log record."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    text = text[:limit] + ("..." if len(text) > limit else "")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass
class Outage:
    """One loop's run of failures: how long to wait before the next attempt, and what to log."""

    log: logging.Logger
    what: str
    """What failed, for the log: "reading the inbox", "dispatch", "scheduler tick"."""
    first_delay: float = 1.0
    max_delay: float = 30.0
    remind_every: float = 30.0
    clock: Callable[[], float] = time.monotonic
    traceback: bool = True
    """False: the first failure's one line only (a traceback's SQL parameters may hold what someone wrote)."""
    failures: int = 0
    _kind: str | None = field(default=None, repr=False)
    _since: float = field(default=0.0, repr=False)
    _last_said: float = field(default=0.0, repr=False)
    _retry_at: float = field(default=0.0, repr=False)

    def failed(self, error: BaseException, said: bool = False) -> float:
        """Log this failure as much as it deserves; returns the seconds to wait before retrying.
        ``said``: the caller has logged it already (the first failure is then not logged again)."""
        now = self.clock()
        kind = type(error).__qualname__
        if self.failures == 0:
            self._since = now
        self.failures += 1
        delay = min(self.max_delay, self.first_delay * 2 ** min(self.failures - 1, 30))
        self._retry_at = now + delay
        if kind != self._kind:  # the first failure, or a different one: worth its traceback
            self._kind, self._last_said = kind, now
            if not said:
                self.log.error("%s failed; %s (retrying in %gs, backing off to %gs)", self.what, self._headline(error),
                               delay, self.max_delay, exc_info=error if self._worth_traceback(error) else None,
                               extra={"event": "outage.start"})
        elif now - self._last_said >= self.remind_every:
            self._last_said = now
            self.log.warning("%s: %s, still retrying (%d attempts over %.0fs): %s", self.what, self._subject(error),
                             self.failures, now - self._since, short(error), extra={"event": "outage.ongoing"})
        return delay

    def succeeded(self) -> None:
        """The loop worked: after failures, say so once and start the back-off again from the start."""
        if self.failures == 0:
            return
        self.log.warning("%s works again after %d failed attempts over %.0fs", self.what, self.failures,
                         self.clock() - self._since, extra={"event": "outage.end"})
        self.failures, self._kind = 0, None

    def waiting(self) -> bool:
        """True while backing off (for loops driven by someone else's timer, like the scheduler's)."""
        return self.failures > 0 and self.clock() < self._retry_at

    def _worth_traceback(self, error: BaseException) -> bool:
        return self.traceback and not isinstance(getattr(error, "orig", None), NotStarted)

    def _subject(self, error: BaseException) -> str:
        return "database unreachable" if is_database_error(error) else "failing"

    def _headline(self, error: BaseException) -> str:
        return "database unreachable" if is_database_error(error) else short(error)
