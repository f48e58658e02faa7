"""A serving process that starts while PostgreSQL is unreachable comes up without it.

Twilio does not send an inbound webhook again, so a process that refused to start during an
outage lost messages: worse, with ``chorus serve --processes N`` the process uvicorn starts in
place of one that died failed its start-up on the database, and uvicorn then stopped them
all. Now, when the database is *unreachable* at start (refused, no answer in time, not
accepting connections: :func:`bot.outage.is_unreachable`), the process serves anyway, with one
WARNING: ``/health`` answers, ``/ready`` says 503 and why, and webhooks are kept in the
encrypted spool (bot/spool.py). Its start-up (the migrations, the keys check, publishing the
studies) is retried in the background, logged as bot/outage.py's loops are, and once it is
done the process wakes its loops: the spool is stored, the inbox processed, replies sent.

Until then the process's database is a :class:`GatedDatabase`: every use fails as if the
server were unreachable, so the inbox worker, the dispatcher and the scheduler back off as in
any outage, and nothing runs on a schema not yet migrated or before the studies are
published. Any other problem at start (a wrong password, a database that does not exist,
SQLite) stops the process as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.outage import NotStarted, Outage, is_database_error, is_unreachable, short
from storage.database import Database

log = logging.getLogger("chorus.start")
NOT_STARTED = "this process has not finished starting on the database"


class GatedDatabase(Database):
    """The process's database, closed until its start-up is done (:attr:`started`), except
    to the start-up itself (:meth:`starting`, on its own thread)."""

    def __init__(self, url: str, sealer: Any = None) -> None:
        super().__init__(url, sealer=sealer)
        self.started = False
        self._starter = threading.local()

    @contextmanager
    def starting(self) -> Iterator[GatedDatabase]:
        self._starter.here = True
        try:
            yield self
        finally:
            self._starter.here = False

    def _check(self) -> None:
        if not self.started and not getattr(self._starter, "here", False):
            raise OperationalError(None, None, NotStarted(NOT_STARTED))

    @contextmanager
    def transaction(self, wait: bool = True) -> Iterator[Connection]:
        self._check()
        with super().transaction(wait) as connection:
            yield connection

    @contextmanager
    def read_transaction(self) -> Iterator[Connection]:
        self._check()
        with super().read_transaction() as connection:
            yield connection

    @contextmanager
    def reading(self) -> Iterator[Session]:
        self._check()
        with super().reading() as session:
            yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        self._check()
        with super().session() as session:
            yield session


@dataclass
class DeferredStart:
    """A process's start-up on the database, tried now and, if the database is unreachable,
    again in the background until it works."""

    database: GatedDatabase
    work: Callable[[bool], None]
    """The start-up (migrations, publishing); its argument: check the keys too (the background's attempts)."""
    outage: Outage = field(default_factory=lambda: Outage(log, "starting on the database", first_delay=0.5,
                                                          max_delay=5.0, traceback=False))
    problem: str | None = None
    """Why the start-up waits (for /ready: the last failure's kind, never its text), None once done."""
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def attempt(self, check_keys: bool = True) -> None:
        with self.database.starting():
            self.work(check_keys)
        self.database.started, self.problem = True, None

    def now_or_later(self) -> bool:
        """Start now; False when the database is unreachable (said in one WARNING) and the
        start-up is left to :meth:`begin`. Any other failure is raised, as before."""
        try:
            self.attempt(check_keys=False)  # (chorus serve checked them, or will say the database was unreachable)
            return True
        except Exception as error:
            if not self.database.is_postgres or not is_unreachable(error):
                raise
            self._waiting_because(error)
            self.outage.failed(error, said=True)
            log.warning("the database is unreachable (%s): serving without it; webhooks are kept in the encrypted "
                        "spool, /ready says 503, and this process finishes starting once it answers",
                        short(error), extra={"event": "start.without_database"})
            return False

    def _waiting_because(self, error: BaseException) -> None:
        kind = type(error).__name__
        self.problem = (f"database: {kind} (this process finishes starting once it answers)" if is_database_error(error)
                        else f"start-up: {kind} (retrying)")

    def reason(self) -> str | None:
        """For /ready: why this process is not started yet, or None."""
        return self.problem

    def begin(self, then: Callable[[], Awaitable[None]]) -> None:
        """Retry in the background (on the running loop); ``then`` once started."""
        self._task = asyncio.get_running_loop().create_task(self._keep_trying(then), name="chorus-start-up")

    async def _keep_trying(self, then: Callable[[], Awaitable[None]]) -> None:
        delay = self.outage.first_delay
        while True:
            await asyncio.sleep(delay)
            try:
                await asyncio.to_thread(self.attempt)
            except Exception as error:  # unreachable still, or another problem: logged as loops do (bot/outage.py)
                self._waiting_because(error)
                delay = self.outage.failed(error)
                continue
            break
        self.outage.succeeded()
        log.info("started on the database: schema up to date, studies published; what waited is processed now",
                 extra={"event": "start.finished"})
        await then()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


async def wake_the_loops(state: Any, alone: bool) -> None:
    """Once started: store the spool, look at the inbox and the outbox now, and pick up the
    voice notes left waiting (the voice pipeline's own look at start failed on the gate)."""
    hub = getattr(state, "channels", None)
    if hub is not None:
        for loop in (hub.replayer, hub.inbox, hub.dispatcher):
            if loop is not None:
                loop.nudge()
    voice = getattr(state, "voice", None)
    if voice is not None:
        try:
            await voice.recover(alone=alone)
        except Exception:
            log.exception("could not pick up the voice notes left waiting")
