"""The inbox worker: process stored messages off the webhook's path, and lose none.

A webhook only stores its message (``ConversationService.accept``: one short
transaction) and answers; this worker then runs each message through the conversation.
So a burst above capacity waits in the ``inbound_messages`` table, not in memory, and
the providers get their answer within their timeouts (Twilio allows 15 s) however long
the backlog is.

* The table is the queue. The worker reads at most ``batch`` messages still
  ``received``, oldest first (none behind a voice note of its sender's still waiting for
  its transcript: the voice pipeline processes those after it), and only when it has
  room: at most ``max_in_flight`` participants are handled at once (back-pressure: what
  it cannot take yet stays on disk, so memory does not grow with the backlog).
* Group commit: what was read is processed in batches, ONE transaction each
  (``ConversationService.process_batch``), so a burst costs one commit per batch rather
  than one per message. One participant's messages go in order within a batch, and a
  participant is in one batch at a time; on PostgreSQL the participants are split over up
  to four batches processed in parallel on a small thread pool (one on SQLite: one writer
  at a time anyway).
* Exactly once: ``process_batch`` claims its messages (still ``received``) inside the
  transaction that writes their answers, replies and new status. A crash mid-way rolls
  that transaction back, and the messages are picked up again at the next start, because
  ``received`` rows are all this worker ever looks for.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.edit_notices import forget_words_of_edit
from bot.inbound import VOICE_HOLD
from bot.outage import Outage, is_database_error
from bot.service import ConversationService, ReceiveResult
from channels.base import InboundMessage
from storage import repository
from storage.database import Database, WriterBusy

log = logging.getLogger("chorus.inbox")
Pending = tuple[InboundMessage, "asyncio.Future[ReceiveResult]"]


def _messages(batch: list[Pending]) -> list[InboundMessage]:
    return [message for message, _ in batch]


class InboxWriter:
    """Stores webhook messages in batches: all that arrived while the last batch was being
    written go in the next transaction, so a burst costs one commit per batch rather than
    one per message, and webhooks do not queue one by one for SQLite's single writer.
    :meth:`store` returns once its message is committed. At most ``max_waiting`` messages
    wait in memory; beyond that a webhook waits to be queued (back-pressure).

    When the load is light (a batch of at most ``process_up_to`` and the inbox worker not
    behind), the same transaction also runs the messages through their flows
    (``ConversationService.accept_many(process=True)``): one commit instead of two, no
    hand-over to the worker, and the reply is committed when the webhook is answered. A
    burst is only stored, so webhooks are still answered quickly, and the worker drains it.

    Batches are written one at a time, in a thread (PostgreSQL): when one is committed, the
    messages that arrived meanwhile go to the thread as the next batch *before* the last
    one's webhooks are answered, so the thread's round trips to the database overlap the
    loop's answering. (Two batches written at once, in two threads, cost more CPU per
    message than they saved: the threads contend for the one interpreter lock.)

    With ``on_loop`` (SQLite, whose single writer serialises the batches anyway) a batch is
    written on the event loop itself when no other writer holds the database, and in a
    thread otherwise: handing each batch to a thread and back cost as much as a third of
    the work, and two threads of one process contend for its one interpreter lock. A
    batch holds the loop for a few milliseconds (at most ``process_up_to`` messages are
    processed at once; a larger one is only stored). A batch that held it longer than
    ``slow_batch`` seconds (a flow drawing charts, a very large study) sends the batches of
    the next ``slow_pause`` seconds to a thread, so webhooks and the desk stay responsive.

    With ``on_loop`` and ``give_up_after``: a batch its thread has not written in so many
    seconds (another process holds SQLite's write lock, whose busy timeout is 30 s, past
    Twilio's 15-second webhook timeout) is given up on: its webhooks and those queued behind
    it, in the order they came, are told :class:`WriterBusy` (they spool their messages and
    answer: bot/webhooks.py), as is any that comes while that batch still waits. The batch
    goes on; if it commits after all, ``on_late`` gets its results (the spooled copies are
    duplicates when replayed)."""

    slow_batch = 0.1
    slow_pause = 5.0

    def __init__(self, service: ConversationService, max_batch: int = 200, max_waiting: int = 2000,
                 process_up_to: int = 0, behind: Callable[[], bool] = lambda: False, on_loop: bool = False,
                 give_up_after: float | None = None, on_late: Callable[[list[ReceiveResult]], None] = lambda results: None) -> None:
        self.service = service
        self.max_batch = max_batch
        self.process_up_to = process_up_to
        """Batches of at most this many are also processed in their storing transaction (when
        the inbox worker is not ``behind``); larger ones, a burst, are only stored."""
        self.behind = behind
        self.on_loop = on_loop and service.database.is_sqlite
        """PostgreSQL has no single writer: waiting for its round trips would hold up the loop."""
        self._in_thread_until = 0.0
        """While the loop's clock is before this, batches go to a thread (after a slow one)."""
        self.give_up_after = give_up_after if self.on_loop else None
        self.on_late = on_late
        self._given_up: asyncio.Future[list[ReceiveResult]] | None = None
        """The batch given up on (:meth:`_give_up`), still being written in the thread."""
        self._queue: asyncio.Queue[Pending] = asyncio.Queue(max_waiting)
        self._task: asyncio.Task[None] | None = None
        # Its own thread: in asyncio's default pool a webhook's batch could wait behind
        # anything else (a provider's send hanging for its whole timeout), past the
        # provider's own webhook timeout. One batch is written at a time, so one thread.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="chorus-inbox-writer")

    async def store(self, message: InboundMessage) -> ReceiveResult:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._write(), name="chorus-inbox-writer")
        future: asyncio.Future[ReceiveResult] = asyncio.get_running_loop().create_future()
        await self._queue.put((message, future))
        return await future

    async def _write(self) -> None:
        # the batch being written in a thread, and its results to come
        writing: tuple[list[Pending], asyncio.Future[list[ReceiveResult]]] | None = None
        while True:
            if writing is None:
                first = await self._queue.get()
                await asyncio.sleep(0)  # let webhooks already read join this batch
                batch = [first, *self._queued(self.max_batch - 1)]
                if self._given_up is not None and not self._given_up.done():  # it still holds the writer's thread
                    self._answer(batch, WriterBusy("a batch given up on still waits for the database"))
                    continue
                try:
                    results = self._write_here(batch) if self.on_loop else None
                except Exception as error:  # the database went away, say: answer these webhooks, as below
                    self._answer(batch, error)
                    continue
                if results is not None:
                    self._answer(batch, results)
                    await asyncio.sleep(0)  # answer these webhooks before writing the next batch
                    continue
                writing = batch, self._in_thread(batch)
            batch, written = writing
            try:
                results = await (written if self.give_up_after is None else self._in_time(written))
            except WriterBusy as error:  # given up on: these webhooks spool their messages
                self._give_up(batch, written, error)
                writing = None
                continue
            except Exception as error:  # the webhooks answer 500 and the providers send them again
                self._answer(batch, error)
                writing = None
                continue
            # What arrived meanwhile goes to the thread before these webhooks are answered: it
            # waits for the database while the loop answers them. (Not when batches are written
            # on the loop: the next one is tried there.)
            following = [] if self.on_loop else self._queued(self.max_batch)
            writing = (following, self._in_thread(following)) if following else None
            self._answer(batch, results)

    async def _in_time(self, written: asyncio.Future[list[ReceiveResult]]) -> list[ReceiveResult]:
        try:
            return await asyncio.wait_for(asyncio.shield(written), self.give_up_after)
        except TimeoutError:
            raise WriterBusy(f"not written in {self.give_up_after} s") from None

    def _give_up(self, batch: list[Pending], written: asyncio.Future[list[ReceiveResult]], error: WriterBusy) -> None:
        """Answer the batch and every message queued behind it with ``error``, in the order they
        came (those queued are not written); hand the batch's results to ``on_late`` if it commits."""
        self._answer([*batch, *self._queued(self._queue.qsize())], error)
        self._given_up = written

        def late(future: asyncio.Future[list[ReceiveResult]]) -> None:
            if not future.cancelled() and future.exception() is None:
                self.on_late(future.result())

        written.add_done_callback(late)

    def _queued(self, room: int) -> list[Pending]:
        """Up to ``room`` of the messages waiting, without waiting for one."""
        batch: list[Pending] = []
        while len(batch) < room and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    def _process(self, batch: list[Pending]) -> bool:
        """Process as well as store: a small batch, while the inbox worker is not behind."""
        return len(batch) <= self.process_up_to and not self.behind()

    def _in_thread(self, batch: list[Pending]) -> asyncio.Future[list[ReceiveResult]]:
        """The batch handed to the writer's thread now (as ``asyncio.to_thread``, without waiting to be scheduled)."""
        call = functools.partial(contextvars.copy_context().run, self.service.accept_many, _messages(batch), self._process(batch))
        return asyncio.get_running_loop().run_in_executor(self._thread, call)

    @staticmethod
    def _answer(batch: list[Pending], outcome: list[ReceiveResult] | Exception) -> None:
        """Each webhook of the batch its result, or the batch's error."""
        for index, (_, future) in enumerate(batch):
            if not future.done():
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome[index])

    def _write_here(self, batch: list[Pending]) -> list[ReceiveResult] | None:
        """The batch written on the event loop, or None if another writer holds the database
        (or a recent batch held the loop too long)."""
        now = asyncio.get_running_loop().time()
        if now < self._in_thread_until:
            return None
        started = time.thread_time()  # CPU, not wall time: a busy machine's scheduling is not the batch's doing
        try:
            return self.service.accept_many(_messages(batch), self._process(batch), wait=False)
        except WriterBusy:
            return None
        finally:
            took = time.thread_time() - started
            if took > self.slow_batch:
                log.info("a batch of %d held the event loop for %.0f ms: the next %.0f s of batches go to a thread",
                         len(batch), took * 1000, self.slow_pause)
                self._in_thread_until = now + took + self.slow_pause

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._thread.shutdown(wait=False)


@dataclass
class InboxStats:
    processed: int = 0
    failed: int = 0


@dataclass
class InboxWorker:
    database: Database
    service: ConversationService
    on_queued: Callable[[ReceiveResult], None] = lambda result: None
    """Called (on the event loop) after each message: nudge the dispatcher, start a voice note."""
    batch: int = 200
    max_in_flight: int = 32
    threads: int | None = None
    """Threads (and batches at once) processing messages: 1 on SQLite (one writer at a time anyway), 4 on PostgreSQL."""
    poll_interval: float = 1.0
    stats: InboxStats = field(default_factory=InboxStats)

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._threads = self.threads or (4 if self.database.is_postgres else 1)
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="chorus-inbox")
        self._stopping = False
        self._outage = Outage(log, "reading the inbox")
        self._nudged = False
        self._database_away = False
        """Backing off because the database was unreachable (a nudge, a message just stored, says it is back)."""
        self._processing = Outage(log, "processing messages", traceback=False)  # SQL parameters hold what people wrote
        self._stopped = asyncio.Event()

    def nudge(self) -> None:
        """A message was stored: look now rather than at the next poll, and, if the worker is
        backing off from an unreachable database, now rather than at the end of its back-off
        (the store shows the database answers again: a spool replayed, the start-up done)."""
        self._nudged = True
        self._wake.set()

    def behind(self) -> bool:
        """True while the worker has as many participants in hand as it may: a backlog."""
        return len(self._in_flight) >= self.max_in_flight

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before taking: a nudge that comes while we read the inbox is not lost
            try:
                taken = await self.take_once()
            except Exception as error:  # the database went away, say: back off, quietly (bot/outage.py)
                self._database_away = is_database_error(error)
                await self._pause(self._outage.failed(error))
                continue
            self._outage.succeeded()
            if taken == 0 or len(self._in_flight) >= self.max_in_flight:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def _pause(self, seconds: float) -> None:
        """Wait out a back-off. Stopping cuts it short, and so does a nudge when the database was
        unreachable (it answers again); after any other failure nudges do not (the next read sees their messages)."""
        deadline = asyncio.get_running_loop().time() + seconds
        self._nudged = False
        while not self._stopping and (left := deadline - asyncio.get_running_loop().time()) > 0:
            if self._nudged and self._database_away:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), left)

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        self._pool.shutdown(wait=True)

    async def drain(self, timeout: float = 60.0) -> InboxStats:
        """Process everything stored now and wait for it (for tests)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            taken = await self.take_once()
            if self._in_flight:
                await asyncio.wait(list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED)
            elif taken == 0:
                return self.stats
        raise TimeoutError("the inbox did not drain in time")

    async def take_once(self) -> int:
        """Start on waiting messages of participants not already in hand. Returns how many."""
        room = self.max_in_flight - len(self._in_flight)
        if room <= 0:
            return 0
        waiting = await asyncio.get_running_loop().run_in_executor(self._pool, self._waiting, list(self._in_flight))
        by_participant: dict[str, list[int]] = {}
        for inbound_id, participant_id in waiting:
            if participant_id in self._in_flight:  # started by a concurrent take (drain and run at once)
                continue
            if participant_id in by_participant or len(by_participant) < room:
                by_participant.setdefault(participant_id, []).append(inbound_id)
        people = list(by_participant)
        for share in (people[n::self._threads] for n in range(min(self._threads, len(people)))):
            work = [(inbound_id, pid) for pid in share for inbound_id in by_participant[pid]]
            work.sort()  # oldest first, which keeps each participant's messages in order
            task = asyncio.create_task(self._process_batch(work))
            for pid in share:
                self._in_flight[pid] = task
                task.add_done_callback(self._finished(pid))
        return sum(len(ids) for ids in by_participant.values())

    def _waiting(self, busy: Sequence[str]) -> list[tuple[int, str]]:
        """Messages whose turn has come, oldest first: not one behind its sender's voice note
        still being transcribed (the voice pipeline processes those once it is done)."""
        held_since = self.service.clock() - VOICE_HOLD
        with self.database.read_transaction() as connection:  # not in the writers' queue (SQLite)
            return repository.messages_in_turn(connection, held_since, self.batch, busy=busy)

    async def _process_batch(self, work: list[tuple[int, str]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self._pool, self.service.process_batch, work)
        except Exception as error:  # not a flow error (those come back as 'failed'): nothing was written
            if is_database_error(error):  # the database's fault, not the messages': they stay 'received'
                await self._wait_for_the_database(error)
                return
            log.exception("a batch of %d messages could not be processed; trying them one at a time", len(work))
            results = []
            for item in work:
                result = await self._process_alone(item)
                if result is None:  # the database failed: this one and those after it wait, in order
                    break
                results.append(result)
        self._processing.succeeded()
        for result in results:
            if result.status == "failed":
                self.stats.failed += 1
            elif result.status != "duplicate":
                self.stats.processed += 1
            if result.status != "duplicate":
                log.debug("message %s from %s: %s", result.inbound_id, result.participant_id, result.status)
            self.on_queued(result)

    async def _process_alone(self, item: tuple[int, str]) -> ReceiveResult | None:
        """The message processed, or marked failed if it cannot be; None (left 'received') if the database failed."""
        loop = asyncio.get_running_loop()
        try:
            return (await loop.run_in_executor(self._pool, self.service.process_batch, [item]))[0]
        except Exception as error:  # never retry it forever, unless the database was at fault
            if is_database_error(error):
                await self._wait_for_the_database(error)
                return None
            log.exception("message %s could not be processed", item[0])
            await loop.run_in_executor(self._pool, self._give_up, item[0], error)
            return ReceiveResult("failed", item[0])

    async def _wait_for_the_database(self, error: Exception) -> None:
        """A connection dropped, a server restarting, a deadlock: the messages are left
        'received' and taken again after a back-off (their participants held till then; a stop cuts it short)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), self._processing.failed(error))

    def _give_up(self, inbound_id: int, error: Exception) -> None:
        with self.database.transaction() as connection:
            repository.set_inbound_status(connection, inbound_id, "failed", self.service.clock(), type(error).__name__)
            forget_words_of_edit(connection, inbound_id)  # never read again: nothing of what an edit said is kept

    def _finished(self, participant_id: str) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._in_flight.pop(participant_id, None)
            self._wake.set()  # room for more
            if not task.cancelled() and task.exception() is not None:
                log.error("processing messages of %s failed: %r", participant_id, task.exception())

        return done
